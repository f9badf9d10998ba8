"""Per source and per character: top-1 (the answer a user sees), HSK1 answered Unknown and non-HSK1 rejected, each
with a 95 % bootstrap interval over writers (``hanzicheck.engine.intervals``). Markdown on stdout, JSON beside it.

Usage: python scripts/writer_intervals.py MODEL OUT.json DATA.npz [DATA.npz ...]
(npz with ``images``, ``labels``, ``writers``, as in ../shared/data/real and scripts/make_cursive_dev.py)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hanzicheck.data.charset import hsk1_chars
from hanzicheck.engine.answered import answer_npz
from hanzicheck.engine.intervals import writer_interval
from hanzicheck.inference.recognizer import Recognizer


def _fmt(r: tuple[float, float, float]) -> str:
    return f"{r[0] * 100:.1f} % [{r[1] * 100:.1f}, {r[2] * 100:.1f}]"


def source_figures(rec: Recognizer, path: Path) -> dict:
    a = answer_npz(rec, path)
    pred, truth, labels, writers, unknown, known = a.pred, a.truth, a.labels, a.writers, a.unknown, a.known
    out = {"source": path.name, "hsk1": int(known.sum()), "other": int((~known).sum()), "per_char": {}}
    if known.any():
        out["top1"] = writer_interval(pred[known] == truth[known], writers[known])
        out["answered_unknown"] = writer_interval(pred[known] == unknown, writers[known])
    if (~known).any():
        out["non_hsk1_rejected"] = writer_interval(pred[~known] == unknown, writers[~known])
    for ch in hsk1_chars():
        m = labels == ch
        if m.any():
            out["per_char"][ch] = {"n": int(m.sum()), "top1": writer_interval(pred[m] == truth[m], writers[m]),
                                   "unknown": float((pred[m] == unknown).mean())}
    return out


def main(model: str, out_json: str, paths: list[str]) -> None:
    rec = Recognizer.load(model)
    figures = [source_figures(rec, Path(p)) for p in paths]
    Path(out_json).write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
    print("| source | HSK1 samples | top-1 | HSK1 answered Unknown | non-HSK1 | non-HSK1 rejected |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for f in figures:
        print(f"| {f['source']} | {f['hsk1']:,} | {_fmt(f['top1']) if 'top1' in f else ''} | "
              f"{_fmt(f['answered_unknown']) if 'answered_unknown' in f else ''} | {f['other']:,} | "
              f"{_fmt(f['non_hsk1_rejected']) if 'non_hsk1_rejected' in f else ''} |")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
