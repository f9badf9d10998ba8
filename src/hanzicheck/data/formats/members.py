"""What every file-format reader shares: :class:`DataFormatError`, the member files of a source (a file, a folder
or a ``.zip`` archive) and CASIA's writer ids from file names.

The readers (``gnt``, ``pot``, ``emnist``, ``folder``) import this module; the registry (``sources``) imports the
readers. Nothing here imports a reader, so the two layers do not form a cycle.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


class DataFormatError(ValueError):
    """A file is not in the format it claims, or is corrupt; the message names the file and the offset."""


def writer_from_name(name: str) -> str:
    """CASIA names files by writer: ``1001-c.gnt`` → ``1001``, ``001.pot`` → ``001``."""
    return Path(name).stem.split("-")[0]


def iter_members(path: str | os.PathLike, suffix: str) -> Iterator[tuple[str, BinaryIO]]:
    """(name, open binary stream) of every ``*suffix`` file: the file itself, a folder's files and ``.zip``
    archives (recursive, sorted) or a ``.zip`` archive's members (read in place, never extracted)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob(f"*{suffix}") if p.is_file())
        archives = [p for p in sorted(path.rglob("*.zip")) if zip_format(p) == suffix[1:]]
        if not files and not archives:
            raise DataFormatError(f"{path}: no {suffix} files or .zip archives of them in this folder")
        for file in sorted(files + archives):
            if file.suffix.lower() == ".zip":
                yield from iter_members(file, suffix)
                continue
            with file.open("rb") as f:
                yield str(file), f
    elif path.suffix.lower() == ".zip":
        try:
            archive = zipfile.ZipFile(path)
        except zipfile.BadZipFile as e:
            raise DataFormatError(f"{path}: not a readable zip archive ({e})") from e
        with archive:
            names = sorted(n for n in archive.namelist() if n.lower().endswith(suffix))
            if not names:
                raise DataFormatError(f"{path}: the archive holds no {suffix} files")
            for name in names:
                with archive.open(name) as f:
                    yield f"{path}:{name}", f
    elif path.is_file():
        with path.open("rb") as f:
            yield str(path), f
    else:
        raise FileNotFoundError(f"{path} does not exist")


def zip_format(path: Path) -> str | None:
    """``gnt`` or ``pot`` when a ``.zip`` archive holds such files, else None."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n.lower() for n in archive.namelist()]
    except zipfile.BadZipFile as e:
        raise DataFormatError(f"{path}: not a readable zip archive ({e})") from e
    for fmt in ("gnt", "pot"):
        if any(n.endswith(f".{fmt}") for n in names):
            return fmt
    return None
