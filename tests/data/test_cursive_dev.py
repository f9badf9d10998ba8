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


def test_verify_pairs_score_each_drawing_four_ways_and_name_real_files(tmp_path):
    import csv

    try:
        table = cursive_dev.save_pairs(tmp_path / "pairs.csv", per_char=1, seed=0)
    except DownloadError as e:
        pytest.skip(f"stroke data unavailable: {e}")
    with table.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    kinds = {k: [r for r in rows if r["kind"] == k] for k in ("genuine", "wrong_char", "lookalike", "missing_stroke")}
    assert len(kinds["genuine"]) == len(kinds["wrong_char"]) == len(kinds["missing_stroke"]) > 100
    assert 0 < len(kinds["lookalike"]) < len(kinds["genuine"])  # only characters with a look-alike in HSK1
    genuine = {r["file"]: r["target"] for r in kinds["genuine"]}
    assert all(genuine[r["file"]] != r["target"] for r in kinds["wrong_char"] + kinds["lookalike"])
    assert all(r["file"] not in genuine for r in kinds["missing_stroke"])  # a drawing of its own
    assert all((table.parent / r["file"]).is_file() and r["file"].startswith("pairs_images/") for r in rows)
    with pytest.raises(FileExistsError, match="pairs.csv exists"):
        cursive_dev.save_pairs(tmp_path / "pairs.csv", per_char=1)
