"""Calibration: the threshold rule on known similarities, pairs from real and synthesised data, the written files."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from fake_artifacts import drawings, write_fake_artifacts
from hanzicheck.cli import build_app
from hanzicheck.data.charset import hsk1_chars
from hanzicheck.data.folder import write_npz
from hanzicheck.data.sample import Sample
from hanzicheck.engine.calibrate import (
    CalibrationError,
    Pairs,
    calibrate_artifacts,
    compute_thresholds,
    data_pairs,
    load_labelled,
    synth_pairs,
)
from hanzicheck.inference.recognizer import Recognizer


@pytest.fixture(scope="module")
def fake_dir(tmp_path_factory):
    return write_fake_artifacts(tmp_path_factory.mktemp("fake"))


def _sims(rng, n_imp: dict[str, int], imp_mean: dict[str, float]):
    sims, targets, genuine = [], [], []
    for c, n in n_imp.items():
        sims += list(rng.normal(imp_mean[c], 0.05, n)) + list(rng.normal(0.9, 0.03, n))
        targets += [c] * 2 * n
        genuine += [False] * n + [True] * n
    return np.array(sims), targets, np.array(genuine)


def test_threshold_follows_each_characters_impostors():
    rng = np.random.default_rng(0)
    sims, targets, genuine = _sims(rng, {"大": 400, "一": 400}, {"大": 0.6, "一": 0.2})
    th, info = compute_thresholds(sims, targets, genuine, ["大", "一", "人"], far=0.05)
    assert th[0] > th[1] + 0.25  # 大's impostors (太, 犬, …) score higher: its threshold is higher
    assert th[2] == pytest.approx(info["global_threshold"])  # no pairs: the global threshold
    assert abs(info["far_measured"] - 0.05) < 0.005 and info["frr_measured"] < 0.05
    assert info["genuine_pairs"] == 800 and info["impostor_pairs"] == 800


def test_few_pairs_shrink_toward_the_global_threshold():
    rng = np.random.default_rng(1)
    sims, targets, genuine = _sims(rng, {"大": 4, "一": 400}, {"大": 0.6, "一": 0.2})
    th, info = compute_thresholds(sims, targets, genuine, ["大", "一"], far=0.05)
    full_shift = 0.6 - 0.2
    assert 0 < th[0] - info["global_threshold"] < 0.3 * full_shift


def test_max_frr_lowers_the_thresholds():
    rng = np.random.default_rng(2)
    sims, targets, genuine = _sims(rng, {"大": 400}, {"大": 0.85})  # impostors almost as similar as genuine
    th, info = compute_thresholds(sims, targets, genuine, ["大"], far=0.01)
    assert info["frr_measured"] > 0.5 and not info["capped_by_max_frr"]
    th2, info2 = compute_thresholds(sims, targets, genuine, ["大"], far=0.01, max_frr=0.1)
    assert th2[0] < th[0] and info2["capped_by_max_frr"]
    assert info2["frr_measured"] <= 0.11 and info2["far_measured"] > 0.01


def test_max_frr_counts_real_genuine_pairs_when_there_are_any():
    """Synthesised genuine pairs (0.9) are easy, real ones (0.8) are not: the cap holds the real pairs' FRR to
    10 %, where counting both would let about a fifth of the real ones be rejected."""
    rng = np.random.default_rng(3)
    imp = list(rng.normal(0.78, 0.03, 400))
    synth, real = list(rng.normal(0.9, 0.02, 200)), list(rng.normal(0.8, 0.03, 200))
    sims = np.array(imp + synth + real)
    genuine = np.array([False] * 400 + [True] * 400)
    is_real = np.array([False] * 600 + [True] * 200)
    _, pooled = compute_thresholds(sims, ["大"] * 800, genuine, ["大"], far=0.05, max_frr=0.1)
    _, info = compute_thresholds(sims, ["大"] * 800, genuine, ["大"], far=0.05, max_frr=0.1, real=is_real)
    assert pooled["max_frr_counts"] == "all genuine pairs" and pooled["frr_real_measured"] is None
    assert info["max_frr_counts"] == "real genuine pairs" and info["capped_by_max_frr"]
    assert info["frr_real_measured"] <= 0.11 < 0.15 < float((sims[600:] < pooled["global_threshold"]).mean())


def test_too_few_impostors_is_an_error():
    with pytest.raises(CalibrationError, match="impostor pairs"):
        compute_thresholds(np.array([0.9, 0.1]), ["大", "大"], np.array([True, False]), ["大"])


def test_data_pairs_from_labelled_samples():
    x = np.ones((3, 40, 40), np.float32)
    pairs = data_pairs(x, ["大", "百", "人"], seed=0)
    assert pairs.kinds == ["genuine", "wrong_char", "unknown", "genuine", "wrong_char"]
    assert pairs.targets[0] == "大" and pairs.targets[1] not in ("大",) and pairs.targets[1] in hsk1_chars()
    assert pairs.genuine.tolist() == [True, False, False, True, False]
    unmarked = Pairs(np.ones((1, 40, 40), np.float32), ["大"], np.array([True]), ["genuine"])  # synthesised
    assert Pairs.concat([pairs, unmarked]).is_real().tolist() == [True] * 5 + [False]


def test_real_npz_is_read_through_the_readers(real_data):
    x, labels, skipped = load_labelled(real_data / "chinese_mnist_dev.npz", limit=20)
    assert x.shape == (20, 40, 40) and len(labels) == 20 and skipped == 0


def test_synth_pairs_cover_the_negative_kinds():
    pairs = synth_pairs(4, seed=0, chars=["大", "日"])
    assert len(pairs) == 16 and pairs.genuine.sum() == 8
    assert {"missing_stroke", "lookalike"} <= set(pairs.kinds)


def test_calibration_is_written_and_used_by_verify(tmp_path, fake_dir):
    folder = shutil.copytree(fake_dir, tmp_path / "model")
    rng = np.random.default_rng(0)
    samples = [Sample(drawings()[c], c) for c in ("一", "十", "日", "人") for _ in range(5)]
    samples += [Sample(255 - rng.integers(0, 2, (64, 64), dtype=np.uint8) * 255, "百") for _ in range(4)]
    write_npz(tmp_path / "real.npz", samples)
    rec = Recognizer.load(folder)
    info = calibrate_artifacts(rec, data=[tmp_path / "real.npz"], far=0.05, synth_per_char=0)
    assert info["genuine_pairs"] == 20 and info["impostor_pairs"] == 24
    with np.load(folder / "templates.npz") as z:
        assert z["thresholds"].shape == (len(hsk1_chars()),) and float(z["far"]) == pytest.approx(0.05)
    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    assert meta["calibration"]["method"] == info["method"]
    reloaded = Recognizer.load(folder)
    v = reloaded.verify(drawings()["十"], "十")
    assert v.threshold == pytest.approx(float(reloaded.artifacts.thresholds[hsk1_chars().index("十")]))


def test_cli_calibrate_dry_run_writes_nothing(tmp_path, fake_dir, real_data):
    folder = shutil.copytree(fake_dir, tmp_path / "model")
    before = (folder / "templates.npz").read_bytes()
    result = CliRunner().invoke(build_app(), ["calibrate", "--model", str(folder), "--data",
                                              str(real_data / "chinese_mnist_dev.npz"), "--synth", "0",
                                              "--dry-run", "--json", "--far", "0.05"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["far"] == 0.05 and summary["written"] == ""
    assert (folder / "templates.npz").read_bytes() == before


def test_cli_calibrate_without_sources_exits_2(fake_dir):
    result = CliRunner().invoke(build_app(), ["calibrate", "--model", str(fake_dir), "--synth", "0"])
    assert result.exit_code == 2 and "nothing to calibrate" in result.stderr


def test_temperature_fit_recovers_the_temperature_that_made_the_labels():
    """Labels drawn from softmax(z / 0.5) while the network reports softmax(z): the fit finds T ≈ 0.5."""
    from hanzicheck.engine.calibrate import expected_calibration_error, fit_temperature
    from hanzicheck.inference.recognizer import apply_temperature

    rng = np.random.default_rng(0)
    z = rng.normal(0, 1.5, (4000, 12))
    probs = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    true = apply_temperature(probs, 0.5)
    labels = np.array([rng.choice(12, p=p / p.sum()) for p in true.astype(np.float64)])
    fit = fit_temperature(probs, labels)
    assert fit["temperature"] == pytest.approx(0.5, rel=0.1)
    assert fit["ece_after"] < fit["ece_before"]
    assert expected_calibration_error(true, labels) < 0.03


def test_calibration_with_labelled_data_writes_a_temperature_that_classify_uses(tmp_path, fake_dir):
    folder = shutil.copytree(fake_dir, tmp_path / "model")
    samples = [Sample(drawings()[c], c) for c in ("一", "十", "日", "人") for _ in range(5)]
    write_npz(tmp_path / "real.npz", samples)
    info = calibrate_artifacts(Recognizer.load(folder), data=[tmp_path / "real.npz"], synth_per_char=0)
    rec = Recognizer.load(folder)
    assert rec.artifacts.temperature == pytest.approx(info["temperature"]) and info["temperature"] != 1.0
    from hanzicheck.data.preprocess import preprocess

    x = preprocess(drawings()["十"])[None]
    raw, _ = rec.run(x, calibrated=False)
    cal, _ = rec.run(x)
    assert not np.allclose(raw, cal) and np.allclose(cal.sum(1), 1.0, atol=1e-5)
    assert (raw.argmax(1) == cal.argmax(1)).all()  # a temperature never changes the ranking


def _two_class_probs(unknown_margins: list[float]) -> np.ndarray:
    """Rows over (character, Unknown) where Unknown's logit exceeds the character's by each margin."""
    z = np.stack([np.zeros(len(unknown_margins)), np.array(unknown_margins)], axis=1)
    return np.exp(z) / np.exp(z).sum(1, keepdims=True)


def test_unknown_offset_rescues_characters_until_the_rejection_budget_is_spent():
    """Real characters that Unknown beats by 0.22, 0.63 and 2.01, real Unknowns by 0.41, 1.02, 3.0 and 3.0: with
    a budget of one Unknown in four (25 %) the offset passes 0.41 (one Unknown lost) and stops short of 1.02, so
    it rescues the 0.22 and 0.63 characters but not the 2.01 one."""
    from hanzicheck.engine.calibrate import fit_unknown_bias

    probs = _two_class_probs([0.22, 0.63, 2.01, 0.41, 1.02, 3.0, 3.0])
    labels = np.array([0, 0, 0, 1, 1, 1, 1])
    fit = fit_unknown_bias(probs, labels, unknown=1, confidence_threshold=0.3, max_drop=0.25)
    assert 0.63 < fit["unknown_bias"] < 1.02
    assert fit["hsk1_accuracy_before"] == 0.0 and fit["hsk1_accuracy_after"] == pytest.approx(2 / 3)
    assert fit["unknown_rejection_before"] == 1.0 and fit["unknown_rejection_after"] == 0.75


def test_unknown_offset_with_no_budget_only_takes_free_gains():
    from hanzicheck.engine.calibrate import fit_unknown_bias

    probs = _two_class_probs([0.22, 0.63, 2.01, 0.41, 1.02])
    fit = fit_unknown_bias(probs, np.array([0, 0, 0, 1, 1]), unknown=1, confidence_threshold=0.3, max_drop=0.0)
    assert 0.22 < fit["unknown_bias"] < 0.41 and fit["unknown_rejection_after"] == 1.0


def test_unknown_offset_needs_both_kinds_of_real_sample():
    from hanzicheck.engine.calibrate import fit_unknown_bias

    fit = fit_unknown_bias(_two_class_probs([0.5, 1.0]), np.array([0, 0]), unknown=1, confidence_threshold=0.3)
    assert fit["unknown_bias"] == 0.0 and "needs" in fit["unknown_bias_note"]


def test_recognizer_applies_the_unknown_offset_from_metadata(tmp_path, fake_dir):
    """metadata.json's unknown_bias lowers the Unknown logit in every calibrated probability."""
    import json

    from hanzicheck.data.preprocess import preprocess
    from hanzicheck.inference.recognizer import apply_unknown_bias

    folder = shutil.copytree(fake_dir, tmp_path / "model")
    meta = json.loads((folder / "metadata.json").read_text())
    (folder / "metadata.json").write_text(json.dumps({**meta, "unknown_bias": 2.0}))
    rec = Recognizer.load(folder)
    x = np.stack([preprocess(drawings()[c]) for c in ("一", "十")])
    raw, _ = rec.run(x, calibrated=False)
    cal, _ = rec.run(x)
    unknown = rec.classes.index("Unknown")
    np.testing.assert_allclose(cal, apply_unknown_bias(raw, 2.0, unknown), atol=1e-6)
    assert (cal[:, unknown] < raw[:, unknown]).all()
