"""Uneven lighting: the bundled model's top-1 on all 178 characters drawn canvas-style and then lit unevenly, as a
photo of a page can be, with and without ``preprocess.flatten_paper``.

Usage: python scripts/lighting_probe.py [MODEL] [PER_CHAR]  (default: the bundled model, 2 drawings a character;
seed 3 of the canvas-pair synthesiser, 128 px, a 3–5 % pen).
"""

from __future__ import annotations

import sys

import numpy as np

import hanzicheck.data.preprocess as prep
from hanzicheck.data.charset import hsk1_chars
from hanzicheck.data.cursive_dev import CANVAS_PAIRS, PAIR_CANVAS
from hanzicheck.data.synth.config import SynthConfig
from hanzicheck.data.synth.synthesizer import Synthesizer
from hanzicheck.inference.recognizer import Recognizer

_Y, _X = np.mgrid[0:PAIR_CANVAS, 0:PAIR_CANVAS] / (PAIR_CANVAS - 1)
LIGHTING = {
    "even": np.ones((PAIR_CANVAS, PAIR_CANVAS)),
    "shadow across, paper 255 → 170": 1.0 - (1 - 170 / 255) * _X,
    "shadow across, paper 255 → 120": 1.0 - (1 - 120 / 255) * _X,
    "shadow in one corner, paper down to 150": 1.0 - (1 - 150 / 255) * _X * _Y,
}


def main(model: str | None = None, per_char: int = 2) -> None:
    rec = Recognizer.load(model)
    synth = Synthesizer(config=SynthConfig(**CANVAS_PAIRS), canvas=PAIR_CANVAS)
    rng = np.random.default_rng([3, 11])
    chars = hsk1_chars()
    drawings = [(c, synth.char(c, rng)) for _ in range(per_char) for c in chars]
    flatten = prep.flatten_paper
    print(f"| lighting ({len(drawings)} drawings) | top-1, flattened | answered Unknown | top-1, not flattened "
          "| answered Unknown |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, light in LIGHTING.items():
        images = [np.floor(img * light).astype(np.uint8) for _, img in drawings]
        cells = []
        for fn in (flatten, lambda gray: gray):
            prep.flatten_paper = fn
            answers = [getattr(r, "char", None) for r in rec.classify_many(images)]
            cells += [f"{np.mean([a == c for a, (c, _) in zip(answers, drawings, strict=True)]):.3f}",
                      f"{np.mean([a == 'Unknown' for a in answers]):.3f}"]
        prep.flatten_paper = flatten
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0] if args else None, int(args[1]) if len(args) > 1 else 2)
