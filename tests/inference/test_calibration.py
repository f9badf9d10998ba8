"""inference/calibration.py: the temperature and Unknown offset, read, applied, folded into weights and taken out."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hanzicheck.inference.calibration import Calibration, apply_temperature, apply_unknown_bias


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_metadata_round_trip_and_defaults():
    assert Calibration.from_metadata({}) == Calibration()
    assert Calibration.from_metadata({"temperature": None, "unknown_bias": None, "temperature_folded": 0}) == \
        Calibration()
    cal = Calibration(0.5, 1.5, 0.8, 0.25)
    meta = cal.to_metadata()
    assert list(meta) == ["temperature", "unknown_bias", "temperature_folded", "unknown_bias_folded"]
    assert Calibration.from_metadata({"classes": ["x"], **meta}) == cal
    assert not Calibration().pending and not Calibration(1.0, 0.0, 0.5, 2.0).pending and cal.pending
    with pytest.raises(dataclasses.FrozenInstanceError):
        cal.temperature = 2.0  # type: ignore[misc]


def test_apply_is_the_temperature_then_the_offset_and_skips_the_identity():
    probs = _softmax(np.random.default_rng(0).normal(size=(6, 5))).astype(np.float32)
    assert Calibration().apply(probs, 4) is probs
    assert Calibration(1.0, 0.0, 0.5, 3.0).apply(probs, 4) is probs  # folded: already in the network
    np.testing.assert_array_equal(Calibration(0.5, 2.0).apply(probs, 4),
                                  apply_unknown_bias(apply_temperature(probs, 0.5), 2.0, 4))
    np.testing.assert_array_equal(Calibration(0.5).apply(probs, 4), apply_temperature(probs, 0.5))
    np.testing.assert_array_equal(Calibration(1.0, 2.0).apply(probs, 4), apply_unknown_bias(probs, 2.0, 4))
    np.testing.assert_array_equal(Calibration().apply(probs, 4, always=True),  # calibrate's fit, as it always was
                                  apply_unknown_bias(apply_temperature(probs, 1.0), 0.0, 4))


def test_fold_makes_the_weights_give_the_calibrated_softmax_and_compounds_the_totals():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 8)).astype(np.float32)
    kernel, bias = rng.normal(size=(8, 5)).astype(np.float32), rng.normal(size=5).astype(np.float32)
    cal = Calibration(0.5, 1.5)
    k2, b2, after = cal.fold(kernel, bias, 4)
    np.testing.assert_allclose(_softmax(x @ k2 + b2), cal.apply(_softmax(x @ kernel + bias), 4), atol=1e-5)
    assert after == Calibration(1.0, 0.0, 0.5, 1.5) and not after.pending
    # the arithmetic export has always done, bit for bit (exports stay byte-identical)
    expected_bias = bias / 0.5
    expected_bias[4] -= 1.5
    np.testing.assert_array_equal(k2, kernel / 0.5)
    np.testing.assert_array_equal(b2, expected_bias)
    assert k2.dtype == b2.dtype == np.float32
    # a bundle re-calibrated: (logits/T0 − b0)/T − b = logits/(T0·T) − (b0/T + b)
    again = dataclasses.replace(after, temperature=2.0, unknown_bias=0.5)
    assert again.folded() == Calibration(1.0, 0.0, 1.0, 1.5 / 2.0 + 0.5)
    k3, b3, total = again.fold(k2, b2, 4)
    k0, b0 = total.unfold(k3, b3, 4)
    np.testing.assert_allclose(k0, kernel, atol=1e-5)
    np.testing.assert_allclose(b0, bias, atol=1e-5)


def test_unfold_without_anything_folded_keeps_the_weights_and_a_bad_temperature_is_refused():
    kernel, bias = np.ones((3, 4), np.float32), np.arange(4, dtype=np.float32)
    k, b = Calibration(0.5, 1.0).unfold(kernel, bias, 3)  # still to apply: not in the weights
    assert k is kernel and b is bias
    with pytest.raises(ValueError, match="temperature must be > 0"):
        Calibration(-1.0).fold(kernel, bias, 3)
