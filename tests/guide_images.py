"""Practice grids and ruled lines as a photo shows them, turned a little: drawn 4× larger, turned, and shrunk
(anti-aliased), so the guide's pixels fall between rows and columns as a camera's do."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw


def turned_guides(h: int, w: int, kind: str, tilt: float, grey: int = 170, inset: float = 3.0) -> np.ndarray:
    """A ``grey`` guide on white paper (uint8 h × w), turned by ``tilt`` degrees: a 田字格 (frame ``inset`` px from
    the edge, and cross), a 米字格 (with diagonals) or ruled lines every 20 px."""
    W, H = 4 * w, 4 * h
    big = Image.new("L", (W, H), 255)
    draw = ImageDraw.Draw(big)
    if kind == "ruled":
        segments = [((-W, y), (2 * W, y)) for y in range(40, H, 80)]
    else:
        e = round(4 * inset)
        segments = [((e, e), (W - e, e)), ((e, H - e), (W - e, H - e)), ((e, e), (e, H - e)),
                    ((W - e, e), (W - e, H - e)), ((0, H // 2), (W, H // 2)), ((W // 2, 0), (W // 2, H))]
        segments += [((0, 0), (W, H)), ((0, H), (W, 0))] if kind == "米字格" else []
    for p0, p1 in segments:
        draw.line((p0, p1), fill=grey, width=5)
    turned = big.rotate(tilt, resample=Image.Resampling.BICUBIC, fillcolor=255)
    return np.asarray(turned.resize((w, h), Image.Resampling.BOX))
