"""The Unknown trade-off: for extra offsets subtracted from a model's Unknown log-probability, and for confidence
thresholds (below which the best character is answered Unknown; the shipped rule's is 0.3), the share of HSK1
samples answered Unknown, HSK1 top-1, and the share of non-HSK1 samples still rejected, per source.

Usage: python scripts/unknown_tradeoff.py [--offsets=-0.5,0,0.5] [--thresholds=0.3,0.5] MODEL DATA.npz [DATA.npz ...]
(npz: images, labels[, writers]); a negative offset, or a higher threshold, answers Unknown more often.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from hanzicheck.engine.answered import answer_npz
from hanzicheck.inference.artifacts import DEFAULT_CONFIDENCE_THRESHOLD
from hanzicheck.inference.calibration import apply_unknown_bias
from hanzicheck.inference.recognizer import Recognizer, answers

OFFSETS = (0.0, 0.5, 1.0, 2.0, 3.0)
THRESHOLDS = (DEFAULT_CONFIDENCE_THRESHOLD,)


def shifted_answers(probs: np.ndarray, unknown: int, offset: float, threshold: float) -> np.ndarray:
    """The answers once ``offset`` more is subtracted from the Unknown logit, at confidence ``threshold``."""
    return answers(apply_unknown_bias(probs, offset, unknown), unknown, threshold)


def main(model: str, paths: list[str], offsets: tuple[float, ...] = OFFSETS,
         thresholds: tuple[float, ...] = THRESHOLDS) -> None:
    rec = Recognizer.load(model)
    unknown = len(rec.classes) - 1
    print("| source | extra offset | threshold | HSK1 top-1 | HSK1 answered Unknown | non-HSK1 rejected |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for path in paths:
        a = answer_npz(rec, path)
        truth, known = a.truth, a.known
        for off in offsets:
            for threshold in thresholds:
                pred = shifted_answers(a.probs, unknown, off, threshold)
                cells = [f"{100 * np.mean(pred[known] == truth[known]):.1f} %" if known.any() else "—",
                         f"{100 * np.mean(pred[known] == unknown):.1f} %" if known.any() else "—",
                         f"{100 * np.mean(pred[~known] == unknown):.1f} %" if (~known).any() else "—"]
                print(f"| {Path(path).name} | {off:g} | {threshold:g} | " + " | ".join(cells) + " |")


def _values(args: list[str], flag: str, default: tuple[float, ...]) -> tuple[float, ...]:
    """The comma-separated numbers of ``--flag=…`` taken out of ``args``, or ``default``."""
    for arg in args:
        if arg.startswith(f"--{flag}="):
            args.remove(arg)
            return tuple(float(v) for v in arg.split("=", 1)[1].split(","))
    return default


if __name__ == "__main__":
    args = sys.argv[1:]
    chosen = _values(args, "offsets", OFFSETS)
    chosen_thresholds = _values(args, "thresholds", THRESHOLDS)
    if len(args) < 2:
        sys.exit(__doc__)
    main(args[0], args[1:], chosen, chosen_thresholds)
