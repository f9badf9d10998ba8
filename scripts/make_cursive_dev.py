"""Write the cursive dev set (``hanzicheck.data.cursive_dev``): one real-data ``.npz`` per held-out source.

Usage: python scripts/make_cursive_dev.py OUT_DIR [PER_CHAR] [SEED] [NAME]  →  OUT_DIR/NAME_font.npz,
OUT_DIR/NAME_cursive.npz (NAME defaults to cursive_dev). The bundled model selects checkpoints and calibrates on
seed 0 (cursive_dev) and is evaluated on seed 1 (cursive_eval): other draws of the same held-out sources.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hanzicheck.data import cursive_dev


def main(out: Path, per_char: int = 8, seed: int = 0, name: str = "cursive_dev") -> None:
    for source in cursive_dev.SOURCES:
        path = cursive_dev.save(out / f"{name}_{source}.npz", source, per_char=per_char, seed=seed)
        print(f"{path}: {per_char} samples of each HSK1 character + 400 other hanzi ({source})")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(Path(args[0]), *(int(a) for a in args[1:3]), *args[3:4])
