"""Would stroke alignment make ``verify`` catch missing strokes? For each source, a sample of genuine (image,
label) pairs, or synthesised missing-stroke impostors (``synth_missing``, at scripts/stress_synth.json): the share
the verify rule accepts, the share it accepts when ``diagnose`` (with the recogniser) must also name no missing
stroke, and diagnose's time per image.

Usage: python scripts/verify_strokes_probe.py MODEL N SOURCE.npz... [synth_missing]
  e.g. python scripts/verify_strokes_probe.py src/hanzicheck/assets/model 150 runs/dev_split/eval_writers26-50.npz \
       runs/dev_split/cursive_eval_font.npz runs/dev_split/cursive_eval_cursive.npz synth_missing
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from hanzicheck.data.charset import hsk1_chars
from hanzicheck.data.strokes import default_db
from hanzicheck.data.synth.config import SynthConfig
from hanzicheck.data.synth.synthesizer import Synthesizer
from hanzicheck.inference.diagnose import diagnose_analysis
from hanzicheck.inference.recognizer import Recognizer


def genuine(path: str, n: int, rng: np.random.Generator) -> list[tuple[np.ndarray, str]]:
    z = np.load(path)
    hsk = set(hsk1_chars())
    idx = [i for i, c in enumerate(z["labels"]) if str(c) in hsk]
    pick = rng.choice(idx, min(n, len(idx)), replace=False)
    return [(z["images"][i], str(z["labels"][i])) for i in pick]


def missing(n: int, rng: np.random.Generator) -> list[tuple[np.ndarray, str]]:
    with open("scripts/stress_synth.json") as f:
        synth = Synthesizer(config=SynthConfig(**json.load(f)))
    chars, out = hsk1_chars(), []
    for _ in range(n):
        char = chars[int(rng.integers(len(chars)))]
        image, info = synth.negative(char, "missing_stroke", rng)
        if info["kind"] == "missing_stroke":
            out.append((image, char))
    return out


def main(model: str, n: int, sources: list[str]) -> None:
    rec, db, rng = Recognizer.load(model), default_db(), np.random.default_rng(0)
    for source in sources:
        items = missing(n, rng) if source == "synth_missing" else genuine(source, n, rng)
        plain = with_strokes = 0
        times = []
        for image, char in items:
            accepted = rec.verify(image, char).verdict == "correct"
            t0 = time.perf_counter()
            diagnosis, _ = diagnose_analysis(image, char, rec, db)
            times.append(time.perf_counter() - t0)
            plain += accepted
            with_strokes += accepted and not diagnosis.missing_strokes
        print(json.dumps({"source": source, "n": len(items), "accepted": round(plain / len(items), 3),
                          "accepted_with_strokes": round(with_strokes / len(items), 3),
                          "diagnose_ms_p50": round(1000 * float(np.median(times)), 1)}), flush=True)


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) < 3:
        sys.exit(__doc__)
    main(a[0], int(a[1]), a[2:])
