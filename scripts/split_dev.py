"""Split the dev data by writer: one half calibrates the bundled model, the other evaluates it.

Chinese MNIST: writers 1–25 calibrate, 26–50 evaluate. UNIPEN Latin: its writer files in sorted order, alternately
to calibration (1st, 3rd, …) and evaluation (2nd, 4th, …).

Usage: python scripts/split_dev.py REAL_DIR OUT_DIR  →  OUT_DIR/calib_writers01-25.npz, OUT_DIR/eval_writers26-50.npz,
OUT_DIR/latin_calib_writers.npz, OUT_DIR/latin_eval_writers.npz
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def _save(out: Path, name: str, images: np.ndarray, labels: np.ndarray, writers: np.ndarray, mask: np.ndarray) -> None:
    np.savez(out / f"{name}.npz", images=images[mask], labels=labels[mask], writers=writers[mask].astype(str))
    print(f"{out / name}.npz: {mask.sum()} samples, {len(set(writers[mask].tolist()))} writers")


def main(real: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with np.load(real / "chinese_mnist_dev.npz") as z:
        images, labels, writers = z["images"], z["labels"], z["writers"]
    for name, mask in (("calib_writers01-25", writers <= 25), ("eval_writers26-50", writers > 25)):
        _save(out, name, images, labels, writers, mask)
    with np.load(real / "unipen_latin_dev.npz") as z:
        images, labels, writers = z["images"], z["labels"], z["writers"]
    calib = set(np.unique(writers)[::2].tolist())
    mask = np.array([w in calib for w in writers.tolist()])
    _save(out, "latin_calib_writers", images, labels, writers, mask)
    _save(out, "latin_eval_writers", images, labels, writers, ~mask)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
