"""Stroke diagnosis on synthesised handwriting: top-1 of the named missing stroke, false alarms, ms per diagnosis.

Run: .venv/bin/python benchmarks/bench_diagnose.py [--per-char 2] [--every 1] [--seed 0] [--style both] [--json]
       [--model DIR | --no-model]
With a model (the bundled one by default) the diagnosis uses its stroke-drop templates as ``Recognizer.diagnose``
does; ``--no-model`` measures the stroke alignment alone.
(``--every 3`` takes every third HSK1 character, for a quicker look.)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from hanzicheck.data.charset import hsk1_chars
from hanzicheck.engine.diagnosis_eval import evaluate_diagnosis
from hanzicheck.inference.recognizer import Recognizer

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "chinese_mnist_dev.npz"


def real_false_alarms(rec: Recognizer | None, n: int = 300, seed: int = 0) -> tuple[float, int]:
    """Share of real, complete HSK1 characters (Chinese MNIST writers 26–50, multi-stroke) named as missing a stroke."""
    from hanzicheck.data.strokes import default_db
    from hanzicheck.inference.diagnose import diagnose

    db, data = default_db(), np.load(REAL)
    hsk = set(hsk1_chars())
    pick = [i for i, (label, w) in enumerate(zip(data["labels"], data["writers"], strict=True))
            if str(label) in hsk and w > 25 and len(db.get(str(label)).medians) > 1]
    pick = np.random.default_rng(seed).choice(pick, min(n, len(pick)), replace=False)
    alarms = sum(bool(diagnose(data["images"][i], str(data["labels"][i]), recognizer=rec, db=db).missing_strokes)
                 for i in pick)
    return alarms / len(pick), len(pick)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-char", type=int, default=2, help="stroke-dropped and complete samples per character")
    parser.add_argument("--every", type=int, default=1, help="take every N-th HSK1 character")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--style", choices=["synth", "canvas", "both"], default="both",
                        help="synthesised handwriting, plain canvas drawings, or both")
    parser.add_argument("--json", action="store_true", help="print each report as one JSON object")
    parser.add_argument("--model", help="artifacts folder (default: the bundled model)")
    parser.add_argument("--no-model", action="store_true", help="stroke alignment alone, no recogniser")
    args = parser.parse_args()
    rec = None if args.no_model else Recognizer.load(args.model)
    print(f"model: {'none (stroke alignment alone)' if rec is None else rec.artifacts.path}")
    styles = ["synth", "canvas"] if args.style == "both" else [args.style]
    for style in styles:
        report = evaluate_diagnosis(hsk1_chars()[::args.every], per_char=args.per_char, seed=args.seed, style=style,
                                    recognizer=rec)
        if args.json:
            print(json.dumps(report.to_dict(), ensure_ascii=False))
            continue
        print(report.summary())
        print(f"  top-1 {report.top1:.3f} (aim ≥ 0.8), false alarms {report.false_alarm:.3f} (aim ≤ 0.05), "
              f"{report.ms_per_diagnosis:.1f} ms per diagnosis (one core)")
    if REAL.is_file() and not args.json:
        fa, n = real_false_alarms(rec)
        print(f"[real] false alarms on {n} complete real characters (Chinese MNIST writers 26–50): {fa:.3f}")


if __name__ == "__main__":
    main()
