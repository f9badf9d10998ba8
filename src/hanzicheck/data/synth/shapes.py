"""Stroke geometry for the synthesiser: polylines in the unit box, components, and stroke-set matching.

Characters are kept as lists of (n, 2) float arrays in a unit box (the 1024 box / 1024, y down), resampled to an
even spacing so that wobble, smoothing and joining act the same on long and short strokes.

``StrokeMatcher`` tells whether a set of strokes looks like a character of a reference set (same stroke count,
every stroke close to one of the other's after both are normalised to their bounding boxes); it is how the
synthesiser avoids stroke drops that turn 日 into 口, or fragments that are really 一.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..strokes import BOX, CharStrokes

SPACING = 0.02  # resampling step in unit-box units (≈ 20 points across the character)
MATCH_POINTS = 8  # points per stroke for matching
MATCH_THRESHOLD = 0.15  # mean point distance (bbox-normalised) below which two stroke sets are "the same"


def resample(line: np.ndarray, spacing: float = SPACING, min_points: int = 2) -> np.ndarray:
    """Points evenly spaced along a polyline (first and last kept). A single point stays a single point."""
    line = np.asarray(line, dtype=np.float32)
    if len(line) < 2:
        return line.copy()
    seg = np.hypot(*np.diff(line, axis=0).T)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    total = float(arc[-1])
    if total <= 1e-9:
        return line[:1].copy()
    n = max(min_points, int(np.ceil(total / spacing)) + 1)
    t = np.linspace(0.0, total, n)
    return np.stack([np.interp(t, arc, line[:, 0]), np.interp(t, arc, line[:, 1])], axis=1).astype(np.float32)


def smooth(line: np.ndarray, sigma_points: float) -> np.ndarray:
    """Gaussian smoothing along a polyline with its end points pinned: rounds corners, keeps the ends."""
    if sigma_points < 0.5 or len(line) < 4:
        return line
    half = min(int(2 * sigma_points + 0.5), (len(line) - 1) // 2)
    if half < 1:
        return line
    k = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma_points) ** 2)
    k /= k.sum()
    padded = np.concatenate([np.repeat(line[:1], half, 0), line, np.repeat(line[-1:], half, 0)])
    out = np.stack([np.convolve(padded[:, 0], k, "valid"), np.convolve(padded[:, 1], k, "valid")], axis=1)
    out[0], out[-1] = line[0], line[-1]
    return out.astype(np.float32)


def _components(char: CharStrokes, lines: Sequence[np.ndarray]) -> list[list[int]]:
    """Groups of strokes that move together: the radical (``radStrokes``) and the rest split into clusters of
    strokes whose (slightly grown) bounding boxes touch."""
    n = len(lines)
    rad = [i for i in char.rad_strokes if i < n]
    rest = [i for i in range(n) if i not in set(rad)]
    groups: list[list[int]] = [rad] if rad and len(rad) < n else []
    if not groups:
        rest = list(range(n))
    boxes = [(ln.min(axis=0) - 0.03, ln.max(axis=0) + 0.03) for ln in lines]
    parent = {i: i for i in rest}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a_pos, a in enumerate(rest):
        for b in rest[a_pos + 1:]:
            (alo, ahi), (blo, bhi) = boxes[a], boxes[b]
            if np.all(alo <= bhi) and np.all(blo <= ahi):
                parent[find(a)] = find(b)
    clusters: dict[int, list[int]] = {}
    for i in rest:
        clusters.setdefault(find(i), []).append(i)
    groups.extend(clusters.values())
    return [sorted(g) for g in groups if g]


@dataclass(frozen=True)
class PreparedChar:
    """A character ready for drawing: resampled unit-box polylines and movable components."""

    char: str
    lines: tuple[np.ndarray, ...]
    components: tuple[tuple[int, ...], ...]
    centre: np.ndarray  # centre of the medians' bounding box


def prepare(char: CharStrokes) -> PreparedChar:
    lines = tuple(resample(m / BOX) for m in char.medians)
    pts = np.concatenate(lines)
    centre = (pts.min(axis=0) + pts.max(axis=0)) / 2
    return PreparedChar(char.char, lines, tuple(tuple(c) for c in _components(char, lines)), centre)


def resample_many(lines: Sequence[np.ndarray], n: int) -> np.ndarray:
    """Exactly ``n`` evenly spaced points along each polyline, all at once: float64 [len(lines), n, 2]."""
    lens = np.array([len(ln) for ln in lines])
    pts = np.concatenate(lines).astype(np.float64).reshape(-1, 2)
    count = len(lens)
    sid = np.repeat(np.arange(count), lens)
    starts, ends = np.cumsum(lens) - lens, np.cumsum(lens) - 1
    seg = np.zeros(len(pts))
    seg[1:] = np.hypot(*np.diff(pts, axis=0).T)
    seg[starts] = 0.0  # no segment between one polyline and the next
    arc = np.cumsum(seg)
    arc -= arc[starts][sid]
    total = arc[ends]
    big = float(total.max()) + 1.0  # one monotone key across all polylines: index·big + arc length
    key = sid * big + arc
    want = (np.arange(count)[:, None] * big + np.linspace(0.0, 1.0, n)[None, :] * total[:, None]).ravel()
    lo = np.clip(np.searchsorted(key, want, side="right") - 1, np.repeat(starts, n), np.repeat(ends, n))
    hi = np.minimum(lo + 1, np.repeat(ends, n))
    span = key[hi] - key[lo]
    w = np.where(span > 0, (want - key[lo]) / np.where(span > 0, span, 1.0), 0.0)
    return (pts[lo] + (pts[hi] - pts[lo]) * w[:, None]).reshape(count, n, 2)


def _normalise(sig: np.ndarray) -> np.ndarray:
    """[..., n, K, 2] → centred on the set's bounding box and scaled to it (thin sets are not stretched)."""
    lo, hi = sig.min(axis=(-3, -2), keepdims=True), sig.max(axis=(-3, -2), keepdims=True)
    size = hi - lo
    scale = np.maximum(size, 0.35 * size.max(axis=-1, keepdims=True)) + 1e-6
    return ((sig - (lo + hi) / 2) / scale).astype(np.float32)


def signature(lines: Iterable[np.ndarray]) -> np.ndarray:
    """Strokes → float32 [n, MATCH_POINTS, 2], normalised to the set's bounding box."""
    return _normalise(resample_many([np.asarray(ln, np.float32) for ln in lines], MATCH_POINTS))


class StrokeMatcher:
    """Finds characters of a reference set whose strokes a given stroke set reproduces."""

    def __init__(self, names: dict[int, list[str]], sigs: dict[int, np.ndarray]) -> None:
        self._names, self._sigs = names, sigs

    @classmethod
    def build(cls, chars: Iterable[CharStrokes]) -> StrokeMatcher:
        """Signatures of every character, computed in one vectorised pass per stroke count."""
        by_count: dict[int, list[CharStrokes]] = {}
        for c in chars:
            if len(c.medians):
                by_count.setdefault(len(c.medians), []).append(c)
        names, sigs = {}, {}
        for n, group in by_count.items():
            lines = [m / BOX for c in group for m in c.medians]
            sigs[n] = _normalise(resample_many(lines, MATCH_POINTS).reshape(len(group), n, MATCH_POINTS, 2))
            names[n] = [c.char for c in group]
        return cls(names, sigs)

    def save(self, path: Path) -> None:
        arrays = {f"sig{n}": s for n, s in self._sigs.items()}
        arrays.update({f"names{n}": np.array(v) for n, v in self._names.items()})
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.part.npz")
        np.savez(tmp, **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> StrokeMatcher:
        with np.load(path) as z:
            counts = [int(k[3:]) for k in z.files if k.startswith("sig")]
            return cls({n: [str(c) for c in z[f"names{n}"]] for n in counts}, {n: z[f"sig{n}"] for n in counts})

    def _counts(self) -> dict[str, int]:
        if not hasattr(self, "_count_of"):
            self._count_of = {c: n for n, names in self._names.items() for c in names}
        return self._count_of

    def __contains__(self, char: str) -> bool:
        return char in self._counts()

    def stroke_count(self, char: str) -> int:
        return self._counts()[char]

    def matches(self, lines: Sequence[np.ndarray], threshold: float = MATCH_THRESHOLD,
                exclude: str = "") -> list[str]:
        """Reference characters with as many strokes as ``lines`` and every stroke within ``threshold``."""
        n = len(lines)
        if n == 0 or n not in self._sigs:
            return []
        sig = signature(lines)  # [n, K, 2]
        ref = self._sigs[n]  # [M, n, K, 2]
        dist = np.linalg.norm(ref[:, None, :, :, :] - sig[None, :, None, :, :], axis=-1).mean(-1)  # [M, a, b]
        # every stroke of each set must lie close to some stroke of the other (max, not mean: one clearly
        # different stroke makes a different character)
        score = np.maximum(dist.min(axis=2).max(axis=1), dist.min(axis=1).max(axis=1))
        hits = np.flatnonzero(score < threshold)
        return [self._names[n][i] for i in hits[np.argsort(score[hits])] if self._names[n][i] != exclude]
