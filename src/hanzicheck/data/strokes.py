"""Stroke data of ~9,500 characters: the npm package ``hanzi-writer-data`` 2.0.1 (Make Me a Hanzi, Arphic PL).

Each character's JSON holds ``strokes`` (SVG outline paths with M/L/Q/C/Z in a 1024 box, y up), ``medians``
(the pen's centre line of every stroke, as [x, y] points, y up) and ``radStrokes`` (indices of the radical's
strokes). We turn coordinates into image coordinates with y down: ``y_img = 900 − y``.

Loading is lazy and fast: the first ``open()`` reads the tarball once and writes an uncompressed zip beside it
in the cache (~1.5 s, once); later opens only read that zip's directory (~30 ms). A character is parsed on its
first ``get``.
"""

from __future__ import annotations

import json
import os
import re
import tarfile
import threading
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from .download import HANZI_WRITER_DATA, cache_dir, fetch

BOX = 1024  # side of the coordinate box
Y_FLIP = 900  # image y = Y_FLIP − data y
_PREFIX = "package/"
_INDEX_VERSION = 1


def to_image(points: np.ndarray) -> np.ndarray:
    """Data coordinates (y up) → image coordinates in the 1024 box (y down)."""
    out = np.asarray(points, dtype=np.float32).reshape(-1, 2).copy()
    out[:, 1] = Y_FLIP - out[:, 1]
    return out


_TOKEN = re.compile(r"[MLQCZmlqcz]|-?\d*\.?\d+(?:[eE][-+]?\d+)?")


def _bezier(p: np.ndarray, steps: int) -> np.ndarray:
    """Points of a quadratic (3 control points) or cubic (4) Bézier curve, excluding its start point."""
    t = np.linspace(0, 1, steps + 1, dtype=np.float32)[1:, None]
    if len(p) == 3:
        return (1 - t) ** 2 * p[0] + 2 * (1 - t) * t * p[1] + t**2 * p[2]
    return (1 - t) ** 3 * p[0] + 3 * (1 - t) ** 2 * t * p[1] + 3 * (1 - t) * t**2 * p[2] + t**3 * p[3]


def flatten_path(path: str, steps: int = 6) -> list[np.ndarray]:
    """An SVG path (absolute M/L/Q/C/Z, as in hanzi-writer-data) → closed polygons in data coordinates."""
    tokens = _TOKEN.findall(path)
    polys: list[list[np.ndarray]] = []
    cur: list[np.ndarray] = []
    i, cmd = 0, ""
    nargs = {"M": 2, "L": 2, "Q": 4, "C": 6, "Z": 0}
    while i < len(tokens):
        if tokens[i].isalpha():
            cmd = tokens[i].upper()
            i += 1
            if cmd == "Z":
                if cur:
                    polys.append(cur)
                cur = []
                continue
        n = nargs.get(cmd)
        if not n or i + n > len(tokens):
            raise ValueError(f"unsupported or truncated SVG path near token {i}: {path[:60]!r}")
        vals = np.array(tokens[i:i + n], dtype=np.float32).reshape(-1, 2)
        i += n
        if cmd == "M":
            if cur:
                polys.append(cur)
            cur = [vals]
        elif cmd == "L":
            cur.append(vals)
        else:
            start = cur[-1][-1:] if cur else vals[:1]
            cur.append(_bezier(np.concatenate([start, vals]), steps))
    if cur:
        polys.append(cur)
    return [np.concatenate(p) for p in polys if p]


@dataclass(frozen=True)
class CharStrokes:
    """One character's strokes in reference order. ``medians``: each (n, 2) float32, image coords, y down."""

    char: str
    strokes: tuple[str, ...]
    medians: tuple[np.ndarray, ...]
    rad_strokes: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.medians)

    def outline_polygons(self, steps: int = 6) -> list[list[np.ndarray]]:
        """Per stroke, its outline as polygons (each (n, 2) float32, image coordinates, y down)."""
        return [[to_image(p) for p in flatten_path(s, steps)] for s in self.strokes]

    @cached_property
    def bbox(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of all medians, image coordinates."""
        pts = np.concatenate(self.medians)
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        return float(x0), float(y0), float(x1), float(y1)


def parse_char(char: str, raw: bytes | str) -> CharStrokes:
    """Parse one hanzi-writer-data JSON document."""
    data = json.loads(raw)
    medians = tuple(to_image(np.asarray(m, dtype=np.float32)) for m in data["medians"])
    return CharStrokes(char, tuple(data["strokes"]), medians, tuple(int(i) for i in data.get("radStrokes") or ()))


def _build_zip(tarball: Path, out: Path) -> None:
    """Copy every ``package/<char>.json`` of the tarball into an uncompressed zip named ``<char>.json``."""
    tmp = out.with_name(f"{out.name}.{os.getpid()}.part")
    try:
        with tarfile.open(tarball, "r:gz") as tf, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
            for member in tf:
                name = member.name
                if not (member.isfile() and name.startswith(_PREFIX) and name.endswith(".json")):
                    continue
                char = name[len(_PREFIX):-5]
                if len(char) != 1:  # package.json and friends
                    continue
                zf.writestr(f"{char}.json", tf.extractfile(member).read())
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)


class StrokeDB:
    """Character → :class:`CharStrokes`, parsed on first use. Create with :meth:`open`."""

    def __init__(self, raw: dict[str, bytes] | zipfile.ZipFile, source: str) -> None:
        self._raw = raw
        self.source = source
        self._lock = threading.Lock()
        self._parsed: dict[str, CharStrokes] = {}
        if isinstance(raw, zipfile.ZipFile):
            self._names = {n[:-5]: n for n in raw.namelist() if n.endswith(".json")}
        else:
            self._names = {c: c for c in raw}

    @classmethod
    def open(cls, path: str | os.PathLike | None = None) -> StrokeDB:
        """Open the stroke data: ``path`` to the pinned tarball, or a folder of ``<char>.json`` files; by default
        ``$HANZICHECK_STROKES``, else the cache, else a download (``fetch`` explains what to do offline)."""
        if path is not None and Path(path).is_dir():
            folder = Path(path)
            raw = {p.stem: p.read_bytes() for p in folder.glob("*.json") if len(p.stem) == 1}
            if not raw:
                raise FileNotFoundError(f"{folder} holds no <char>.json stroke files")
            return cls(raw, str(folder))
        tarball = fetch(HANZI_WRITER_DATA, path)
        stat = tarball.stat()
        index = cache_dir() / f"{HANZI_WRITER_DATA.filename}.{stat.st_size}.v{_INDEX_VERSION}.zip"
        if not index.is_file():
            _build_zip(tarball, index)
        try:
            return cls(zipfile.ZipFile(index), str(tarball))
        except zipfile.BadZipFile:  # a damaged cache: rebuild once
            index.unlink(missing_ok=True)
            _build_zip(tarball, index)
            return cls(zipfile.ZipFile(index), str(tarball))

    def _read(self, char: str) -> bytes:
        if isinstance(self._raw, zipfile.ZipFile):
            with self._lock:
                return self._raw.read(self._names[char])
        return self._raw[char]

    def get(self, char: str) -> CharStrokes:
        """The strokes of ``char``; KeyError naming it when the stroke data lacks it."""
        hit = self._parsed.get(char)
        if hit is not None:
            return hit
        if char not in self._names:
            raise KeyError(f"no stroke data for {char!r} in hanzi-writer-data {HANZI_WRITER_DATA.version}")
        try:
            parsed = parse_char(char, self._read(char))
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"stroke data for {char!r} in {self.source} is malformed: {e}") from e
        self._parsed[char] = parsed
        return parsed

    def __contains__(self, char: object) -> bool:
        return char in self._names

    def __len__(self) -> int:
        return len(self._names)

    def chars(self) -> list[str]:
        """All characters with stroke data, sorted by code point."""
        return sorted(self._names)

    def __getstate__(self) -> dict:
        raise TypeError("StrokeDB is not picklable; open it in each process with StrokeDB.open() or default_db()")


_DEFAULT: StrokeDB | None = None
_DEFAULT_LOCK = threading.Lock()


def default_db() -> StrokeDB:
    """The process-wide stroke database (opened on first call)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = StrokeDB.open()
        return _DEFAULT
