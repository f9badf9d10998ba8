"""Synthesiser speed in samples per CPU second (one core): characters, Unknown samples, and model-ready batches (40×40).

Run: .venv/bin/python benchmarks/bench_synth.py [--n 2000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from hanzicheck.data.charset import NUM_CHARS, UNKNOWN_INDEX, hsk1_chars
from hanzicheck.data.synth.synthesizer import Synthesizer, synth_batch


def _rate(fn, n: int) -> float:
    """Samples per CPU second of this process (the machine may be busy with other work)."""
    start = time.process_time()
    fn(n)
    return n / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="samples per measurement")
    args = parser.parse_args()
    synth = Synthesizer()
    chars = hsk1_chars()
    rng = np.random.default_rng(0)
    # warm-up: parse and prepare every class, load the Unknown sources (MNIST, look-alike filter) once
    synth_batch(np.concatenate([np.arange(NUM_CHARS), np.full(100, UNKNOWN_INDEX)]), seed=0)
    for _ in range(100):
        synth.unknown(rng)
    rows = [
        ("char() 64×64", _rate(lambda n: [synth.char(chars[i % NUM_CHARS], rng) for i in range(n)], args.n)),
        ("unknown() 64×64", _rate(lambda n: [synth.unknown(rng) for _ in range(n)], args.n // 4)),
        ("synth_batch 40×40, 8% Unknown", _rate(lambda n: synth_batch(
            np.where(rng.random(n) < 0.08, UNKNOWN_INDEX, rng.integers(0, NUM_CHARS, n)), seed=1), args.n)),
    ]
    print(f"| {'what':<32} | {'samples/s (1 core)':>18} |")
    print(f"| {'-' * 32} | {'-' * 18}:|")
    for name, rate in rows:
        print(f"| {name:<32} | {rate:>18,.0f} |")


if __name__ == "__main__":
    main()
