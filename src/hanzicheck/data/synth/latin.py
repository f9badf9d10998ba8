"""Pen-stroke skeletons of Latin letters and digits, and random scribbles, for Unknown-class samples.

Glyphs are written as a person would (stroke order, one line per pen-down) in a box with y down: capitals and
digits span y 0–1, lower case has its x-height at 0.4–1, ascenders from 0, descenders to 1.35. They go through
the same handwriting engine as the characters, so pen, joins and wobble match.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .shapes import resample, smooth


def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float) -> list[tuple[float, float]]:
    """Elliptic arc, angles in degrees counter-clockwise as seen on paper (0 = right, 90 = up)."""
    n = max(4, int(abs(a1 - a0) / 15))
    t = np.deg2rad(np.linspace(a0, a1, n))
    return list(zip((cx + rx * np.cos(t)).tolist(), (cy - ry * np.sin(t)).tolist(), strict=True))


A = _arc
_DOT = "dot"


def _glyphs() -> dict[str, list[list[tuple[float, float]]]]:
    g: dict[str, list] = {
        "A": [[(0, 1), (0.35, 0), (0.7, 1)], [(0.15, 0.6), (0.55, 0.6)]],
        "B": [[(0, 0), (0, 1)], [(0, 0), (0.4, 0)] + A(0.4, 0.25, 0.22, 0.25, 90, -90) + [(0, 0.5)],
              [(0, 0.5), (0.42, 0.5)] + A(0.42, 0.75, 0.26, 0.25, 90, -90) + [(0, 1)]],
        "C": [A(0.45, 0.5, 0.42, 0.5, 50, 310)],
        "D": [[(0, 0), (0, 1)], [(0, 0), (0.3, 0)] + A(0.3, 0.5, 0.38, 0.5, 90, -90) + [(0, 1)]],
        "E": [[(0.65, 0), (0, 0), (0, 1), (0.65, 1)], [(0, 0.5), (0.5, 0.5)]],
        "F": [[(0.65, 0), (0, 0), (0, 1)], [(0, 0.5), (0.5, 0.5)]],
        "G": [A(0.45, 0.5, 0.42, 0.5, 50, 360) + [(0.5, 0.5)]],
        "H": [[(0, 0), (0, 1)], [(0.7, 0), (0.7, 1)], [(0, 0.5), (0.7, 0.5)]],
        "I": [[(0.1, 0), (0.5, 0)], [(0.3, 0), (0.3, 1)], [(0.1, 1), (0.5, 1)]],
        "J": [[(0.6, 0)] + A(0.35, 0.72, 0.25, 0.28, 0, -180)],
        "K": [[(0, 0), (0, 1)], [(0.65, 0), (0, 0.6)], [(0.2, 0.45), (0.7, 1)]],
        "L": [[(0, 0), (0, 1), (0.6, 1)]],
        "M": [[(0, 1), (0.05, 0), (0.4, 0.7), (0.75, 0), (0.8, 1)]],
        "N": [[(0, 1), (0, 0), (0.7, 1), (0.7, 0)]],
        "O": [A(0.4, 0.5, 0.4, 0.5, 100, 460)],
        "P": [[(0, 1), (0, 0), (0.35, 0)] + A(0.35, 0.27, 0.3, 0.27, 90, -90) + [(0, 0.54)]],
        "Q": [A(0.4, 0.5, 0.4, 0.5, 100, 460), [(0.45, 0.7), (0.85, 1.05)]],
        "R": [[(0, 1), (0, 0), (0.35, 0)] + A(0.35, 0.27, 0.3, 0.27, 90, -90) + [(0, 0.54), (0.7, 1)]],
        "S": [A(0.35, 0.26, 0.32, 0.26, 30, 270) + A(0.35, 0.74, 0.35, 0.26, 90, -150)],
        "T": [[(0, 0), (0.7, 0)], [(0.35, 0), (0.35, 1)]],
        "U": [[(0, 0)] + A(0.35, 0.65, 0.35, 0.35, 180, 360) + [(0.7, 0)]],
        "V": [[(0, 0), (0.35, 1), (0.7, 0)]],
        "W": [[(0, 0), (0.2, 1), (0.45, 0.3), (0.7, 1), (0.9, 0)]],
        "X": [[(0, 0), (0.7, 1)], [(0.7, 0), (0, 1)]],
        "Y": [[(0, 0), (0.35, 0.5), (0.7, 0)], [(0.35, 0.5), (0.35, 1)]],
        "Z": [[(0, 0), (0.7, 0), (0, 1), (0.7, 1)]],
        "a": [A(0.3, 0.7, 0.3, 0.3, 30, 390), [(0.6, 0.4), (0.6, 1)]],
        "b": [[(0, 0), (0, 1)], A(0.3, 0.7, 0.3, 0.3, 180, 540)],
        "c": [A(0.3, 0.7, 0.3, 0.3, 45, 315)],
        "d": [A(0.3, 0.7, 0.3, 0.3, 0, 360), [(0.6, 0), (0.6, 1)]],
        "e": [[(0.02, 0.7), (0.6, 0.7)] + A(0.3, 0.7, 0.3, 0.3, 0, 315)],
        "f": [A(0.5, 0.15, 0.2, 0.15, 30, 180) + [(0.3, 1)], [(0.1, 0.45), (0.5, 0.45)]],
        "g": [A(0.3, 0.7, 0.3, 0.3, 0, 360), [(0.6, 0.4)] + A(0.32, 1.15, 0.28, 0.2, 0, -160)],
        "h": [[(0, 0), (0, 1)], [(0, 0.68)] + A(0.28, 0.65, 0.27, 0.25, 170, 0) + [(0.55, 1)]],
        "i": [[(0.2, 0.4), (0.2, 1)], [(0.2, 0.2), _DOT]],
        "j": [[(0.4, 0.4)] + A(0.2, 1.15, 0.2, 0.2, 0, -170), [(0.4, 0.2), _DOT]],
        "k": [[(0, 0), (0, 1)], [(0.5, 0.4), (0, 0.75), (0.55, 1)]],
        "l": [[(0.2, 0), (0.2, 1)]],
        "m": [[(0, 0.4), (0, 1)], [(0, 0.62)] + A(0.2, 0.6, 0.2, 0.2, 180, 0) + [(0.4, 1)],
              [(0.4, 0.62)] + A(0.6, 0.6, 0.2, 0.2, 180, 0) + [(0.8, 1)]],
        "n": [[(0, 0.4), (0, 1)], [(0, 0.68)] + A(0.27, 0.65, 0.27, 0.25, 180, 0) + [(0.54, 1)]],
        "o": [A(0.3, 0.7, 0.3, 0.3, 100, 460)],
        "p": [[(0, 0.4), (0, 1.35)], A(0.3, 0.7, 0.3, 0.3, 180, 540)],
        "q": [A(0.3, 0.7, 0.3, 0.3, 0, 360), [(0.6, 0.4), (0.6, 1.35)]],
        "r": [[(0, 0.4), (0, 1)], [(0, 0.68)] + A(0.25, 0.65, 0.25, 0.22, 180, 60)],
        "s": [A(0.25, 0.55, 0.22, 0.15, 30, 270) + A(0.25, 0.85, 0.25, 0.15, 90, -150)],
        "t": [[(0.2, 0.1), (0.2, 1), (0.4, 1)], [(0, 0.4), (0.45, 0.4)]],
        "u": [[(0, 0.4)] + A(0.27, 0.75, 0.27, 0.25, 180, 360), [(0.54, 0.4), (0.54, 1)]],
        "v": [[(0, 0.4), (0.3, 1), (0.6, 0.4)]],
        "w": [[(0, 0.4), (0.17, 1), (0.35, 0.55), (0.53, 1), (0.7, 0.4)]],
        "x": [[(0, 0.4), (0.55, 1)], [(0.55, 0.4), (0, 1)]],
        "y": [[(0, 0.4), (0.3, 1)], [(0.6, 0.4), (0.15, 1.35)]],
        "z": [[(0, 0.4), (0.55, 0.4), (0, 1), (0.55, 1)]],
        "0": [A(0.3, 0.5, 0.3, 0.5, 100, 460)],
        "1": [[(0.1, 0.2), (0.35, 0), (0.35, 1)]],
        "2": [A(0.3, 0.28, 0.28, 0.28, 150, -30) + [(0, 1), (0.6, 1)]],
        "3": [A(0.3, 0.27, 0.27, 0.23, 150, -90) + A(0.3, 0.73, 0.3, 0.27, 90, -150)],
        "4": [[(0.45, 1), (0.45, 0), (0, 0.7), (0.65, 0.7)]],
        "5": [[(0.55, 0), (0.1, 0), (0.05, 0.45)] + A(0.3, 0.68, 0.3, 0.3, 140, -150)],
        "6": [[(0.5, 0), (0.1, 0.5)] + A(0.3, 0.72, 0.28, 0.28, 160, 520)],
        "7": [[(0, 0), (0.6, 0), (0.2, 1)]],
        "8": [A(0.3, 0.25, 0.25, 0.25, 270, 630) + A(0.3, 0.73, 0.3, 0.27, 90, 450)],
        "9": [A(0.3, 0.3, 0.28, 0.3, 0, 360) + [(0.58, 0.3), (0.5, 1)]],
    }
    for strokes in g.values():  # a dot: a short tick where it stands
        for i, s in enumerate(strokes):
            if s[-1] == _DOT:
                x, y = s[0]
                strokes[i] = [(x, y), (x + 0.02, y + 0.03)]
    return g


@lru_cache(maxsize=1)
def latin_glyphs() -> dict[str, tuple[np.ndarray, ...]]:
    """Letter/digit → its pen strokes, resampled polylines (y down) scaled to a unit-high box."""
    return {k: tuple(resample(np.array(s, np.float32) * 0.8) for s in v) for k, v in _glyphs().items()}


def scribble(rng: np.random.Generator) -> list[np.ndarray]:
    """Random pen marks that are no character: loops, zigzags, spirals, hatching or a wandering line.

    Never one or two plain strokes: real 八 written as two short lines, or 七 as a slanted 'L', sat among such
    scribbles in the model's embedding and came out Unknown (八 24 % of the dev writers' samples)."""
    kind = rng.integers(4)
    if kind == 0:  # a wandering smooth line, sometimes crossing itself
        pts = np.cumsum(rng.normal(0, 0.25, (rng.integers(5, 12), 2)), axis=0)
        lines = [smooth(resample(pts), 3.0)]
    elif kind == 1:  # zigzag
        n = rng.integers(4, 10)
        x = np.linspace(0, 1, n)
        y = np.where(np.arange(n) % 2, 0.0, 1.0) * rng.uniform(0.3, 1) + rng.normal(0, 0.05, n)
        lines = [resample(np.stack([x, y], 1))]
    elif kind == 2:  # spiral or loops
        t = np.linspace(0, rng.uniform(2, 6) * np.pi, 120)
        r = np.linspace(0.1, 0.5, 120) if rng.random() < 0.5 else 0.3 + 0 * t
        drift = np.linspace(0, rng.uniform(0, 1.2), 120)
        lines = [resample(np.stack([r * np.cos(t) + drift, r * np.sin(t)], 1))]
    else:  # hatching
        n = rng.integers(3, 7)
        off = np.sort(rng.uniform(0, 1, n))
        tilt = rng.uniform(-0.5, 0.5)
        lines = [resample(np.array([[o, 0.0], [o + tilt, 1.0]])) for o in off]
    return [ln.astype(np.float32) for ln in lines]
