"""CASIA-OLHWDB online handwriting (``.pot``): streaming reader and writer; strokes kept and rendered.

Layout verified on real OLHWDB1.1 files, per sample: uint16 LE record size (the whole record), a 4-byte tag
whose first two bytes are the GB2312 code *low byte first* (the other two are 0), uint16 LE stroke count, then
int16 LE (x, y) points with y growing downward; (-1, 0) ends a stroke and (-1, -1) ends the sample. As for
``.gnt``, the tag byte order is detected per file (other descriptions disagree), preferring the verified one;
``tag_order=`` fixes it.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..render import render_strokes
from ..sample import Sample
from .gnt import TagOrder, encode_tag
from .members import DataFormatError, iter_members, writer_from_name

REAL_TAG_ORDER = "reversed"  # GB2312 low byte first, as in the real OLHWDB1.1 files
_HEAD = struct.Struct("<H4sH")  # size, tag, stroke count
_STROKE_END = (-1, 0)
_SAMPLE_END = (-1, -1)


def _records(stream: BinaryIO, name: str) -> Iterator[tuple[int, bytes, np.ndarray]]:
    """(offset, 2-byte tag, strokes) of every record; DataFormatError naming file and offset when broken."""
    offset = 0
    while True:
        head = stream.read(_HEAD.size)
        if not head:
            return
        if len(head) < _HEAD.size:
            raise DataFormatError(f"{name}: offset {offset}: truncated record header ({len(head)} of 8 bytes)")
        size, tag, n_strokes = _HEAD.unpack(head)
        if size < _HEAD.size + 4 or (size - _HEAD.size) % 4:
            raise DataFormatError(f"{name}: offset {offset}: record size {size} cannot hold whole (x, y) points; "
                                  "corrupt or not a .pot file")
        body = stream.read(size - _HEAD.size)
        if len(body) < size - _HEAD.size:
            raise DataFormatError(
                f"{name}: offset {offset}: truncated record ({_HEAD.size + len(body)} of {size} bytes)")
        points = np.frombuffer(body, dtype="<i2").reshape(-1, 2)
        ends = np.flatnonzero((points[:, 0] == -1) & (points[:, 1] == -1))
        if len(ends) == 0 or ends[0] != len(points) - 1:
            raise DataFormatError(f"{name}: offset {offset}: record size {size} does not end at the sample's "
                                  "(-1, -1) end mark; corrupt or not a .pot file")
        yield offset, tag[:2], _split_strokes(points[:-1], n_strokes, name, offset)
        offset += size


def _split_strokes(points: np.ndarray, n_strokes: int, name: str, offset: int) -> list[np.ndarray]:
    pen_ups = np.flatnonzero((points[:, 0] == _STROKE_END[0]) & (points[:, 1] == _STROKE_END[1]))
    if len(pen_ups) != n_strokes or (n_strokes and pen_ups[-1] != len(points) - 1):
        raise DataFormatError(f"{name}: offset {offset}: stroke count {n_strokes} but {len(pen_ups)} stroke "
                              "end marks; corrupt or not a .pot file")
    starts = np.concatenate([[0], pen_ups[:-1] + 1])
    return [points[s:e].astype(np.float32) for s, e in zip(starts, pen_ups, strict=True)]


def read_pot(path: str | os.PathLike, limit: int | None = None, size: int = 64,
             tag_order: str | None = None, keep: Callable[[int], bool] | None = None) -> Iterator[Sample]:
    """Stream the samples of a ``.pot`` file, folder or ``.zip``: strokes kept, rendered to ``size``² images.

    ``keep(i)`` (optional) picks records by their index in the order ``iter_labels`` yields them; the others
    are skipped unrendered (and do not count towards ``limit``)."""
    n = 0
    index = -1
    orders = TagOrder(prefer=REAL_TAG_ORDER, fixed=tag_order)
    for name, stream in iter_members(path, ".pot"):
        writer = writer_from_name(name.rsplit(":", 1)[-1])
        for label, (offset, _, strokes) in orders.labelled(_records(stream, name), name):
            index += 1
            if keep is not None and not keep(index):
                continue
            drawn = [s for s in strokes if len(s)]
            if not drawn:
                raise DataFormatError(f"{name}: offset {offset}: sample {label!r} has no points")
            yield Sample(render_strokes(drawn, size), label, writer, strokes)
            n += 1
            if limit is not None and n >= limit:
                return


def iter_labels(path: str | os.PathLike, tag_order: str | None = None) -> Iterator[tuple[str, str]]:
    """(label, writer) of every sample, nothing rendered."""
    orders = TagOrder(prefer=REAL_TAG_ORDER, fixed=tag_order)
    for name, stream in iter_members(path, ".pot"):
        writer = writer_from_name(name.rsplit(":", 1)[-1])
        for label, _ in orders.labelled(_records(stream, name), name):
            yield label, writer


def write_pot(path: str | os.PathLike, samples: Iterable[Sample], tag_order: str = REAL_TAG_ORDER) -> int:
    """Write samples' strokes (each (n, 2) x, y, y down) as a ``.pot`` file; returns the record count."""
    n = 0
    with Path(path).open("wb") as f:
        for sample in samples:
            if not sample.strokes:
                raise ValueError(f"sample {n} ({sample.label!r}) has no strokes to write")
            rows = []
            for stroke in sample.strokes:
                rows.extend([np.asarray(stroke, dtype=np.float64).reshape(-1, 2).round(), [_STROKE_END]])
            rows.append([_SAMPLE_END])
            points = np.concatenate(rows).astype("<i2")
            size = _HEAD.size + points.nbytes
            if size > 0xFFFF:
                raise ValueError(f"sample {n} ({sample.label!r}) has too many points for a .pot record")
            tag = encode_tag(sample.label, tag_order) + b"\0\0"
            f.write(_HEAD.pack(size, tag, len(sample.strokes)))
            f.write(points.tobytes())
            n += 1
    return n
