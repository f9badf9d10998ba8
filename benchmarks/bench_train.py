"""Training throughput on every device of this machine (each CPU and GPU TensorFlow sees): params, forward MFLOP,
train samples/s per model preset (Keras on TensorFlow, batch 128, fixed in-memory batches), next to what the
synthesiser renders (``BatchStream`` with 1 and with all render processes, wall clock), so the bottleneck of
`hanzicheck train` is visible: the last column is how many render processes (`train --workers`) keep that device
fed.

Run: .venv/bin/python benchmarks/bench_train.py [--steps 30] [--presets resnet resnet-tiny ...] [--devices CPU:0 GPU:0]
GPU: pip install '.[train-gpu]' (TensorFlow with CUDA); without a GPU only CPU:0 is measured.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def synth_rate(processes: int, batch_size: int, batches: int) -> float:
    """Samples/s (wall clock) of the training stream rendered by ``processes`` worker processes (0 = in process)."""
    from hanzicheck.data.dataset import BatchStream

    stream = BatchStream(batch_size, seed=1, workers=processes, prefetch=max(2 * processes, 1))
    try:
        it = iter(stream)
        next(it)  # start-up: spawn the processes, parse the stroke data
        start = time.perf_counter()
        for _ in itertools.islice(it, batches):
            pass
        return batches * batch_size / (time.perf_counter() - start)
    finally:
        stream.close()


def main() -> None:
    import keras
    import tensorflow as tf

    from hanzicheck.data.charset import NUM_CLASSES, UNKNOWN_INDEX
    from hanzicheck.data.synth.synthesizer import synth_batch
    from hanzicheck.models import PRESETS, count_flops, create_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="timed training steps per preset and device")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--presets", nargs="*", default=sorted(PRESETS))
    parser.add_argument("--devices", nargs="*", default=None, help="e.g. CPU:0 GPU:0 (default: every one)")
    parser.add_argument("--synth-batches", type=int, default=12, help="timed batches per synthesiser setting")
    args = parser.parse_args()
    devices = args.devices or [d.name.removeprefix("/physical_device:")
                               for d in tf.config.list_physical_devices() if d.device_type in ("CPU", "GPU")]

    cores = os.cpu_count() or 1
    one = synth_rate(1, args.batch_size, args.synth_batches)
    every = synth_rate(cores, args.batch_size, args.synth_batches) if cores > 1 else one
    print(f"synthesiser (BatchStream, 40×40, 8% Unknown, wall clock): {one:,.0f} samples/s with 1 render process, "
          f"{every:,.0f} with {cores} (this machine's cores)\n")

    rng = np.random.default_rng(0)
    n = args.batch_size * 4
    ids = np.where(rng.random(n) < 0.08, UNKNOWN_INDEX, rng.integers(0, NUM_CLASSES - 1, n)).astype(np.int32)
    x = synth_batch(ids, seed=1)[..., None].astype(np.float32)
    y = np.eye(NUM_CLASSES, dtype=np.float32)[ids]
    batches = [(x[i:i + args.batch_size], y[i:i + args.batch_size]) for i in range(0, n, args.batch_size)]

    print(f"| {'device':<7} | {'preset':<12} | {'params':>9} | {'MFLOP':>6} | {'train samples/s':>15} | "
          f"{'render processes to keep up':>27} |")
    print(f"| {'-' * 7} | {'-' * 12} | {'-' * 8}:| {'-' * 5}:| {'-' * 14}:| {'-' * 26}:|")
    for device, name in itertools.product(devices, args.presets):
        with tf.device(f"/{device}"):
            model = create_model(name)
            model.compile(optimizer=keras.optimizers.AdamW(1e-3), loss="categorical_crossentropy")
            for xb, yb in batches[:2]:  # compile the step
                model.train_on_batch(xb, yb)
            start = time.perf_counter()
            for step in range(args.steps):
                xb, yb = batches[step % len(batches)]
                model.train_on_batch(xb, yb)
            rate = args.steps * args.batch_size / (time.perf_counter() - start)
        print(f"| {device:<7} | {name:<12} | {model.count_params():>9,} | {count_flops(model) / 1e6:>6.1f} | "
              f"{rate:>15,.0f} | {math.ceil(rate / one):>27} |", flush=True)


if __name__ == "__main__":
    main()
