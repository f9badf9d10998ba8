"""CASIA-HWDB .gnt: round trips through our writer, both tag byte orders, archives, folders, corrupt files."""

from __future__ import annotations

import struct
import zipfile

import numpy as np
import pytest

from hanzicheck.data.formats.gnt import detect_tag_order, encode_tag, read_gnt, write_gnt
from hanzicheck.data.formats.members import DataFormatError
from hanzicheck.data.sample import Sample

CHARS = "我你好大小人口日月中国学"


def _samples(chars: str = CHARS, seed: int = 0) -> list[Sample]:
    rng = np.random.default_rng(seed)
    return [Sample(rng.integers(0, 256, (20 + i, 15 + 2 * i), dtype=np.uint8), c) for i, c in enumerate(chars)]


@pytest.mark.parametrize("order", ["gb2312", "reversed"])
def test_round_trip_in_either_tag_order(tmp_path, order):
    samples = _samples()
    write_gnt(tmp_path / "1001-c.gnt", samples, tag_order=order)
    back = list(read_gnt(tmp_path / "1001-c.gnt"))
    assert [s.label for s in back] == list(CHARS)
    assert all(np.array_equal(a.image, b.image) for a, b in zip(samples, back, strict=True))
    assert {s.writer for s in back} == {"1001"}


def test_tag_order_is_detected_per_file(tmp_path):
    write_gnt(tmp_path / "001-f.gnt", _samples(), tag_order="gb2312")
    write_gnt(tmp_path / "002-f.gnt", _samples("山水火木土", 1) + _samples(CHARS, 2), tag_order="reversed")
    back = list(read_gnt(tmp_path))
    assert "".join(s.label for s in back) == CHARS + "山水火木土" + CHARS
    assert [s.writer for s in back].count("002") == 5 + len(CHARS)


def test_swapped_codes_that_also_decode_are_told_apart():
    # 我 is CE D2; swapped, D2 CE is 椅: both decode, the common level-1 lead byte decides
    tags = [(0, encode_tag(c, "reversed")) for c in "我好学生"]
    assert detect_tag_order(tags, "x.gnt", prefer="gb2312") == "reversed"


def test_short_ambiguous_file_follows_the_order_of_the_files_before_it(tmp_path):
    # one record of 我 low byte first reads as 椅 high byte first: alone it is a tie, in a folder it is not
    write_gnt(tmp_path / "001-c.gnt", _samples(), tag_order="reversed")
    write_gnt(tmp_path / "002-c.gnt", _samples("我"), tag_order="reversed")
    assert [s.label for s in read_gnt(tmp_path / "002-c.gnt")] == ["椅"]
    assert [s.label for s in read_gnt(tmp_path)][-1] == "我"


def test_tag_order_can_be_fixed_by_the_caller(tmp_path):
    write_gnt(tmp_path / "a.gnt", _samples("我"), tag_order="reversed")
    assert [s.label for s in read_gnt(tmp_path / "a.gnt", tag_order="reversed")] == ["我"]
    with pytest.raises(ValueError, match="tag order 'swapped'"):
        list(read_gnt(tmp_path / "a.gnt", tag_order="swapped"))


def test_ascii_tags_are_read_as_their_character(tmp_path):
    write_gnt(tmp_path / "a.gnt", _samples("中国A7", 3))
    assert [s.label for s in read_gnt(tmp_path / "a.gnt")] == ["中", "国", "A", "7"]


def test_undecodable_tag_inside_a_file_is_skipped_with_a_warning(tmp_path):
    path = tmp_path / "a.gnt"
    write_gnt(path, _samples())
    with path.open("ab") as f:
        f.write(struct.pack("<I2sHH", 10 + 4, b"\xff\xff", 2, 2) + bytes(4))
    with pytest.warns(UserWarning, match=r"skipped 1 records .* offset"):
        labels = [s.label for s in read_gnt(path)]
    assert labels == list(CHARS)


def test_file_whose_tags_fit_neither_order_is_rejected(tmp_path):
    path = tmp_path / "bad.gnt"
    with path.open("wb") as f:
        for _ in range(3):
            f.write(struct.pack("<I2sHH", 10 + 4, b"\x81\x30", 2, 2) + bytes(4))
    with pytest.raises(DataFormatError, match=r"bad\.gnt: offset 0: tag 0x8130 .* neither byte order"):
        list(read_gnt(path))


def test_size_mismatch_names_file_and_offset(tmp_path):
    path = tmp_path / "a.gnt"
    write_gnt(path, _samples("我你"))
    data = bytearray(path.read_bytes())
    second = 10 + 20 * 15
    data[second:second + 4] = struct.pack("<I", 999)
    path.write_bytes(bytes(data))
    with pytest.raises(DataFormatError, match=rf"a\.gnt: offset {second}: size field 999"):
        list(read_gnt(path))


@pytest.mark.parametrize("cut", [5, 100])
def test_truncated_file_names_file_and_offset(tmp_path, cut):
    path = tmp_path / "a.gnt"
    write_gnt(path, _samples("我你"))
    second = 10 + 20 * 15
    path.write_bytes(path.read_bytes()[:second + cut])
    with pytest.raises(DataFormatError, match=rf"a\.gnt: offset {second}: truncated"):
        list(read_gnt(path))


def test_zip_archive_members_are_read_in_place(tmp_path):
    write_gnt(tmp_path / "1001-c.gnt", _samples())
    write_gnt(tmp_path / "1002-c.gnt", _samples("山水", 4), tag_order="reversed")
    archive = tmp_path / "HWDB1.1tst_gnt.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(tmp_path / "1001-c.gnt", "HWDB1.1tst_gnt/1001-c.gnt")
        z.write(tmp_path / "1002-c.gnt", "HWDB1.1tst_gnt/1002-c.gnt")
    back = list(read_gnt(archive))
    assert "".join(s.label for s in back) == CHARS + "山水"
    assert [s.writer for s in back][-1] == "1002"
    assert np.array_equal(back[0].image, _samples()[0].image)


def test_limit_stops_early(tmp_path):
    write_gnt(tmp_path / "a.gnt", _samples())
    assert len(list(read_gnt(tmp_path / "a.gnt", limit=3))) == 3


def test_writer_refuses_labels_without_gb2312_code(tmp_path):
    with pytest.raises(ValueError, match="GB2312"):
        write_gnt(tmp_path / "a.gnt", [Sample(np.zeros((2, 2), np.uint8), "😀")])

