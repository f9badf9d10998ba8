"""The Unknown trade-off: for extra offsets subtracted from a model's Unknown log-probability, the share of HSK1
samples answered Unknown, HSK1 top-1, and the share of non-HSK1 samples still rejected, per source.

Usage: python scripts/unknown_tradeoff.py [--offsets=-0.5,0,0.5] MODEL DATA.npz [DATA.npz ...]
(npz: images, labels[, writers]); a negative offset answers Unknown more often.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from hanzicheck.engine.answered import answer_npz
from hanzicheck.inference.artifacts import DEFAULT_CONFIDENCE_THRESHOLD
from hanzicheck.inference.recognizer import Recognizer, answers

OFFSETS = (0.0, 0.5, 1.0, 2.0, 3.0)


def main(model: str, paths: list[str], offsets: tuple[float, ...] = OFFSETS) -> None:
    rec = Recognizer.load(model)
    unknown = len(rec.classes) - 1
    print("| source | extra offset | HSK1 top-1 | HSK1 answered Unknown | non-HSK1 rejected |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for path in paths:
        a = answer_npz(rec, path)
        truth, known = a.truth, a.known
        logp = np.log(np.maximum(a.probs, 1e-12))
        for off in offsets:
            shifted = logp.copy()
            shifted[:, unknown] -= off
            p = np.exp(shifted - shifted.max(axis=1, keepdims=True))
            pred = answers(p / p.sum(axis=1, keepdims=True), unknown, DEFAULT_CONFIDENCE_THRESHOLD)
            cells = [f"{100 * np.mean(pred[known] == truth[known]):.1f} %" if known.any() else "—",
                     f"{100 * np.mean(pred[known] == unknown):.1f} %" if known.any() else "—",
                     f"{100 * np.mean(pred[~known] == unknown):.1f} %" if (~known).any() else "—"]
            print(f"| {Path(path).name} | {off:g} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    args = sys.argv[1:]
    chosen = OFFSETS
    if args and args[0].startswith("--offsets="):
        chosen = tuple(float(v) for v in args.pop(0).split("=", 1)[1].split(","))
    if len(args) < 2:
        sys.exit(__doc__)
    main(args[0], args[1:], chosen)
