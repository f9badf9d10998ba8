"""The classifier's calibration: a softmax temperature and an Unknown offset, the one place that reads and writes them.

``hanzicheck calibrate`` fits a temperature T and an offset b; the calibrated probabilities are
softmax(logits / T − b·[Unknown]). Metadata keeps four numbers (docs/ARCHITECTURE.md):

- ``temperature`` and ``unknown_bias``: still to apply at runtime (the recognizer and the web page do; 1 and 0: none);
- ``temperature_folded`` and ``unknown_bias_folded``: already inside the classifier's weights (``hanzicheck export``
  folds them in; ``train --init`` takes them out again).

NumPy only (no Keras): the folding maths works on the classifier's kernel and bias arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

APPLIED = ("temperature", "unknown_bias")  # metadata keys: still to apply at runtime (``hanzicheck calibrate``)
FOLDED = ("temperature_folded", "unknown_bias_folded")  # metadata keys: already in the classifier (``export``)
KEYS = APPLIED + FOLDED


@dataclass(frozen=True)
class Calibration:
    """What is still to apply (``temperature``, ``unknown_bias``) and what is already folded into the classifier."""

    temperature: float = 1.0
    unknown_bias: float = 0.0
    temperature_folded: float = 1.0
    unknown_bias_folded: float = 0.0

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> Calibration:
        """From metadata.json (missing, null or 0 temperatures = 1; missing or null offsets = 0)."""
        return cls(float(meta.get("temperature") or 1.0), float(meta.get("unknown_bias") or 0.0),
                   float(meta.get("temperature_folded") or 1.0), float(meta.get("unknown_bias_folded") or 0.0))

    def to_metadata(self) -> dict[str, float]:
        """The four metadata keys, in this order (templates.json carries the same object to the web page)."""
        return {k: getattr(self, k) for k in KEYS}

    @property
    def pending(self) -> bool:
        """Anything still to apply at runtime (or to fold on export)."""
        return not (self.temperature == 1.0 and self.unknown_bias == 0.0)

    # ------------------------------------------------------------ at runtime

    def apply(self, probs: np.ndarray, unknown: int, always: bool = False) -> np.ndarray:
        """The calibrated probabilities from the network's softmax ``probs`` [N, classes] (``unknown``: the Unknown
        column): the temperature, then the offset. A step that is the identity is skipped (the recognizer), unless
        ``always`` (``hanzicheck calibrate`` fits on those: the log/softmax round trip moves a probability by an
        ulp or so, and the thresholds it writes stay as they were)."""
        if always or self.temperature != 1.0:
            probs = apply_temperature(probs, self.temperature)
        if always or self.unknown_bias:
            probs = apply_unknown_bias(probs, self.unknown_bias, unknown)
        return probs

    # ------------------------------------------------------------ on the classifier's weights (export, train --init)

    def fold(self, kernel: np.ndarray, bias: np.ndarray, unknown: int) -> tuple[np.ndarray, np.ndarray, Calibration]:
        """The classifier's (kernel, bias) with what is still to apply folded in, so its softmax is the calibrated
        one, and the calibration of the folded model: nothing to apply, the folded totals compounded."""
        kernel, bias = divide(kernel, bias, self.temperature)
        bias = bias.copy()
        bias[unknown] -= self.unknown_bias
        return kernel, bias, self.folded()

    def folded(self) -> Calibration:
        """The calibration once what is still to apply is folded in: nothing left to apply, and the folded totals
        compounded (rounded to 6 decimals, as metadata.json keeps them)."""
        # folded before: logits/T0 − b0; now (logits/T0 − b0)/T − b = logits/(T0·T) − (b0/T + b)
        return Calibration(1.0, 0.0, round(self.temperature * self.temperature_folded, 6),
                           round(self.unknown_bias_folded / self.temperature + self.unknown_bias, 6))

    def unfold(self, kernel: np.ndarray, bias: np.ndarray, unknown: int) -> tuple[np.ndarray, np.ndarray]:
        """The classifier's (kernel, bias) with the folded temperature and offset taken out again: the network's
        own logits (what training needs). What is still to apply is not in the weights and is left alone."""
        if self.unknown_bias_folded:
            bias = bias.copy()
            bias[unknown] -= -self.unknown_bias_folded
        if self.temperature_folded != 1.0:
            kernel, bias = divide(kernel, bias, 1.0 / self.temperature_folded)
        return kernel, bias


def divide(kernel: np.ndarray, bias: np.ndarray, temperature: float) -> tuple[np.ndarray, np.ndarray]:
    """Kernel and bias divided by ``temperature`` (> 0): the layer's softmax becomes softmax(logits / T)."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    return kernel / temperature, bias / temperature


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(logits / T) from softmax(logits): the network's probabilities re-sharpened (T < 1) or softened."""
    return _softmax(np.log(np.maximum(probs.astype(np.float64), 1e-30)) / temperature)


def apply_unknown_bias(probs: np.ndarray, bias: float, unknown: int) -> np.ndarray:
    """The softmax with ``bias`` subtracted from the Unknown logit: Unknown wins less often (bias > 0)."""
    logp = np.log(np.maximum(probs.astype(np.float64), 1e-30))
    logp[:, unknown] -= bias
    return _softmax(logp)


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
