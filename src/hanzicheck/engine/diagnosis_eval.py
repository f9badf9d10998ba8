"""Evaluate stroke diagnosis on synthesised handwriting with known dropped strokes.

For each sample a character is written by the synthesiser, either complete or with one droppable stroke left out
(``Synthesizer.droppable``: strokes whose removal does not make another character). Reported:

- ``top1``: share of stroke-dropped samples whose first named missing stroke is the dropped one;
- ``detected``: share of stroke-dropped samples with any stroke named missing;
- ``false_alarm``: share of complete samples with any stroke named missing;
- ``ms_per_diagnosis``: mean wall time of one diagnosis.
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

    def summary(self) -> str:
        return (f"stroke diagnosis on {self.dropped_samples} stroke-dropped + {self.complete_samples} complete "
                f"synthesised samples ({self.chars} characters): top-1 {self.top1:.3f}, detected "
                f"{self.detected:.3f}, false alarms {self.false_alarm:.3f}, {self.ms_per_diagnosis:.1f} ms each")


def evaluate_diagnosis(chars: Sequence[str] | None = None, per_char: int = 2, seed: int = 0,
                       synthesizer=None, keep_failures: int = 50) -> DiagnosisReport:
    """``per_char`` stroke-dropped and ``per_char`` complete samples of each character (HSK1 by default)."""
    from ..data.charset import hsk1_chars
    from ..data.synth import Synthesizer
    from ..inference.diagnose import analyse

    synth = synthesizer if synthesizer is not None else Synthesizer()
    chars = list(chars) if chars is not None else hsk1_chars()
    rng = np.random.default_rng(seed)
    hits = detected = dropped_n = alarms = complete_n = 0
    elapsed = 0.0
    failures: list[dict] = []
    for char in chars:
        strokes = synth.db.get(char)
        medians, rad = strokes.medians, strokes.rad_strokes
        cands = synth.droppable(char)
        for _ in range(per_char):
            image = synth.char(char, rng)
            t0 = time.perf_counter()
            found = analyse(image, medians, rad).missing
            elapsed += time.perf_counter() - t0
            complete_n += 1
            if found:
                alarms += 1
                if len(failures) < keep_failures:
                    failures.append({"char": char, "dropped": None, "found": found})
            if not cands:
                continue
            k = int(rng.choice(cands))
            image = synth.char(char, rng, drop=[k])
            t0 = time.perf_counter()
            found = analyse(image, medians, rad).missing
            elapsed += time.perf_counter() - t0
            dropped_n += 1
            detected += bool(found)
            hits += bool(found) and found[0] == k
            if not (found and found[0] == k) and len(failures) < keep_failures:
                failures.append({"char": char, "dropped": k, "found": found})
    total = dropped_n + complete_n
    return DiagnosisReport(len(chars), dropped_n, complete_n, hits / max(dropped_n, 1),
                           detected / max(dropped_n, 1), alarms / max(complete_n, 1),
                           1000 * elapsed / max(total, 1), failures)
