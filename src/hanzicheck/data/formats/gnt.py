"""CASIA-HWDB offline handwriting (``.gnt``, HWDB1.0/1.1): streaming reader and writer.

A file is a run of records: uint32 LE size, 2-byte GB2312 tag, uint16 LE width, uint16 LE height, then
width×height uint8 pixels (row-major, background 255); ``size == 10 + w*h``. Files are named by writer
(``1001-c.gnt``).

Published descriptions disagree about the tag's byte order, so each file's order is detected from its first
records: the order in which the tags decode to GB2312 characters, common (level-1) hanzi weighing most. A short
file whose tags fit both orders equally well follows the files of the same folder or archive read before it (all
files of one dataset share an order); ``tag_order=`` fixes the order and skips detection. The tag helpers here are
shared with the ``.pot`` reader. A few HWDB records carry non-GB2312 tags (0xFFFF, or an ASCII character in one
byte with 0 in the other): the ASCII ones become their character, undecodable ones are skipped with a warning.
"""

from __future__ import annotations

import os
import struct
import warnings
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, islice
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..sample import Sample
from .members import DataFormatError, iter_members, writer_from_name

TAG_ORDERS = ("gb2312", "reversed")  # tag bytes as GB2312 encodes them (high byte first), or swapped
PROBE_RECORDS = 32  # records read to decide a file's tag byte order
_HEADER = struct.Struct("<I2sHH")


def decode_tag(tag: bytes, order: str) -> str | None:
    """A 2-byte tag → its character, or None when it is no GB2312 character or ASCII character in this order."""
    a, b = tag if order == "gb2312" else tag[::-1]
    if a >= 0xA1 and b >= 0xA1:
        try:
            char = bytes((a, b)).decode("gb2312")
        except UnicodeDecodeError:
            return None
        return char if len(char) == 1 else None
    if b == 0 and 0x20 < a < 0x7F:  # an ASCII label padded with 0 (either order)
        return chr(a)
    if a == 0 and 0x20 < b < 0x7F:
        return chr(b)
    return None


def _check_order(order: str) -> None:
    if order not in TAG_ORDERS:
        raise ValueError(f"tag order {order!r}: choose one of {', '.join(TAG_ORDERS)}")


def encode_tag(label: str, order: str) -> bytes:
    """The 2-byte tag of a character (GB2312) or ASCII letter/digit (padded with 0), in ``order``."""
    _check_order(order)
    if len(label) == 1 and label.isascii():
        tag = label.encode("ascii") + b"\0"
    else:
        try:
            tag = label.encode("gb2312")
        except UnicodeEncodeError as e:
            raise ValueError(f"label {label!r} has no GB2312 code, so it cannot be a CASIA tag") from e
        if len(tag) != 2:
            raise ValueError(f"label {label!r} is not one GB2312 character")
    return tag if order == "gb2312" else tag[::-1]


def _score(tag: bytes, order: str) -> int:
    """How well a tag fits an order. Swapped hanzi codes often decode too (我 CED2 ↔ 椅 D2CE), but CASIA's
    characters are mostly the common level-1 hanzi (lead byte B0–D7), whereas a swapped code's lead byte is
    spread over A1–FE: level-1 counts 3, any other GB2312 character 1."""
    char = decode_tag(tag, order)
    if char is None or char.isascii():
        return 0
    lead = tag[0] if order == "gb2312" else tag[1]
    return 3 if 0xB0 <= lead <= 0xD7 else 1


def detect_tag_order(tags: list[tuple[int, bytes]], name: str, prefer: str) -> str:
    """The byte order in which the tags ``(offset, tag)`` of a file's first records read as GB2312.

    ``prefer`` breaks ties (e.g. a probe of only ASCII tags). DataFormatError naming the file and the first
    offending offset when the tags read as GB2312 in neither order."""
    return _detect(tags, name, prefer)[0]


def _detect(tags: list[tuple[int, bytes]], name: str, prefer: str) -> tuple[str, bool]:
    """(order, whether the tags decided it rather than ``prefer``): see ``detect_tag_order``."""
    scores = {order: sum(_score(tag, order) for _, tag in tags) for order in TAG_ORDERS}
    if max(scores.values()) == 0:
        bad = [(off, tag) for off, tag in tags if decode_tag(tag, "gb2312") is None and tag != b"\xff\xff"]
        if bad:
            off, tag = bad[0]
            raise DataFormatError(
                f"{name}: offset {off}: tag 0x{tag.hex()} (and the other tags of the first {len(tags)} records) "
                "decode as GB2312 in neither byte order; is this a CASIA file?")
        return prefer, False
    if len(set(scores.values())) == 1:
        return prefer, False
    return max(TAG_ORDERS, key=lambda o: scores[o]), True


class TagOrder:
    """The tag byte order of one source (a file, folder or archive), decided file by file.

    Each file's first records decide its order; a file whose tags fit both orders equally (a one- or two-record
    file of codes that also decode swapped) takes the order of the last file that was decisive, else ``prefer``.
    ``fixed`` (one of TAG_ORDERS) skips detection altogether."""

    def __init__(self, prefer: str = "gb2312", fixed: str | None = None) -> None:
        for order in (prefer, fixed):
            if order is not None:
                _check_order(order)
        self.prefer = prefer
        self.fixed = fixed

    def labelled(self, records: Iterator, name: str) -> Iterator[tuple[str, tuple]]:
        """(label, record) of one file's records; undecodable tags skipped with one warning for the file."""
        probe = list(islice(records, PROBE_RECORDS))
        order = self.fixed
        if order is None:
            order, decided = _detect([(r[0], r[1]) for r in probe], name, self.prefer)
            if decided:  # later ambiguous files of this source follow it
                self.prefer = order
        skipped: list[int] = []
        for record in chain(probe, records):
            label = decode_tag(record[1], order)
            if label is None:
                skipped.append(record[0])
                continue
            yield label, record
        if skipped:
            warnings.warn(f"{name}: skipped {len(skipped)} records with non-GB2312 tags (first at offset {skipped[0]})",
                          stacklevel=2)


def _records(stream: BinaryIO, name: str) -> Iterator[tuple[int, bytes, int, int, bytes]]:
    """(offset, tag, width, height, pixels) of every record; DataFormatError at the first broken one."""
    offset = 0
    while True:
        head = stream.read(_HEADER.size)
        if not head:
            return
        if len(head) < _HEADER.size:
            raise DataFormatError(f"{name}: offset {offset}: truncated record header ({len(head)} of 10 bytes)")
        size, tag, width, height = _HEADER.unpack(head)
        if size != _HEADER.size + width * height:
            raise DataFormatError(
                f"{name}: offset {offset}: size field {size} != 10 + {width}×{height}; corrupt or not a .gnt file")
        pixels = stream.read(width * height)
        if len(pixels) < width * height:
            raise DataFormatError(
                f"{name}: offset {offset}: truncated record ({len(pixels)} of {width * height} pixel bytes)")
        yield offset, tag, width, height, pixels
        offset += size


def read_gnt(path: str | os.PathLike, limit: int | None = None, tag_order: str | None = None,
             keep: Callable[[int], bool] | None = None) -> Iterator[Sample]:
    """Stream the samples of a ``.gnt`` file, a folder of them or a ``.zip`` archive (members read in place).

    ``tag_order`` ("gb2312" or "reversed") fixes the tags' byte order; by default it is detected. ``keep(i)``
    (optional) picks records by their index in the order ``iter_labels`` yields them; the others are skipped
    undecoded (and do not count towards ``limit``)."""
    n = 0
    index = -1
    orders = TagOrder(fixed=tag_order)
    for name, stream in iter_members(path, ".gnt"):
        writer = writer_from_name(name.rsplit(":", 1)[-1])
        for label, (_, _, width, height, pixels) in orders.labelled(_records(stream, name), name):
            index += 1
            if keep is not None and not keep(index):
                continue
            image = np.frombuffer(pixels, dtype=np.uint8).reshape(height, width)
            yield Sample(image, label, writer)
            n += 1
            if limit is not None and n >= limit:
                return


def iter_labels(path: str | os.PathLike, tag_order: str | None = None) -> Iterator[tuple[str, str]]:
    """(label, writer) of every sample, images left undecoded."""
    orders = TagOrder(fixed=tag_order)
    for name, stream in iter_members(path, ".gnt"):
        writer = writer_from_name(name.rsplit(":", 1)[-1])
        for label, _ in orders.labelled(_records(stream, name), name):
            yield label, writer


def write_gnt(path: str | os.PathLike, samples: Iterable[Sample], tag_order: str = "gb2312") -> int:
    """Write samples (uint8 2-D images, one-character labels) as a ``.gnt`` file; returns the record count."""
    n = 0
    with Path(path).open("wb") as f:
        for sample in samples:
            image = np.ascontiguousarray(sample.image, dtype=np.uint8)
            if image.ndim != 2:
                raise ValueError(f"sample {n}: image must be 2-D, got shape {image.shape}")
            height, width = image.shape
            f.write(_HEADER.pack(_HEADER.size + width * height, encode_tag(sample.label, tag_order), width, height))
            f.write(image.tobytes())
            n += 1
    return n
