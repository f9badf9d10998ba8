"""Write verification pairs built like the held-out set's (``hanzicheck.data.cursive_dev.save_pairs``).

Usage: python scripts/make_verify_pairs.py OUT.csv [PER_CHAR] [SEED] [SETTINGS.json]  →  OUT.csv and its PNGs in
OUT_images/ (SETTINGS: synthesiser overrides, e.g. scripts/stress_synth.json for a messier hand).
Canvas-style drawings of every HSK1 character, each a correct pair, a wrong_char and a lookalike impostor, and the
same drawing without one long pen-down run as a missing_stroke impostor. Then:
``hanzicheck evaluate --data OUT.csv --report DIR`` prints the four verify figures.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hanzicheck.data import cursive_dev


def main(out: Path, per_char: int = 4, seed: int = 1, settings: str | None = None) -> int:
    try:
        overrides = json.loads(Path(settings).read_text()) if settings else None
        table = cursive_dev.save_pairs(out, per_char=per_char, seed=seed, overrides=overrides)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{table}: {per_char} drawings of each HSK1 character as correct, wrong_char, lookalike and "
          "missing_stroke pairs")
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(Path(args[0]), *(int(a) for a in args[1:3]), *args[3:4]))
