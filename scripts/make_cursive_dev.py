"""Write the cursive dev set (``hanzicheck.data.cursive_dev``): one real-data ``.npz`` per held-out source.

Usage: python scripts/make_cursive_dev.py OUT_DIR [PER_CHAR]  →  OUT_DIR/cursive_dev_font.npz, OUT_DIR/cursive_dev_cursive.npz
"""

from __future__ import annotations

import sys
from pathlib import Path

from hanzicheck.data import cursive_dev


def main(out: Path, per_char: int = 8) -> None:
    for source in cursive_dev.SOURCES:
        path = cursive_dev.save(out / f"cursive_dev_{source}.npz", source, per_char=per_char)
        print(f"{path}: {per_char} samples of each HSK1 character + 400 other hanzi ({source})")


if __name__ == "__main__":
    main(Path(sys.argv[1]), *(int(a) for a in sys.argv[2:3]))
