"""EMNIST as distributed: gzip IDX files plus a mapping text; streaming reader and writer.

``<split>-images-idx3-ubyte.gz`` (magic 0x00000803, then big-endian uint32 count, rows, cols, then uint8
pixels), ``<split>-labels-idx1-ubyte.gz`` (magic 0x00000801, count, uint8 labels) and ``<dataset>-mapping.txt``
(``label_index ascii_code [ascii_code…]`` per line; the first code is used). ``<split>`` is e.g.
``emnist-balanced-train`` and ``<dataset>`` the split without ``-train``/``-test``. Images are stored transposed
and light-on-dark; we return them upright, dark on light, like HWDB. Plain (not gzip) IDX files are read too.
"""

from __future__ import annotations

import gzip
import os
import re
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..sample import Sample
from .members import DataFormatError

IMAGES_MAGIC, LABELS_MAGIC = 0x803, 0x801
_IMAGES_SUFFIX = "-images-idx3-ubyte"


def _open(path: Path) -> BinaryIO:
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


def _sibling(images: Path, kind: str) -> Path:
    """``…-images-idx3-ubyte[.gz]`` → ``…-labels-idx1-ubyte[.gz]``."""
    return images.with_name(images.name.replace(_IMAGES_SUFFIX, f"-{kind}-idx1-ubyte"))


def _mapping_path(images: Path) -> Path:
    stem = images.name.split(_IMAGES_SUFFIX)[0]
    return images.with_name(re.sub(r"-(train|test)$", "", stem) + "-mapping.txt")


def image_files(path: str | os.PathLike) -> list[Path]:
    """The images files of a source: the file given, or every ``*-images-idx3-ubyte[.gz]`` in the folder."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob(f"*{_IMAGES_SUFFIX}.gz")) + sorted(path.glob(f"*{_IMAGES_SUFFIX}"))
        if not files:
            raise DataFormatError(f"{path}: no EMNIST *{_IMAGES_SUFFIX}.gz files in this folder")
        return files
    if _IMAGES_SUFFIX not in path.name:
        raise DataFormatError(f"{path}: not an EMNIST images file (expected a name with {_IMAGES_SUFFIX})")
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    return [path]


def read_mapping(images: Path, labels: np.ndarray) -> dict[int, str]:
    """Label index → character from the mapping file; digits 0–9 when there is none and labels fit."""
    path = _mapping_path(images)
    if not path.is_file():
        if labels.size == 0 or labels.max() <= 9:
            return {i: str(i) for i in range(10)}
        raise DataFormatError(f"{images}: labels go up to {labels.max()} but the mapping file {path} is missing")
    mapping = {}
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        try:
            mapping[int(parts[0])] = chr(int(parts[1]))
        except (ValueError, IndexError) as e:
            raise DataFormatError(f"{path}: line {lineno}: expected 'index ascii_code', got {line!r}") from e
    return mapping


def _read_header(f: BinaryIO, name: Path, magic: int, ndim: int) -> tuple[int, ...]:
    raw = f.read(4 + 4 * ndim)
    if len(raw) < 4 + 4 * ndim:
        raise DataFormatError(f"{name}: offset 0: truncated IDX header ({len(raw)} of {4 + 4 * ndim} bytes)")
    found, *dims = struct.unpack(f">{1 + ndim}I", raw)
    if found != magic:
        raise DataFormatError(f"{name}: offset 0: IDX magic 0x{found:08x}, expected 0x{magic:08x}")
    return tuple(dims)


def read_labels_file(path: Path) -> np.ndarray:
    try:
        with _open(path) as f:
            (count,) = _read_header(f, path, LABELS_MAGIC, 1)
            labels = np.frombuffer(f.read(count), dtype=np.uint8)
    except (OSError, EOFError) as e:
        raise DataFormatError(f"{path}: not a readable (gzip) IDX file ({e})") from e
    if len(labels) < count:
        raise DataFormatError(f"{path}: offset {8 + len(labels)}: truncated, {len(labels)} of {count} labels")
    return labels


def _read_one(images: Path, limit: int | None) -> Iterator[Sample]:
    labels_path = _sibling(images, "labels")
    if not labels_path.is_file():
        raise DataFormatError(f"{images}: its labels file {labels_path.name} is missing beside it")
    labels = read_labels_file(labels_path)
    mapping = read_mapping(images, labels)
    try:
        with _open(images) as f:
            count, rows, cols = _read_header(f, images, IMAGES_MAGIC, 3)
            if count != len(labels):
                raise DataFormatError(f"{images}: {count} images but {len(labels)} labels in {labels_path.name}")
            for i in range(count if limit is None else min(count, limit)):
                raw = f.read(rows * cols)
                if len(raw) < rows * cols:
                    raise DataFormatError(f"{images}: offset {16 + i * rows * cols}: truncated image {i} of {count}")
                # stored transposed and light on dark: transpose back, invert to dark ink on light paper
                image = 255 - np.frombuffer(raw, dtype=np.uint8).reshape(rows, cols).T
                yield Sample(np.ascontiguousarray(image), _label(mapping, labels[i], images), "")
    except (OSError, EOFError) as e:
        raise DataFormatError(f"{images}: not a readable (gzip) IDX file ({e})") from e


def _label(mapping: dict[int, str], index: int, images: Path) -> str:
    try:
        return mapping[int(index)]
    except KeyError as e:
        raise DataFormatError(f"{images}: label index {index} is not in the mapping file") from e


def read_emnist(path: str | os.PathLike, limit: int | None = None) -> Iterator[Sample]:
    """Stream an EMNIST images file (siblings found by name) or every images file of a folder."""
    n = 0
    for images in image_files(path):
        for sample in _read_one(images, None if limit is None else limit - n):
            yield sample
            n += 1
        if limit is not None and n >= limit:
            return


def iter_labels(path: str | os.PathLike) -> Iterator[tuple[str, str]]:
    """(label, writer) of every sample from the labels files alone (EMNIST has no writer ids)."""
    for images in image_files(path):
        labels = read_labels_file(_sibling(images, "labels"))
        mapping = read_mapping(images, labels)
        for index in labels:
            yield _label(mapping, index, images), ""


def write_emnist(folder: str | os.PathLike, samples: Iterable[Sample], split: str = "emnist-custom-train") -> Path:
    """Write samples (equal-size dark-on-light images, one-character ASCII labels) as EMNIST IDX files plus a
    mapping; returns the images file path."""
    samples = list(samples)
    if not samples:
        raise ValueError("no samples to write")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    chars = sorted({s.label for s in samples})
    index = {c: i for i, c in enumerate(chars)}
    stack = np.stack([np.asarray(s.image, dtype=np.uint8) for s in samples])
    stored = 255 - stack.transpose(0, 2, 1)  # EMNIST's transposed, light-on-dark storage
    images = folder / f"{split}{_IMAGES_SUFFIX}.gz"
    with gzip.open(images, "wb") as f:
        f.write(struct.pack(">4I", IMAGES_MAGIC, len(stored), stored.shape[1], stored.shape[2]))
        f.write(np.ascontiguousarray(stored).tobytes())
    with gzip.open(_sibling(images, "labels"), "wb") as f:
        f.write(struct.pack(">2I", LABELS_MAGIC, len(samples)))
        f.write(bytes(index[s.label] for s in samples))
    _mapping_path(images).write_text("".join(f"{i} {ord(c)}\n" for c, i in index.items()))
    return images
