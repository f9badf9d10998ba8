"""How often does ``diagnose`` blame the stroke order or direction of characters written right?

Every HSK1 character (or the first N) written in standard order and direction, two ways:

* ``standard``: stroke by stroke from its reference medians, slanted and squashed a little, each point moved by
  ``--jitter`` and each stroke by ``--shift`` (units of the 1024 box; a character is ~800 wide), per seed;
* ``fluent``: the synthesiser's handwriting as pen strokes (deformed, wobbly, consecutive strokes joined into
  one pen-down stroke as fluent writers join them), one per seed.

Prints, per way: drawings, strokes, strokes named out of order, strokes named reversed, drawings with any.

Usage: python scripts/stroke_order_probe.py [--chars N] [--seeds S] [--jitter J] [--shift D]
  e.g. PYTHONPATH=src python scripts/stroke_order_probe.py --seeds 3
"""

from __future__ import annotations

import argparse

import numpy as np

from hanzicheck.data.charset import hsk1_chars
from hanzicheck.inference.diagnose import diagnose


def written(medians, rng: np.random.Generator | None = None, jitter: float = 8.0,
            shift: float = 8.0) -> list[np.ndarray]:
    """Medians as a learner's pen strokes (y down), one per stroke in standard order: slanted and squashed a
    little; with ``rng``, each point moved by ``jitter`` and each stroke by ``shift`` (normal, 1024-box units)."""
    out = []
    for m in medians:
        m = np.asarray(m, np.float64)
        s = np.stack([m[:, 0] - 0.15 * m[:, 1] * 0.9, m[:, 1] * 0.9], axis=1)
        if rng is not None:
            s = s + rng.normal(0, jitter, s.shape) + rng.normal(0, shift, 2)
        out.append(s)
    return out


def fluent(synth, char: str, rng: np.random.Generator) -> list[np.ndarray]:
    """The synthesiser's handwriting of ``char`` as pen strokes: its pen-down runs (``Synthesizer._pen_runs``)."""
    prep = synth.prepared(char)
    return [points for points, _ in synth._pen_runs(prep.lines, prep.components, rng)]


def flagged(drawings: list[tuple[str, list[np.ndarray]]], db) -> dict[str, int]:
    """Drawings (target, pen strokes) → counts of strokes named out of order or reversed."""
    out = {"drawings": 0, "strokes": 0, "out_of_order": 0, "reversed": 0, "drawings_flagged": 0}
    for char, strokes in drawings:
        order = diagnose(strokes, char, db=db).stroke_order
        out["drawings"] += 1
        out["strokes"] += len(db.get(char).medians)
        out["out_of_order"] += len(order.out_of_order)
        out["reversed"] += len(order.reversed)
        out["drawings_flagged"] += bool(order.out_of_order or order.reversed)
    return out


def main() -> None:
    from hanzicheck.data.strokes import default_db
    from hanzicheck.data.synth.synthesizer import Synthesizer

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chars", type=int, default=None, help="the first N HSK1 characters (default: all)")
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--jitter", type=float, default=8.0)
    ap.add_argument("--shift", type=float, default=8.0)
    args = ap.parse_args()
    db = default_db()
    chars = [c for c in hsk1_chars()[:args.chars] if c in db]
    synth = Synthesizer(db)
    ways = {
        "standard": [(c, written(db.get(c).medians, np.random.default_rng([s, i]), args.jitter, args.shift))
                     for s in range(args.seeds) for i, c in enumerate(chars)],
        "fluent": [(c, fluent(synth, c, np.random.default_rng([s, i])))
                   for s in range(args.seeds) for i, c in enumerate(chars)],
    }
    for way, drawings in ways.items():
        n = flagged(drawings, db)
        print(f"{way}: {n['drawings']} drawings, {n['strokes']} strokes; out of order {n['out_of_order']}, "
              f"reversed {n['reversed']} ({(n['out_of_order'] + n['reversed']) / n['strokes']:.2%} of strokes); "
              f"drawings with any {n['drawings_flagged']} ({n['drawings_flagged'] / n['drawings']:.1%})")


if __name__ == "__main__":
    main()
