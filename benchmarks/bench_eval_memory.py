"""Peak RSS growth of ``hanzicheck evaluate`` on a large labelled source: streaming against the old in-memory path.

Writes an ``.npz`` of ``--samples`` tiny (``--size`` px) images of one-stroke and two-stroke marks labelled with HSK1
characters (every 10th a non-HSK1 label), then, each in a fresh process, measures the growth of the peak RSS
(ru_maxrss) over the RSS after imports, model load and the npz written:

- ``streaming``: ``evaluate_sources`` as the CLI runs it (read, preprocess and run the model ``CHUNK`` samples at a
  time, keep only the model's outputs);
- ``in-memory``: what evaluate did before, every image preprocessed into one float32 array, the model run over it
  and over the verification pairs' own copies of the images (``load_labelled`` + ``data_pairs``).

Preprocessing resizes every image to 40 × 40, so the image size of the source does not change what is held.

    .venv/bin/python benchmarks/bench_eval_memory.py --samples 30000
    .venv/bin/python benchmarks/bench_eval_memory.py --samples 30000 --model /path/to/artifacts --path streaming
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def make_source(path: Path, samples: int, size: int = 16, seed: int = 0) -> None:
    """``samples`` uint8 dark-on-light marks (a bar, or a cross) with HSK1 labels, every 10th labelled "Z"."""
    from hanzicheck.data.charset import hsk1_chars

    rng = np.random.default_rng(seed)
    images = np.full((samples, size, size), 255, np.uint8)
    lo, hi = size // 8, size - size // 8
    rows, cols = rng.integers(lo, hi, samples), rng.integers(lo, hi, samples)
    cross = rng.random(samples) < 0.5
    for i in range(samples):
        images[i, rows[i], lo:hi] = 0
        if cross[i]:
            images[i, lo:hi, cols[i]] = 0
    chars = list(hsk1_chars())
    labels = np.array([chars[i % len(chars)] if i % 10 else "Z" for i in range(samples)])
    np.savez(path, images=images, labels=labels)


def measure(path: str, source: Path, model: str | None, report: Path) -> dict[str, float]:
    """Run one path in this process; the peak RSS growth over the RSS before it, in MiB."""
    from hanzicheck.engine.evaluate import classification_metrics, evaluate_sources
    from hanzicheck.engine.pairs import data_pairs, load_labelled, pair_evidence
    from hanzicheck.inference.recognizer import Recognizer

    rec = Recognizer.load(model) if model else Recognizer.load()
    rec.run(np.ones((1, 40, 40), np.float32))  # warm the session before measuring
    base = _peak_mb()
    started = time.time()
    if path == "streaming":
        m = evaluate_sources(rec, [source], report)
        samples = m["classification"]["all"]["samples"]
    else:
        x, labels, _ = load_labelled(source)
        probs, _ = rec.run(x)
        classification_metrics(probs, labels, rec)
        pairs = data_pairs(x, labels)
        pair_probs, emb = rec.run(pairs.x)
        pair_evidence(rec, pairs, pair_probs, emb)
        samples = len(labels)
    return {"path": path, "samples": samples, "rss_before_mb": round(base), "peak_rss_growth_mb": round(_peak_mb() - base),
            "seconds": round(time.time() - started, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=30000)
    ap.add_argument("--size", type=int, default=16, help="image side in pixels")
    ap.add_argument("--model", help="artifacts folder (default: the bundled model)")
    ap.add_argument("--path", choices=("both", "streaming", "in-memory"), default="both")
    ap.add_argument("--source", type=Path, help="use this npz (written by an earlier run) instead of a new one")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source = args.source or Path(tmp) / "source.npz"
        if not args.source:
            make_source(source, args.samples, args.size)
        if args.path != "both":
            print(json.dumps(measure(args.path, source, args.model, Path(tmp) / "report")))
            return
        for path in ("streaming", "in-memory"):  # each in a fresh process: ru_maxrss only grows
            cmd = [sys.executable, __file__, "--path", path, "--source", str(source)]
            subprocess.run(cmd + (["--model", args.model] if args.model else []), check=True)


if __name__ == "__main__":
    main()
