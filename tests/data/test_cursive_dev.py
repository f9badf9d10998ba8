"""The cursive dev set and the writer bootstrap that reports on it."""

from __future__ import annotations

import numpy as np
import pytest

from hanzicheck.data import cursive_dev
from hanzicheck.data.charset import hsk1_chars, is_hsk1
from hanzicheck.data.download import DownloadError
from hanzicheck.engine.intervals import writer_interval


def test_the_cursive_source_covers_every_character_per_writer_and_other_hanzi(tmp_path):
    try:
        path = cursive_dev.save(tmp_path / "c.npz", "cursive", per_char=1, unknown=12)
    except DownloadError as e:
        pytest.skip(f"stroke data unavailable: {e}")
    with np.load(path) as z:
        images, labels, writers = z["images"], z["labels"], z["writers"]
    assert images.dtype == np.uint8 and images.shape[1:] == (64, 64)
    assert tuple(labels[:178].tolist()) == tuple(hsk1_chars())
    assert not any(is_hsk1(c) for c in labels[178:]) and len(labels) == 190
    assert set(writers.tolist()) == {"cursive00"}


def test_an_unknown_source_is_refused():
    with pytest.raises(ValueError, match="unknown cursive dev source"):
        cursive_dev.make("neat")


def test_writer_intervals_resample_writers_not_samples():
    writers = np.repeat(np.arange(10), 20)
    hits = np.repeat(np.arange(10) % 2 == 0, 20)  # half the writers always right, half always wrong
    rate, lo, hi = writer_interval(hits, writers, seed=0)
    assert rate == 0.5 and lo < 0.3 and hi > 0.7  # wide: only 10 independent writers
    same = writer_interval(np.ones(200, bool), writers)
    assert same == (1.0, 1.0, 1.0)
