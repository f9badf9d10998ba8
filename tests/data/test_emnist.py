"""EMNIST gzip IDX: transposed storage, inverted polarity, sibling files, corrupt files."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from hanzicheck.data.formats.emnist import read_emnist, write_emnist
from hanzicheck.data.formats.members import DataFormatError
from hanzicheck.data.sample import Sample


def _write_raw(folder, stored: np.ndarray, labels: list[int], mapping: str | None) -> None:
    """EMNIST files written by hand, exactly as distributed (light ink on black, transposed)."""
    with gzip.open(folder / "emnist-letters-train-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">4I", 0x803, *stored.shape) + stored.tobytes())
    with gzip.open(folder / "emnist-letters-train-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">2I", 0x801, len(labels)) + bytes(labels))
    if mapping is not None:
        (folder / "emnist-letters-mapping.txt").write_text(mapping)


def test_images_are_transposed_back_and_inverted(tmp_path):
    stored = np.zeros((1, 28, 28), np.uint8)
    stored[0, 3, 20] = 255  # stored transposed: row 3, column 20 is upright row 20, column 3
    _write_raw(tmp_path, stored, [1], "1 65 97\n")
    (sample,) = read_emnist(tmp_path)
    assert sample.label == "A"
    assert sample.image[20, 3] == 0  # ink is dark
    assert sample.image[3, 20] == 255 and (sample.image == 255).sum() == 28 * 28 - 1


def test_images_file_path_finds_its_siblings(tmp_path):
    _write_raw(tmp_path, np.zeros((2, 28, 28), np.uint8), [1, 2], "1 65 97\n2 66 98\n")
    samples = list(read_emnist(tmp_path / "emnist-letters-train-images-idx3-ubyte.gz"))
    assert [s.label for s in samples] == ["A", "B"]


def test_round_trip_through_writer(tmp_path):
    rng = np.random.default_rng(0)
    samples = [Sample(rng.integers(0, 256, (28, 28), dtype=np.uint8), c) for c in "a0Zb"]
    images = write_emnist(tmp_path, samples)
    back = list(read_emnist(images))
    assert [s.label for s in back] == list("a0Zb")
    assert all(np.array_equal(a.image, b.image) for a, b in zip(samples, back, strict=True))


def test_non_square_images_keep_their_orientation(tmp_path):
    image = np.full((10, 6), 255, np.uint8)
    image[9, 0] = 0
    (back,) = read_emnist(write_emnist(tmp_path, [Sample(image, "x")]))
    assert back.image.shape == (10, 6) and back.image[9, 0] == 0


def test_digits_without_mapping_file_are_their_digit(tmp_path):
    _write_raw(tmp_path, np.zeros((2, 28, 28), np.uint8), [7, 3], None)
    assert [s.label for s in read_emnist(tmp_path)] == ["7", "3"]


def test_missing_labels_file_is_named(tmp_path):
    _write_raw(tmp_path, np.zeros((1, 28, 28), np.uint8), [1], "1 65 97\n")
    (tmp_path / "emnist-letters-train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataFormatError, match="labels-idx1-ubyte.gz is missing"):
        list(read_emnist(tmp_path))


def test_truncated_images_file_names_the_offset(tmp_path):
    _write_raw(tmp_path, np.zeros((2, 28, 28), np.uint8), [1, 1], "1 65 97\n")
    path = tmp_path / "emnist-letters-train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[:16 + 784 + 100]))
    with pytest.raises(DataFormatError, match=r"images-idx3-ubyte\.gz: offset 800: truncated image 1 of 2"):
        list(read_emnist(tmp_path))


def test_wrong_magic_is_rejected(tmp_path):
    _write_raw(tmp_path, np.zeros((1, 28, 28), np.uint8), [1], "1 65 97\n")
    path = tmp_path / "emnist-letters-train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(b"\0\0\x08\x01" + gzip.decompress(path.read_bytes())[4:]))
    with pytest.raises(DataFormatError, match="magic 0x00000801, expected 0x00000803"):
        list(read_emnist(tmp_path))
