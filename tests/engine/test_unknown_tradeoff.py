"""scripts/unknown_tradeoff.py: the answers along the Unknown trade-off (an extra offset, a confidence threshold)."""

from __future__ import annotations

import numpy as np

from hanzicheck.inference.artifacts import DEFAULT_CONFIDENCE_THRESHOLD
from hanzicheck.inference.recognizer import answers
from scripts_module import script

UNKNOWN = 178


def _probs(seed: int = 0, n: int = 400) -> np.ndarray:
    logits = np.random.default_rng(seed).normal(0.0, 3.0, (n, UNKNOWN + 1))
    logits[:, UNKNOWN] += 6.0  # Unknown near the top, as for writing the model is unsure of
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def _unknown_share(pred: np.ndarray) -> float:
    return float(np.mean(pred == UNKNOWN))


def test_no_offset_at_the_shipped_threshold_gives_the_shipped_answers():
    probs = _probs()
    pred = script("unknown_tradeoff").shifted_answers(probs, UNKNOWN, 0.0, DEFAULT_CONFIDENCE_THRESHOLD)
    np.testing.assert_array_equal(pred, answers(probs, UNKNOWN, DEFAULT_CONFIDENCE_THRESHOLD))


def test_a_higher_threshold_or_a_negative_offset_answers_unknown_more_often():
    probs, shifted = _probs(), script("unknown_tradeoff").shifted_answers
    shipped = _unknown_share(shifted(probs, UNKNOWN, 0.0, 0.3))
    assert _unknown_share(shifted(probs, UNKNOWN, 0.0, 0.6)) > shipped
    assert _unknown_share(shifted(probs, UNKNOWN, -1.0, 0.3)) > shipped
    assert _unknown_share(shifted(probs, UNKNOWN, 1.0, 0.3)) < shipped
