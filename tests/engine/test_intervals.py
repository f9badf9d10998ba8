"""Paired bootstrap over writers: the change between two models judged on the same samples."""

import numpy as np
import pytest

from hanzicheck.engine.intervals import paired_difference


def test_the_same_answers_change_nothing():
    writers = np.repeat(np.arange(8), 10)
    hits = np.arange(80) % 3 == 0
    assert paired_difference(hits, hits, writers) == (0.0, 0.0, 0.0)


def test_a_gain_every_writer_shares_has_an_interval_above_zero():
    writers = np.repeat(np.arange(20), 10)
    a = np.zeros(200, bool)
    b = a.copy()
    b[::10] = True  # one more right answer for every writer
    change, lo, hi = paired_difference(a, b, writers)
    assert change == pytest.approx(0.1) and 0 < lo <= hi


def test_a_gain_of_one_writer_alone_is_not_a_sure_thing():
    writers = np.repeat(np.arange(20), 10)
    a = np.zeros(200, bool)
    b = a.copy()
    b[:10] = True  # writer 0 only
    change, lo, hi = paired_difference(a, b, writers)
    assert change == pytest.approx(0.05) and lo == 0.0 < hi


def test_hits_of_different_samples_are_refused():
    with pytest.raises(ValueError, match="differ in length"):
        paired_difference(np.ones(3, bool), np.ones(4, bool), np.arange(3))
