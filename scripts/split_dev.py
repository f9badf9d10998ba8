"""Split the Chinese MNIST dev file by writer: writers 1–25 calibrate the bundled model, 26–50 evaluate it.

Usage: python scripts/split_dev.py REAL_DIR OUT_DIR  →  OUT_DIR/calib_writers01-25.npz, OUT_DIR/eval_writers26-50.npz
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def main(real: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with np.load(real / "chinese_mnist_dev.npz") as z:
        images, labels, writers = z["images"], z["labels"], z["writers"]
    for name, mask in (("calib_writers01-25", writers <= 25), ("eval_writers26-50", writers > 25)):
        np.savez(out / f"{name}.npz", images=images[mask], labels=labels[mask], writers=writers[mask].astype(str))
        print(f"{out / name}.npz: {mask.sum()} samples, writers {sorted(set(writers[mask].tolist()))[:3]}…")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
