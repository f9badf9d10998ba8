"""One entry point for every labelled data source: detect its format, stream its samples, summarise it.

Formats: CASIA-HWDB ``gnt`` and CASIA-OLHWDB ``pot`` (a file, a folder of them or a ``.zip`` archive), ``emnist``
(gzip IDX + mapping), ``npz`` (``images``, ``labels``, optional ``writers``), ``folder`` (images + ``labels.csv``)
and ``strokes`` (the hanzi-writer-data reference strokes, rendered; source name ``strokes`` or the tarball).
Training, evaluation and the ``data`` verbs all go through :func:`iter_samples`.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import NamedTuple

from ..sample import Sample
from .members import DataFormatError, zip_format

FORMATS = ("gnt", "pot", "emnist", "npz", "folder", "strokes")
STROKES_SOURCE = "strokes"


def _folder_format(path: Path) -> str | None:
    if (path / "labels.csv").is_file():
        return "folder"
    for fmt in ("gnt", "pot"):
        if next(path.rglob(f"*.{fmt}"), None) is not None:
            return fmt
    for archive in sorted(path.rglob("*.zip")):
        fmt = zip_format(archive)
        if fmt is not None:
            return fmt
    if next(path.glob("*-images-idx3-ubyte*"), None) is not None:
        return "emnist"
    return None


def detect_format(path: str | os.PathLike) -> str:
    """The format of a source (one of :data:`FORMATS`); DataFormatError listing them when none fits."""
    if str(path) == STROKES_SOURCE and not Path(path).exists():
        return "strokes"
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    if not (path.is_dir() or path.is_file()):  # a FIFO or a device would hang or never end
        raise DataFormatError(f"{path}: not a regular file or folder")
    name = path.name.lower()
    fmt: str | None = None
    if path.is_dir():
        fmt = _folder_format(path)
    elif name.endswith((".gnt", ".pot", ".npz")):
        fmt = name[-3:]
    elif "-images-idx3-ubyte" in name:
        fmt = "emnist"
    elif name == "labels.csv":
        fmt = "folder"
    elif name.endswith(".zip"):
        fmt = zip_format(path)
    elif name.startswith("hanzi-writer-data") and name.endswith((".tgz", ".tar.gz")):
        fmt = "strokes"
    if fmt is None:
        raise DataFormatError(
            f"{path}: unknown data format; supported: .gnt (CASIA-HWDB), .pot (CASIA-OLHWDB), a folder or .zip of "
            "them, EMNIST *-images-idx3-ubyte.gz (or its folder), .npz with images+labels, a folder with "
            "labels.csv (file,label), or 'strokes' (hanzi-writer-data)")
    return fmt


def _open_strokes(path: str | os.PathLike):
    from ..strokes import StrokeDB

    return StrokeDB.open(None if str(path) == STROKES_SOURCE else path)


def _iter_strokes(path: str | os.PathLike, size: int = 64) -> Iterator[Sample]:
    """The reference characters of the stroke data, their medians rendered as plain ink."""
    from ..render import render_strokes

    db = _open_strokes(path)
    for char in db.chars():
        medians = list(db.get(char).medians)
        yield Sample(render_strokes(medians, size), char, "hanzi-writer-data", medians)


def _stroke_labels(path: str | os.PathLike) -> Iterator[tuple[str, str]]:
    return ((c, "hanzi-writer-data") for c in _open_strokes(path).chars())


class Format(NamedTuple):
    """One entry of the registry: the format's sample reader and its cheap (label, writer) pass."""

    read: Callable[..., Iterator[Sample]]
    labels: Callable[[str | os.PathLike], Iterator[tuple[str, str]]]


def _registry() -> dict[str, Format]:
    """The one registry of format → reader, in :data:`FORMATS` order (readers imported on first use)."""
    from . import emnist, folder, gnt, pot

    return {"gnt": Format(gnt.read_gnt, gnt.iter_labels), "pot": Format(pot.read_pot, pot.iter_labels),
            "emnist": Format(emnist.read_emnist, emnist.iter_labels), "npz": Format(folder.read_npz, folder.npz_labels),
            "folder": Format(folder.read_folder, folder.folder_labels),
            "strokes": Format(_iter_strokes, _stroke_labels)}


def iter_samples(path: str | os.PathLike, format: str | None = None, limit: int | None = None,
                 keep: Callable[[int], bool] | None = None) -> Iterator[Sample]:
    """Stream the samples of any source (format detected unless given), at most ``limit`` of them.

    ``keep(i)`` (optional) picks samples by their index in the order :func:`iter_labels` yields them; CASIA
    readers skip the others without decoding or rendering them. ``limit`` counts the samples read, kept or not
    (the same first ``limit`` records that ``iter_labels(..., limit)`` sees)."""
    fmt = format or detect_format(path)
    readers = {name: f.read for name, f in _registry().items()}
    if fmt not in readers:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if keep is None:
        samples = readers[fmt](path)
        return samples if limit is None else islice(samples, limit)
    if fmt in ("gnt", "pot"):
        if limit is None:
            return readers[fmt](path, keep=keep)
        return _until(readers[fmt](path, keep=lambda i: i < limit and keep(i)), keep, limit)
    samples = readers[fmt](path)
    return (s for i, s in enumerate(samples if limit is None else islice(samples, limit)) if keep(i))


def _until(samples: Iterator[Sample], keep: Callable[[int], bool], limit: int) -> Iterator[Sample]:
    """``samples`` (already filtered by ``keep``) up to the last kept index below ``limit``: stops reading there."""
    remaining = sum(1 for i in range(limit) if keep(i))
    return islice(samples, remaining)


def iter_labels(path: str | os.PathLike, format: str | None = None,
                limit: int | None = None) -> Iterator[tuple[str, str]]:
    """(label, writer) of every sample in the order :func:`iter_samples` yields them, images left undecoded
    where the format allows (CASIA, EMNIST, npz, folders): the cheap first pass of a selection."""
    labels = _iter_labels(path, format or detect_format(path))
    return labels if limit is None else islice(labels, limit)


def _iter_labels(path: str | os.PathLike, fmt: str) -> Iterator[tuple[str, str]]:
    """(label, writer) of every sample, without decoding or rendering images where the format allows."""
    return _registry()[fmt].labels(path)


def summarize(path: str | os.PathLike, format: str | None = None,
              on_progress: Callable[[int], None] | None = None) -> dict:
    """``format``, ``samples``, ``classes``, ``writers`` and per-class ``counts`` (most frequent first).

    ``on_progress(n)`` is called every 1,000 samples with the number read so far."""
    fmt = format or detect_format(path)
    counts: Counter[str] = Counter()
    writers: set[str] = set()
    n = 0
    for n, (label, writer) in enumerate(_iter_labels(path, fmt), 1):
        counts[label] += 1
        writers.add(writer)
        if on_progress is not None and n % 1000 == 0:
            on_progress(n)
    writers.discard("")
    return {"format": fmt, "samples": n, "classes": len(counts), "writers": len(writers),
            "counts": dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))}
