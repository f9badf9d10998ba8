"""Our simple formats: image folder + labels.csv, and .npz (including the real dev files)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from hanzicheck.data.formats.folder import read_folder, read_npz, write_folder, write_npz
from hanzicheck.data.formats.registry import DataFormatError, summarize
from hanzicheck.data.sample import Sample


def _samples() -> list[Sample]:
    rng = np.random.default_rng(0)
    return [Sample(rng.integers(0, 256, (12, 12), dtype=np.uint8), c, w) for c, w in zip("我你A", "112", strict=True)]


def test_folder_round_trip(tmp_path):
    write_folder(tmp_path, _samples())
    back = list(read_folder(tmp_path))
    assert [(s.label, s.writer) for s in back] == [("我", "1"), ("你", "1"), ("A", "2")]
    assert all(np.array_equal(a.image, b.image) for a, b in zip(_samples(), back, strict=True))


def test_folder_accepts_the_csv_path_and_no_writer_column(tmp_path):
    Image.new("L", (5, 4), 200).save(tmp_path / "x.png")
    (tmp_path / "labels.csv").write_text("file,label\nx.png,好\n", encoding="utf-8")
    (sample,) = read_folder(tmp_path / "labels.csv")
    assert sample.label == "好" and sample.writer == "" and sample.image.shape == (4, 5)


def test_transparent_rgba_is_composited_on_white(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[0, 0] = (0, 0, 0, 255)  # one opaque black pixel, the rest transparent black
    Image.fromarray(rgba, "RGBA").save(tmp_path / "x.png")
    (tmp_path / "labels.csv").write_text("file,label\nx.png,a\n")
    (sample,) = read_folder(tmp_path)
    assert sample.image[0, 0] == 0 and (sample.image == 255).sum() == 15


def test_missing_image_names_csv_line(tmp_path):
    (tmp_path / "labels.csv").write_text("file,label\nnope.png,a\n")
    with pytest.raises(DataFormatError, match=r"labels\.csv: line 2: nope\.png does not exist"):
        list(read_folder(tmp_path))


def test_bad_header_is_explained(tmp_path):
    (tmp_path / "labels.csv").write_text("name,char\nx.png,a\n")
    with pytest.raises(DataFormatError, match="header must name 'file' and 'label'"):
        list(read_folder(tmp_path))


def test_npz_round_trip(tmp_path):
    write_npz(tmp_path / "s.npz", _samples())
    back = list(read_npz(tmp_path / "s.npz"))
    assert [(s.label, s.writer) for s in back] == [("我", "1"), ("你", "1"), ("A", "2")]
    assert np.array_equal(back[2].image, _samples()[2].image)


def test_npz_without_labels_is_rejected(tmp_path):
    np.savez(tmp_path / "s.npz", images=np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(DataFormatError, match="lacks the array"):
        list(read_npz(tmp_path / "s.npz"))


def test_real_chinese_mnist_dev(real_data):
    path = real_data / "chinese_mnist_dev.npz"
    summary = summarize(path)
    assert (summary["samples"], summary["classes"], summary["writers"]) == (7500, 15, 50)
    assert set(summary["counts"]) == set("零一二三四五六七八九十百千万亿")
    first = next(read_npz(path))
    # pixels as stored (light strokes on black): polarity is preprocessing's job
    assert first.image.shape == (64, 64) and first.image.dtype == np.uint8 and np.median(first.image) < 50
    assert first.writer.isdigit()


def test_real_unipen_latin_dev(real_data):
    summary = summarize(real_data / "unipen_latin_dev.npz")
    assert summary["samples"] == 16158 and summary["classes"] == 62
    assert np.median(next(read_npz(real_data / "unipen_latin_dev.npz")).image) > 200
