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


# -- verification pairs built like the held-out set's ------------------------------------------------------------
# Canvas-style drawings (128 px, a pen 3–5 % of the character), at the synthesiser's fitted joining (pen-down runs a
# median 0.6 of the strokes): each drawing is a correct pair, a wrong_char and (where the character has one) a
# lookalike impostor with another target, and, drawn again without one long pen-down run, a missing_stroke impostor.
CANVAS_PAIRS = dict(fonts=(), small_prob=0.0, outline_prob=0.0, wide_pen_prob=0.0, pen_width=(0.03, 0.05))
PAIR_CANVAS = 128


def pen_drop_pairs(per_char: int = 4, seed: int = 1, overrides: dict | None = None
                   ) -> tuple[list[np.ndarray], list[tuple[int, str, str, str]]]:
    """Images (uint8) and (image index, target, kind, writer) rows: ``per_char`` drawings of every HSK1 character,
    each scored against its own character (genuine), another HSK1 character (wrong_char) and a look-alike
    (lookalike), and drawn once more without one long pen-down run (missing_stroke). ``overrides``: synthesiser
    settings on top of ``CANVAS_PAIRS`` (e.g. a messier hand)."""
    from .lookalikes import hsk1_lookalikes

    synth = Synthesizer(config=SynthConfig(**{**CANVAS_PAIRS, **(overrides or {})}), canvas=PAIR_CANVAS)
    rng = np.random.default_rng([seed, 7])
    chars, similar = hsk1_chars(), hsk1_lookalikes()
    images: list[np.ndarray] = []
    rows: list[tuple[int, str, str, str]] = []
    for k in range(per_char):
        writer = f"pairs{k:02d}"
        for char in chars:
            pair = synth.pen_drop_pair(char, rng)
            if pair is None:  # written in one pen-down run: nothing to leave out
                continue
            whole, dropped = len(images), len(images) + 1
            images += pair[:2]
            other = chars[int(rng.integers(len(chars) - 1))]
            other = other if other != char else chars[-1]
            rows += [(whole, char, "genuine", writer), (whole, other, "wrong_char", writer)]
            if similar.get(char):
                rows.append((whole, str(rng.choice(similar[char])), "lookalike", writer))
            rows.append((dropped, char, "missing_stroke", writer))
    return images, rows


def save_pairs(table: Path, per_char: int = 4, seed: int = 1, overrides: dict | None = None) -> Path:
    """The pair CSV ``table`` (file,target,kind,writer) and its PNGs in the folder beside it named after it
    (``pairs.csv`` → ``pairs_images/``); refuses an existing ``table``. ``hanzicheck evaluate --data table``
    prints the four verify figures of the held-out set."""
    import csv

    from PIL import Image

    if table.exists():
        raise FileExistsError(f"{table} exists; remove it or write elsewhere")
    images, rows = pen_drop_pairs(per_char, seed, overrides)
    folder = table.parent / f"{table.stem}_images"
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / f"{i:05d}.png")
    with table.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "target", "kind", "writer"])
        writer.writerows((f"{folder.name}/{i:05d}.png", target, kind, who) for i, target, kind, who in rows)
    return table
