"""One entry point for all sources: format detection, streaming with a limit, summaries."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from hanzicheck.data.formats.emnist import write_emnist
from hanzicheck.data.formats.folder import write_folder, write_npz
from hanzicheck.data.formats.gnt import write_gnt
from hanzicheck.data.formats.pot import write_pot
from hanzicheck.data.formats.registry import DataFormatError, detect_format, iter_samples, summarize
from hanzicheck.data.sample import Sample

CHARS = "我你好大小人口日月中国学"


def _image_samples(chars: str = CHARS, writer: str = "") -> list[Sample]:
    return [Sample(np.full((28, 28), 255 - i, np.uint8), c, writer) for i, c in enumerate(chars)]


def _stroke_samples(chars: str = CHARS) -> list[Sample]:
    line = [np.array([[0, 0], [10, 10]], np.float32)]
    return [Sample(np.zeros((1, 1), np.uint8), c, strokes=line) for c in chars]


@pytest.fixture
def sources(tmp_path) -> dict[str, object]:
    """One small source of every format, all written by our own writers."""
    (tmp_path / "gnt").mkdir()
    write_gnt(tmp_path / "gnt" / "1001-c.gnt", _image_samples())
    write_gnt(tmp_path / "gnt" / "1002-c.gnt", _image_samples("山水"), tag_order="reversed")
    write_pot(tmp_path / "001.pot", _stroke_samples())
    with zipfile.ZipFile(tmp_path / "pots.zip", "w") as z:
        z.write(tmp_path / "001.pot", "x/001.pot")
    emnist = write_emnist(tmp_path / "emnist", _image_samples("abA1"))
    write_npz(tmp_path / "dev.npz", _image_samples("一二三", "7"))
    write_folder(tmp_path / "pics", _image_samples("一二", "w"))
    return {"gnt_file": tmp_path / "gnt" / "1001-c.gnt", "gnt_dir": tmp_path / "gnt", "pot": tmp_path / "001.pot",
            "pot_zip": tmp_path / "pots.zip", "emnist_dir": tmp_path / "emnist", "emnist_file": emnist,
            "npz": tmp_path / "dev.npz", "folder": tmp_path / "pics", "csv": tmp_path / "pics" / "labels.csv"}


@pytest.mark.parametrize("key,fmt", [("gnt_file", "gnt"), ("gnt_dir", "gnt"), ("pot", "pot"), ("pot_zip", "pot"),
                                     ("emnist_dir", "emnist"), ("emnist_file", "emnist"), ("npz", "npz"),
                                     ("folder", "folder"), ("csv", "folder")])
def test_detect_format(sources, key, fmt):
    assert detect_format(sources[key]) == fmt


def test_unknown_format_lists_the_supported_ones(tmp_path):
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(DataFormatError, match=r"notes\.txt: unknown data format; supported: \.gnt .*labels\.csv"):
        detect_format(tmp_path / "notes.txt")


def test_missing_path_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.gnt does not exist"):
        detect_format(tmp_path / "nope.gnt")


@pytest.mark.parametrize("key", ["gnt_dir", "pot_zip", "emnist_dir", "npz", "folder"])
def test_every_reader_yields_uint8_2d_samples(sources, key):
    samples = list(iter_samples(sources[key]))
    assert samples
    for s in samples:
        assert s.image.dtype == np.uint8 and s.image.ndim == 2 and isinstance(s.label, str) and len(s.label) == 1


def test_limit(sources):
    assert len(list(iter_samples(sources["gnt_dir"], limit=5))) == 5


def test_summary_counts_classes_and_writers(sources):
    summary = summarize(sources["gnt_dir"])
    assert summary == {"format": "gnt", "samples": len(CHARS) + 2, "classes": len(CHARS) + 2, "writers": 2,
                       "counts": {c: 1 for c in sorted(CHARS + "山水")}}


def test_summary_without_writer_ids_counts_none(sources):
    summary = summarize(sources["emnist_dir"])
    assert (summary["format"], summary["samples"], summary["classes"], summary["writers"]) == ("emnist", 4, 4, 0)


def test_stroke_data_folder_is_a_source(tmp_path):
    for char, medians in {"一": [[[100, 500], [900, 500]]], "二": [[[200, 700], [800, 700]], [[100, 200], [900, 200]]]}.items():
        (tmp_path / f"{char}.json").write_text(json.dumps({"strokes": [], "medians": medians, "radStrokes": []}))
    samples = list(iter_samples(tmp_path, format="strokes"))
    assert [s.label for s in samples] == ["一", "二"] and [len(s.strokes) for s in samples] == [1, 2]
    assert samples[0].image.min() == 0


def test_folder_of_zip_archives_as_distributed(tmp_path):
    write_gnt(tmp_path / "1001-c.gnt", _image_samples())
    (tmp_path / "downloads").mkdir()
    with zipfile.ZipFile(tmp_path / "downloads" / "Gnt1.1Test.zip", "w") as z:
        z.write(tmp_path / "1001-c.gnt", "1001-c.gnt")
    with zipfile.ZipFile(tmp_path / "downloads" / "readme.zip", "w") as z:
        z.writestr("readme.txt", "not data")
    assert detect_format(tmp_path / "downloads") == "gnt"
    assert [s.label for s in iter_samples(tmp_path / "downloads")] == list(CHARS)
