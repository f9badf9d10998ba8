"""Stroke diagnosis on synthesised handwriting: top-1 of the named missing stroke, false alarms, ms per diagnosis.

Run: .venv/bin/python benchmarks/bench_diagnose.py [--per-char 2] [--every 1] [--seed 0] [--style both] [--json]
(``--every 3`` takes every third HSK1 character, for a quicker look.)
"""

from __future__ import annotations

import argparse
import json

from hanzicheck.data.charset import hsk1_chars
from hanzicheck.engine.diagnosis_eval import evaluate_diagnosis


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-char", type=int, default=2, help="stroke-dropped and complete samples per character")
    parser.add_argument("--every", type=int, default=1, help="take every N-th HSK1 character")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--style", choices=["synth", "canvas", "both"], default="both",
                        help="synthesised handwriting, plain canvas drawings, or both")
    parser.add_argument("--json", action="store_true", help="print each report as one JSON object")
    args = parser.parse_args()
    styles = ["synth", "canvas"] if args.style == "both" else [args.style]
    for style in styles:
        report = evaluate_diagnosis(hsk1_chars()[::args.every], per_char=args.per_char, seed=args.seed, style=style)
        if args.json:
            print(json.dumps(report.to_dict(), ensure_ascii=False))
            continue
        print(report.summary())
        print(f"  top-1 {report.top1:.3f} (aim ≥ 0.8), false alarms {report.false_alarm:.3f} (aim ≤ 0.05), "
              f"{report.ms_per_diagnosis:.1f} ms per diagnosis (one core)")


if __name__ == "__main__":
    main()
