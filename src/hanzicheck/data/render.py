"""Draw pen trajectories (lists of (x, y) points) as dark ink on light paper.

Shared by the online-format reader (POT), the HTTP service (canvas strokes) and the web page's server fallback.
The synthesiser has its own faster, more varied renderer; this one is plain and predictable.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

MAX_VERTICES = 2000  # vertices drawn over all strokes: a denser scribble is thinned (drawing costs per vertex)


def render_strokes(
    strokes: Sequence[np.ndarray | Sequence[Sequence[float]]],
    size: int = 64,
    pen_width: float = 0.035,
    margin: float = 0.08,
    supersample: int = 4,
) -> np.ndarray:
    """Render strokes (each an (n, 2) array of x, y with y down) into a ``size``×``size`` uint8 image.

    The drawing's bounding box is fitted into the canvas (aspect ratio kept, centred, ``margin`` of the side
    left free). ``pen_width`` is a fraction of the side. A stroke of one point is drawn as a dot.
    Background is 255, ink 0. Raises ValueError when there is no point at all.

    Bounded work: past ``MAX_VERTICES`` points in all (a character written on a canvas has a few hundred),
    consecutive points on the same supersampled pixel are drawn once, and if that is not enough (scribbles)
    every k-th point is kept.
    """
    arrays = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in strokes]
    arrays = [a for a in arrays if len(a)]
    if not arrays:
        raise ValueError("no points to draw: strokes are empty")
    pts = np.concatenate(arrays)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    extent = float(max(hi - lo)) or 1.0
    big = size * supersample
    scale = big * (1 - 2 * margin) / extent
    offset = (big - (hi - lo) * scale) / 2 - lo * scale
    width = max(1, round(pen_width * big))
    canvas = Image.new("L", (big, big), 255)
    draw = ImageDraw.Draw(canvas)
    r = width / 2
    lines = [a * scale + offset for a in arrays]
    if sum(len(xy) for xy in lines) > MAX_VERTICES:
        lines = [_dedup(xy) for xy in lines]
    total = sum(len(xy) for xy in lines)
    if total > MAX_VERTICES:
        step = -(-total // MAX_VERTICES)
        lines = [xy[np.unique(np.r_[np.arange(0, len(xy), step), len(xy) - 1])] for xy in lines]
    for xy in lines:
        flat = [tuple(p) for p in xy.tolist()]
        if len(flat) > 1:
            draw.line(flat, fill=0, width=width, joint="curve")
        for x, y in (flat[0], flat[-1]):  # round caps
            draw.ellipse((x - r, y - r, x + r, y + r), fill=0)
    return np.asarray(canvas.resize((size, size), Image.Resampling.LANCZOS), dtype=np.uint8)


def _dedup(xy: np.ndarray) -> np.ndarray:
    """The points of a stroke without those on the same pixel as the point before (the ends are kept)."""
    if len(xy) < 3:
        return xy
    cell = np.floor(xy)
    keep = np.ones(len(xy), bool)
    keep[1:] = np.any(cell[1:] != cell[:-1], axis=1)
    keep[-1] = True
    return xy[keep]
