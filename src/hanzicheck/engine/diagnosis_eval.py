"""Evaluate stroke diagnosis on synthesised handwriting with known dropped strokes.

For each sample a character is written by the synthesiser, either complete or with one droppable stroke left out
(``Synthesizer.droppable``: strokes whose removal does not make another character). Reported:

- ``top1``: share of stroke-dropped samples whose first named missing stroke is the dropped one;
- ``detected``: share of stroke-dropped samples with any stroke named missing;
- ``false_alarm``: share of complete samples with any stroke named missing;
- ``ms_per_diagnosis``: mean wall time of one diagnosis.

``style="synth"`` uses the handwriting synthesiser (joined, wobbly, warped strokes, 64×64, often tiny or blurred:
hard); ``style="canvas"`` draws the reference medians as a learner's canvas would (plain pen of random width,
random slant, rotation, squash and small per-stroke offsets, 128×128).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class DiagnosisReport:
    chars: int
    dropped_samples: int
    complete_samples: int
    top1: float
    detected: float
    false_alarm: float
    ms_per_diagnosis: float
    failures: list[dict]
    def to_dict(self) -> dict:
        return asdict(self)

    style: str = "synth"

    def summary(self) -> str:
        return (f"[{self.style}] stroke diagnosis on {self.dropped_samples} stroke-dropped + {self.complete_samples} complete "
                f"synthesised samples ({self.chars} characters): top-1 {self.top1:.3f}, detected "
                f"{self.detected:.3f}, false alarms {self.false_alarm:.3f}, {self.ms_per_diagnosis:.1f} ms each")


def canvas_drawing(medians: Sequence[np.ndarray], rng: np.random.Generator, drop: Sequence[int] = (),
                   size: int = 128) -> np.ndarray:
    """The medians (minus ``drop``) as a learner's canvas: random slant/rotation/squash, strokes a little off."""
    from ..data.render import render_strokes

    ang = np.deg2rad(rng.normal(0, 5))
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    lin = rot @ np.array([[1.0, rng.normal(0, 0.15)], [0.0, 1.0]]) @ np.diag(np.exp(rng.normal(0, 0.12, 2)))
    lines = [np.asarray(m, np.float64) @ lin.T + rng.normal(0, 15, 2)
             for i, m in enumerate(medians) if i not in set(drop)]
    return render_strokes(lines, size=size, pen_width=float(rng.uniform(0.02, 0.08)))


def evaluate_diagnosis(chars: Sequence[str] | None = None, per_char: int = 2, seed: int = 0,
                       synthesizer=None, keep_failures: int = 50, style: str = "synth",
                       recognizer=None) -> DiagnosisReport:
    """``per_char`` stroke-dropped and ``per_char`` complete samples of each character (HSK1 by default).
    With a ``recognizer``, as ``diagnose`` does with one: the alignment plus its stroke-drop templates."""
    if style not in ("synth", "canvas"):
        raise ValueError(f"unknown style {style!r}: use 'synth' or 'canvas'")
    from ..data.charset import hsk1_chars
    from ..data.synth.synthesizer import Synthesizer
    from ..inference.diagnose import diagnose

    def missing(image, char) -> list[int]:
        return diagnose(image, char, recognizer=recognizer, db=synth.db).missing_strokes

    synth = synthesizer if synthesizer is not None else Synthesizer()
    chars = list(chars) if chars is not None else hsk1_chars()
    rng = np.random.default_rng(seed)
    hits = detected = dropped_n = alarms = complete_n = 0
    elapsed = 0.0
    failures: list[dict] = []
    for char in chars:
        medians = synth.db.get(char).medians
        if recognizer is not None:
            recognizer.drop_templates(synth.db).get(char)  # built once per character, outside the timing
        cands = synth.droppable(char)
        for _ in range(per_char):
            image = synth.char(char, rng) if style == "synth" else canvas_drawing(medians, rng)
            t0 = time.perf_counter()
            found = missing(image, char)
            elapsed += time.perf_counter() - t0
            complete_n += 1
            if found:
                alarms += 1
                if len(failures) < keep_failures:
                    failures.append({"char": char, "dropped": None, "found": found})
            if not cands:
                continue
            k = int(rng.choice(cands))
            image = (synth.char(char, rng, drop=[k]) if style == "synth"
                     else canvas_drawing(medians, rng, drop=[k]))
            t0 = time.perf_counter()
            found = missing(image, char)
            elapsed += time.perf_counter() - t0
            dropped_n += 1
            detected += bool(found)
            hits += bool(found) and found[0] == k
            if not (found and found[0] == k) and len(failures) < keep_failures:
                failures.append({"char": char, "dropped": k, "found": found})
    total = dropped_n + complete_n
    return DiagnosisReport(len(chars), dropped_n, complete_n, hits / max(dropped_n, 1),
                           detected / max(dropped_n, 1), alarms / max(complete_n, 1),
                           1000 * elapsed / max(total, 1), failures, style)
