"""The cursive dev set: all 178 HSK1 characters (and other hanzi for Unknown) from sources training never sees.

Real handwriting of all 178 characters is not available to us; Chinese MNIST covers 11. So checkpoint selection
and calibration also look at two held-out stand-ins, each saved as a real-data ``.npz`` (``images`` uint8 ink on
white, ``labels`` the character, ``writers``):

- ``font``: the handwriting fonts in ``synth.fonts.DEV_FONTS`` (Zhi Mang Xing, running script), which training
  leaves out, rendered with the pen, paper and warp of the synthesiser;
- ``cursive``: the stroke synthesiser at a stress setting beyond its training range (``CURSIVE_STRESS``): every
  stroke run joined, strong smoothing, messier placement, a canvas-like 3–5 % pen.

"Writer" k is the k-th sample of every character, so that intervals can be bootstrapped over writers the same way
as on real data (they measure the spread of the synthesiser's draws, not of people).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .charset import hsk1_chars
from .synth.config import SynthConfig
from .synth.fonts import DEV_FONTS
from .synth.synthesizer import Synthesizer

CURSIVE_STRESS = dict(
    separate_prob=0.0, join_prob=(0.9, 1.0), connector_width=(0.8, 1.0), connector_ink=(0.8, 1.0),
    smooth_prob=1.0, smooth=(0.03, 0.07), messiness=(1.0, 1.6), trim=0.2, pen_width=(0.03, 0.05),
    wide_pen_prob=0.0, small_prob=0.0, outline_prob=0.0, fonts=(),
)
FONT_DEV = dict(fonts=DEV_FONTS, font_prob=1.0, small_prob=0.0, pen_width=(0.02, 0.05))
SOURCES = {"cursive": CURSIVE_STRESS, "font": FONT_DEV}


def make(source: str, per_char: int = 8, unknown: int = 400, seed: int = 0
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images uint8 [N, 64, 64], labels, writers) of dev source ``source`` ("cursive" or "font"):
    ``per_char`` samples of every HSK1 character, then ``unknown`` other hanzi (not look-alikes of HSK1 ones)."""
    if source not in SOURCES:
        raise ValueError(f"unknown cursive dev source {source!r}; known: {', '.join(SOURCES)}")
    synth = Synthesizer(config=SynthConfig(**SOURCES[source]))
    rng = np.random.default_rng([seed, list(SOURCES).index(source)])
    images, labels, writers = [], [], []
    chars = [c for c in hsk1_chars() if source != "font" or _in_dev_font(c)]  # a font may lack a simplified form
    for k in range(per_char):
        for char in chars:
            images.append(synth.char(char, rng))
            labels.append(char)
            writers.append(f"{source}{k:02d}")
    others = synth._other_chars()[1]  # ≤ 8 strokes: the likelier confusions
    usable = [c for c in others if source != "font" or _in_dev_font(c)]
    for j in range(unknown):
        char = usable[int(rng.integers(len(usable)))]
        images.append(synth.char(char, rng))
        labels.append(char)
        writers.append(f"{source}{j % per_char:02d}")
    return np.stack(images), np.array(labels), np.array(writers)


def _in_dev_font(char: str) -> bool:
    from .synth.fonts import usable

    return any(usable(k, char) for k in DEV_FONTS)


def save(out: Path, source: str, per_char: int = 8, unknown: int = 400, seed: int = 0) -> Path:
    images, labels, writers = make(source, per_char, unknown, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, images=images, labels=labels, writers=writers)
    return out
