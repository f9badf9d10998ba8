"""CASIA-OLHWDB .pot: round trips with strokes, both tag byte orders, rendering, corrupt files."""

from __future__ import annotations

import struct
import zipfile

import numpy as np
import pytest

from hanzicheck.data.formats.members import DataFormatError
from hanzicheck.data.formats.pot import read_pot, write_pot
from hanzicheck.data.sample import Sample

CHARS = "我你好大小人口日月中国学"


def _samples(chars: str = CHARS) -> list[Sample]:
    rng = np.random.default_rng(0)
    out = []
    for c in chars:
        strokes = [np.cumsum(rng.integers(-20, 21, (int(rng.integers(1, 8)), 2)), axis=0).astype(np.float32) + 500
                   for _ in range(int(rng.integers(1, 6)))]
        out.append(Sample(np.zeros((1, 1), np.uint8), c, strokes=strokes))
    return out


def _same_strokes(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("order", ["reversed", "gb2312"])
def test_round_trip_keeps_labels_strokes_and_writer(tmp_path, order):
    samples = _samples()
    write_pot(tmp_path / "001.pot", samples, tag_order=order)
    back = list(read_pot(tmp_path / "001.pot"))
    assert [s.label for s in back] == list(CHARS)
    assert all(_same_strokes(a.strokes, b.strokes) for a, b in zip(samples, back, strict=True))
    assert {s.writer for s in back} == {"001"}


def test_real_layout_low_byte_first_tag(tmp_path):
    # hand-built record as in OLHWDB1.1: tag 中 = GB2312 D6 D0 stored low byte first, then two zero bytes
    points = [(10, 20), (30, 20), (-1, 0), (20, 5), (20, 40), (-1, 0), (-1, -1)]
    body = struct.pack("<4sH", b"\xd0\xd6\x00\x00", 2) + b"".join(struct.pack("<hh", *p) for p in points)
    (tmp_path / "1001.pot").write_bytes(struct.pack("<H", 2 + len(body)) + body)
    (sample,) = read_pot(tmp_path / "1001.pot")
    assert sample.label == "中"
    assert _same_strokes(sample.strokes, [np.array([[10, 20], [30, 20]], np.float32),
                                          np.array([[20, 5], [20, 40]], np.float32)])


def test_rendered_image_is_dark_ink_on_light_paper(tmp_path):
    write_pot(tmp_path / "001.pot", _samples("大"))
    (sample,) = read_pot(tmp_path / "001.pot", size=48)
    assert sample.image.shape == (48, 48) and sample.image.dtype == np.uint8
    assert sample.image.min() < 50 and np.median(sample.image) == 255


def test_y_grows_downward_in_the_rendering(tmp_path):
    # one stroke along the top edge and a dot far below: ink must be at the top rows
    strokes = [np.array([[0, 0], [100, 0]], np.float32), np.array([[50, 100]], np.float32)]
    write_pot(tmp_path / "001.pot", [Sample(np.zeros((1, 1), np.uint8), "一", strokes=strokes)])
    (sample,) = read_pot(tmp_path / "001.pot")
    ink_rows = np.flatnonzero((sample.image < 128).sum(axis=1) > 20)
    assert ink_rows.max() < 32


def test_file_whose_tags_fit_neither_order_is_rejected(tmp_path):
    body = struct.pack("<4sH", b"\x81\x30\x00\x00", 1) + struct.pack("<6h", 1, 1, -1, 0, -1, -1)
    (tmp_path / "bad.pot").write_bytes((struct.pack("<H", 2 + len(body)) + body) * 2)
    with pytest.raises(DataFormatError, match=r"bad\.pot: offset 0: tag 0x8130 .* neither byte order"):
        list(read_pot(tmp_path / "bad.pot"))


def test_size_field_that_misses_the_end_mark_names_file_and_offset(tmp_path):
    path = tmp_path / "001.pot"
    write_pot(path, _samples("我你"))
    data = bytearray(path.read_bytes())
    (first,) = struct.unpack("<H", data[:2])
    data[first:first + 2] = struct.pack("<H", struct.unpack("<H", data[first:first + 2])[0] - 4)
    path.write_bytes(bytes(data))
    with pytest.raises(DataFormatError, match=rf"001\.pot: offset {first}: record size"):
        list(read_pot(path))


def test_truncated_file_names_file_and_offset(tmp_path):
    path = tmp_path / "001.pot"
    write_pot(path, _samples("我你"))
    (first,) = struct.unpack("<H", path.read_bytes()[:2])
    path.write_bytes(path.read_bytes()[:first + 12])
    with pytest.raises(DataFormatError, match=rf"001\.pot: offset {first}: truncated record"):
        list(read_pot(path))


def test_stroke_count_mismatch_is_an_error(tmp_path):
    body = struct.pack("<4sH", "中".encode("gb2312")[::-1] + b"\0\0", 3) + struct.pack("<6h", 1, 1, -1, 0, -1, -1)
    (tmp_path / "001.pot").write_bytes(struct.pack("<H", 2 + len(body)) + body)
    with pytest.raises(DataFormatError, match="stroke count 3 but 1"):
        list(read_pot(tmp_path / "001.pot"))


def test_folder_and_zip(tmp_path):
    (tmp_path / "pot").mkdir()
    write_pot(tmp_path / "pot" / "001.pot", _samples("我你"))
    write_pot(tmp_path / "pot" / "002.pot", _samples(), tag_order="gb2312")  # orders are detected per file
    back = [(s.label, s.writer) for s in read_pot(tmp_path / "pot")]
    assert back == [("我", "001"), ("你", "001")] + [(c, "002") for c in CHARS]
    with zipfile.ZipFile(tmp_path / "OLHWDB1.1tst_pot.zip", "w") as z:
        z.write(tmp_path / "pot" / "002.pot", "tst/002.pot")
    assert "".join(s.label for s in read_pot(tmp_path / "OLHWDB1.1tst_pot.zip")) == CHARS


def test_tag_order_can_be_fixed_by_the_caller(tmp_path):
    # one record of 我 high byte first reads as 椅 in the verified low-byte-first order unless the caller says
    write_pot(tmp_path / "001.pot", _samples("我"), tag_order="gb2312")
    assert [s.label for s in read_pot(tmp_path / "001.pot")] == ["椅"]
    assert [s.label for s in read_pot(tmp_path / "001.pot", tag_order="gb2312")] == ["我"]
