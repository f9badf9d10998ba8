"""Our own simple formats: a folder of images with ``labels.csv``, and an ``.npz`` of arrays.

- Folder: ``labels.csv`` with a header ``file,label`` and optionally ``writer``; ``file`` is relative to the
  folder. Images are decoded by ``preprocess.to_gray`` (the package's one decoder and its guards) to 8-bit grey.
- ``.npz``: ``images`` uint8 [N, H, W], ``labels`` str [N], optional ``writers`` [N] (any dtype, read as str),
  like ``shared/data/real/*.npz``.

Pixels are returned as stored (no polarity change): preprocessing detects and fixes polarity.
"""

from __future__ import annotations

import csv
import os
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from ..sample import Sample
from .members import DataFormatError

LABELS_CSV = "labels.csv"
MAX_NPZ_BYTES = 4 * 1024**3  # an .npz larger than this, on disk or unpacked, is refused before reading


# --- npz ---------------------------------------------------------------------------------------------------

def _check_npz_file(path: Path) -> None:
    """A regular file, at most MAX_NPZ_BYTES on disk and unpacked (DataFormatError naming it otherwise)."""
    import stat

    try:
        info = path.stat()
    except OSError as e:
        raise DataFormatError(f"{path}: cannot read it ({e.strerror or e})") from None
    if not stat.S_ISREG(info.st_mode):
        raise DataFormatError(f"{path}: not a regular file")
    if info.st_size > MAX_NPZ_BYTES:
        raise DataFormatError(f"{path}: {info.st_size:,} bytes, over the limit of {MAX_NPZ_BYTES:,}")
    try:
        with zipfile.ZipFile(path) as zf:
            unpacked = sum(i.file_size for i in zf.infolist())
    except (OSError, zipfile.BadZipFile, ValueError, EOFError) as e:
        raise DataFormatError(f"{path}: not a readable .npz file ({e})") from None
    if unpacked > MAX_NPZ_BYTES:
        raise DataFormatError(f"{path}: its arrays unpack to {unpacked:,} bytes, over the limit of {MAX_NPZ_BYTES:,}")


def _npy_shape(z, name: str) -> tuple[int, ...]:
    """The shape of array ``name`` of an open npz, from its header (the data is not read)."""
    with z.zip.open(f"{name}.npy") as f:
        version = np.lib.format.read_magic(f)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, _ = read(f)
    return shape


def _load_npz(path: Path, with_images: bool = True) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    _check_npz_file(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in ("images", "labels") if k not in z.files]
            if missing:
                raise DataFormatError(f"{path}: lacks the array(s) {', '.join(missing)} (has {', '.join(z.files)})")
            images = z["images"] if with_images else None
            shape = images.shape if images is not None else _npy_shape(z, "images")
            labels = z["labels"]
            writers = z["writers"] if "writers" in z.files else None
    except DataFormatError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as e:
        raise DataFormatError(f"{path}: not a readable .npz file ({e})") from None
    if len(shape) != 3 or labels.ndim != 1 or shape[0] != len(labels):
        raise DataFormatError(f"{path}: images must be [N, H, W] with N = {len(labels)} labels, got images "
                              f"{tuple(shape)} and labels {labels.shape}")
    if writers is not None and (writers.ndim != 1 or len(writers) != len(labels)):
        raise DataFormatError(f"{path}: {len(writers)} writers for {len(labels)} labels")
    return images, labels, writers


def read_npz(path: str | os.PathLike, limit: int | None = None) -> Iterator[Sample]:
    """Stream the samples of an ``.npz`` (pixels as stored; writers as strings, '' when absent)."""
    images, labels, writers = _load_npz(Path(path))
    if images.dtype != np.uint8:
        raise DataFormatError(f"{path}: images must be uint8, got {images.dtype}")
    n = len(labels) if limit is None else min(limit, len(labels))
    for i in range(n):
        yield Sample(images[i], str(labels[i]), "" if writers is None else str(writers[i]))


def npz_labels(path: str | os.PathLike) -> Iterator[tuple[str, str]]:
    """(label, writer) of every sample, images not loaded."""
    _, labels, writers = _load_npz(Path(path), with_images=False)
    ws = [""] * len(labels) if writers is None else writers.astype(str).tolist()
    return zip(labels.astype(str).tolist(), ws, strict=True)


def write_npz(path: str | os.PathLike, samples: Iterable[Sample]) -> int:
    """Write equal-size samples as an ``.npz`` with ``images``, ``labels`` and ``writers``."""
    samples = list(samples)
    np.savez_compressed(path, images=np.stack([np.asarray(s.image, np.uint8) for s in samples]),
                        labels=np.array([s.label for s in samples]), writers=np.array([s.writer for s in samples]))
    return len(samples)


# --- image folder with labels.csv ------------------------------------------------------------------------------

def _csv_rows(path: str | os.PathLike) -> tuple[Path, list[tuple[int, str, str, str]]]:
    """(folder, [(line, file, label, writer)]) of a folder or its labels.csv."""
    path = Path(path)
    folder, table = (path, path / LABELS_CSV) if path.is_dir() else (path.parent, path)
    if not table.is_file():
        raise DataFormatError(f"{folder}: no {LABELS_CSV} (expected a header 'file,label' and one row per image)")
    with table.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames or []
        if "file" not in fields or "label" not in fields:
            raise DataFormatError(f"{table}: header must name 'file' and 'label' (optionally 'writer'), got {fields}")
        rows = [(reader.line_num, r["file"], r["label"], r.get("writer") or "") for r in reader]
    return folder, rows


def _load_image(path: Path) -> np.ndarray:
    from ..preprocess import InvalidImageError, to_gray

    try:
        return to_gray(path)
    except InvalidImageError as e:
        raise DataFormatError(str(e)) from None


def read_folder(path: str | os.PathLike, limit: int | None = None) -> Iterator[Sample]:
    """Stream the images listed in ``labels.csv`` (a folder, or the csv itself), in csv order."""
    folder, rows = _csv_rows(path)
    for line, file, label, writer in rows if limit is None else rows[:limit]:
        image_path = folder / file
        if not image_path.is_file():
            raise DataFormatError(f"{folder / LABELS_CSV}: line {line}: {file} does not exist")
        yield Sample(_load_image(image_path), label, writer)


def folder_labels(path: str | os.PathLike) -> Iterator[tuple[str, str]]:
    """(label, writer) of every row of ``labels.csv``; images not opened."""
    _, rows = _csv_rows(path)
    return ((label, writer) for _, _, label, writer in rows)


def write_folder(folder: str | os.PathLike, samples: Iterable[Sample]) -> int:
    """Write samples as PNG files plus ``labels.csv`` (file,label,writer)."""
    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    with (folder / LABELS_CSV).open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["file", "label", "writer"])
        for n, sample in enumerate(samples, 1):
            name = f"{n - 1:06d}.png"
            Image.fromarray(np.asarray(sample.image, np.uint8)).save(folder / name)
            out.writerow([name, sample.label, sample.writer])
    return n
