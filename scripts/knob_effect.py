"""How a model copes with one synthesiser knob: the same draws of every HSK1 character rendered with the knob at
its default and at a stress value, top-1 and answered-Unknown for each, with 95 % bootstrap intervals over
characters, and the characters that lose most.

Usage: python scripts/knob_effect.py MODEL KNOB VALUE [PER_CHAR] [SEED]
  e.g. python scripts/knob_effect.py src/hanzicheck/assets/model component_join_prob 1.0 8 0
A knob the model already handles costs nothing here; one that costs points names a form the model has not learnt
(whether real writers use it is another question: the held-out real and font sources answer that).
"""

from __future__ import annotations

import json
import sys

import numpy as np

from hanzicheck.data.charset import hsk1_chars
from hanzicheck.data.synth.config import SynthConfig
from hanzicheck.data.synth.synthesizer import Synthesizer
from hanzicheck.inference.recognizer import Recognizer


def _scores(rec: Recognizer, config: SynthConfig, chars: list[str], per_char: int, seed: int
            ) -> tuple[np.ndarray, np.ndarray]:
    synth = Synthesizer(config=config)
    right = np.zeros((len(chars), per_char))
    unknown = np.zeros_like(right)
    for i, char in enumerate(chars):
        rng = np.random.default_rng([seed, i])
        images = np.stack([synth.char(char, rng) for _ in range(per_char)])
        answers = [r.char for r in rec.classify(images)]
        right[i] = [a == char for a in answers]
        unknown[i] = [a == "Unknown" for a in answers]
    return right.mean(axis=1), unknown.mean(axis=1)


def _interval(per_char: np.ndarray, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    means = per_char[rng.integers(0, len(per_char), (2000, len(per_char)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def main(model: str, knob: str, value: str, per_char: int = 8, seed: int = 0) -> None:
    rec = Recognizer.load(model)
    chars = hsk1_chars()
    base = SynthConfig(fonts=())
    stressed = SynthConfig.from_overrides({"fonts": [], knob: json.loads(value)})
    out = {"model": model, "knob": knob, "value": json.loads(value), "per_char": per_char, "seed": seed}
    tops = {}
    for name, cfg in (("default", base), ("stressed", stressed)):
        top1, unk = _scores(rec, cfg, chars, per_char, seed)
        tops[name] = top1
        out[name] = {"top1": float(top1.mean()), "top1_ci": _interval(top1), "unknown": float(unk.mean())}
    loss = tops["default"] - tops["stressed"]
    out["worst"] = [[chars[i], round(float(loss[i]), 3)] for i in np.argsort(-loss)[:12]]
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) < 3:
        sys.exit(__doc__)
    main(a[0], a[1], a[2], *(int(x) for x in a[3:5]))
