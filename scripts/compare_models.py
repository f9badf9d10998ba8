"""Two models on the same labelled sources, paired: per source the change (B − A) in top-1 (the answer a user
sees), HSK1 answered Unknown and non-HSK1 rejected, each with a 95 % bootstrap interval that resamples whole
writers for both models at once (``hanzicheck.engine.intervals.paired_difference``), and the characters that
moved most. A change whose interval excludes 0 is one these writers agree on.

Usage: python scripts/compare_models.py MODEL_A MODEL_B OUT.json DATA.npz [DATA.npz ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from hanzicheck.engine.answered import answer_npz
from hanzicheck.engine.intervals import paired_difference
from hanzicheck.inference.recognizer import Recognizer


def compare(a: Recognizer, b: Recognizer, path: Path) -> dict:
    first, second = answer_npz(a, path), answer_npz(b, path)
    pa, pb = first.pred, second.pred
    truth, labels, writers, unknown, known = first.truth, first.labels, first.writers, first.unknown, first.known
    out: dict = {"source": path.name, "hsk1": int(known.sum()), "other": int((~known).sum())}

    def diff(mask: np.ndarray, hit_a: np.ndarray, hit_b: np.ndarray) -> dict:
        d, lo, hi = paired_difference(hit_a[mask], hit_b[mask], writers[mask])
        return {"a": float(hit_a[mask].mean()), "b": float(hit_b[mask].mean()), "change": d, "ci": [lo, hi]}

    if known.any():
        out["top1"] = diff(known, pa == truth, pb == truth)
        out["answered_unknown"] = diff(known, pa == unknown, pb == unknown)
        moved = {}
        for char in sorted(set(labels[known])):
            m = labels == char
            moved[char] = float((pb[m] == truth[m]).mean() - (pa[m] == truth[m]).mean())
        ranked = sorted(moved.items(), key=lambda kv: kv[1])
        out["worse"] = [[c, round(v, 3)] for c, v in ranked[:8] if v < 0]
        out["better"] = [[c, round(v, 3)] for c, v in ranked[::-1][:8] if v > 0]
    if (~known).any():
        out["other_rejected"] = diff(~known, pa == unknown, pb == unknown)
    return out


def _fmt(r: dict) -> str:
    return (f"{r['a'] * 100:.1f} → {r['b'] * 100:.1f} % ({r['change'] * 100:+.1f} "
            f"[{r['ci'][0] * 100:+.1f}, {r['ci'][1] * 100:+.1f}])")


def main(model_a: str, model_b: str, out: Path, sources: list[Path]) -> None:
    a, b = Recognizer.load(model_a), Recognizer.load(model_b)
    rows = [compare(a, b, p) for p in sources]
    out.write_text(json.dumps({"a": model_a, "b": model_b, "sources": rows}, ensure_ascii=False, indent=1))
    print("| source | top-1 | HSK1 answered Unknown | non-HSK1 rejected |\n|---|---|---|---|")
    for r in rows:
        cells = [_fmt(r[k]) if k in r else "—" for k in ("top1", "answered_unknown", "other_rejected")]
        print(f"| {r['source']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) < 4:
        sys.exit(__doc__)
    main(args[0], args[1], Path(args[2]), [Path(p) for p in args[3:]])
