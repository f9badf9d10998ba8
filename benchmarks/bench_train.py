"""Training throughput of every model preset on this CPU: params, forward MFLOP, train samples/s (Keras on
TensorFlow, batch 128, on fixed in-memory batches), next to what one core of the synthesiser renders, so the
bottleneck of `hanzicheck train` is visible.

Run: .venv/bin/python benchmarks/bench_train.py [--steps 30] [--presets resnet resnet-tiny ...]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    import keras

    from hanzicheck.data.charset import NUM_CLASSES, UNKNOWN_INDEX
    from hanzicheck.data.synth import synth_batch
    from hanzicheck.models import PRESETS, count_flops, create_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="timed training steps per preset")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--presets", nargs="*", default=sorted(PRESETS))
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    n = args.batch_size * 4
    ids = np.where(rng.random(n) < 0.08, UNKNOWN_INDEX, rng.integers(0, NUM_CLASSES - 1, n)).astype(np.int32)
    synth_batch(ids[:200], seed=0)  # warm-up: parse the stroke data, load MNIST
    start = time.process_time()
    x = synth_batch(ids, seed=1)[..., None].astype(np.float32)
    synth_rate = n / (time.process_time() - start)
    y = np.eye(NUM_CLASSES, dtype=np.float32)[ids]

    print(f"synthesiser: {synth_rate:,.0f} samples/s per core (40×40, 8% Unknown; CPU time)\n")
    print(f"| {'preset':<12} | {'params':>9} | {'MFLOP':>6} | {'train samples/s':>15} | {'synth cores to keep up':>22} |")
    print(f"| {'-' * 12} | {'-' * 8}:| {'-' * 5}:| {'-' * 14}:| {'-' * 21}:|")
    for name in args.presets:
        model = create_model(name)
        model.compile(optimizer=keras.optimizers.AdamW(1e-3), loss="categorical_crossentropy")
        batches = [(x[i:i + args.batch_size], y[i:i + args.batch_size]) for i in range(0, n, args.batch_size)]
        for xb, yb in batches[:2]:  # compile the step
            model.train_on_batch(xb, yb)
        start = time.perf_counter()
        for step in range(args.steps):
            xb, yb = batches[step % len(batches)]
            model.train_on_batch(xb, yb)
        rate = args.steps * args.batch_size / (time.perf_counter() - start)
        print(f"| {name:<12} | {model.count_params():>9,} | {count_flops(model) / 1e6:>6.1f} | {rate:>15,.0f} | "
              f"{rate / synth_rate:>22.2f} |", flush=True)


if __name__ == "__main__":
    main()
