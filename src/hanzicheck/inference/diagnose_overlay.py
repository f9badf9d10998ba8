"""Overlay picture of a diagnosis: the drawing in grey, the aligned reference strokes coloured by score.

Present strokes are green, doubtful ones orange, missing ones red (thick, numbered by their stroke index);
extra ink is boxed in magenta.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .align import decode, stroke_arrays
from .diagnose import MISSING_SCORE, Analysis, is_strokes

_SIDE = 384  # longest side of the overlay picture


def _colour(score: float, missing: bool) -> tuple[int, int, int]:
    if missing:
        return (220, 30, 30)
    if score < 0.5:
        return (240, 150, 20)
    return (20, 160, 60)


def draw_overlay(image_or_strokes, analysis: Analysis) -> Image.Image:
    """An RGB picture of the drawing with the reference strokes laid over it where the diagnosis put them."""
    sx, ox, oy = analysis.drawing.to_input
    if is_strokes(image_or_strokes):
        arrays = stroke_arrays(image_or_strokes)
        pts = np.concatenate(arrays)
        hi = pts.max(axis=0)
        w, h = int(np.ceil(hi[0])) + 8, int(np.ceil(hi[1])) + 8
        k = _SIDE / max(w, h)
        base = Image.new("RGB", (max(1, round(w * k)), max(1, round(h * k))), "white")
        pen = ImageDraw.Draw(base)
        for a in arrays:
            pen.line([tuple(p) for p in (a * k).tolist()], fill=(150, 150, 150), width=max(2, round(6 * k)),
                     joint="curve")
    else:
        gray = decode(image_or_strokes).astype(np.float32)  # a uint8 array (already decoded) is used as it is
        h, w = gray.shape
        k = _SIDE / max(w, h)
        faded = 255 - (255 - np.clip(gray, 0, 255)) * 0.55  # fade the drawing so the colours stand out
        base = Image.fromarray(faded.astype(np.uint8)).convert("RGB")
        base = base.resize((max(1, round(w * k)), max(1, round(h * k))), Image.Resampling.BILINEAR)
    pen = ImageDraw.Draw(base)
    ref = analysis.reference
    pts = analysis.alignment.apply(ref)  # working frame
    xy = np.stack([pts[:, 0] * sx + ox, pts[:, 1] * sx + oy], axis=1) * k
    width = max(2, round(_SIDE / 80))
    for s in range(ref.n_strokes):
        line = xy[ref.labels == s]
        score = float(analysis.scores[s])
        missing = s in analysis.missing
        colour = _colour(score, missing)
        lw = width * 2 if missing else width
        if len(line) > 1:
            pen.line([tuple(p) for p in line.tolist()], fill=colour, width=lw, joint="curve")
        x, y = line[0]
        r = lw
        pen.ellipse((x - r, y - r, x + r, y + r), fill=colour)  # the stroke's start
        if missing or score < MISSING_SCORE:
            pen.text((x + r + 1, y - 6), str(s), fill=colour)
    for x0, y0, x1, y1 in analysis.extra_ink:
        pen.rectangle((x0 * k, y0 * k, x1 * k, y1 * k), outline=(200, 0, 200), width=2)
    return base


def save_overlay(image_or_strokes, analysis: Analysis, path: str | Path) -> Path:
    """Write :func:`draw_overlay` as a PNG; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    draw_overlay(image_or_strokes, analysis).save(path, format="PNG")
    return path
