"""Calibration: the verify rule's fit on known scores, pairs from real and synthesised data, the written files."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from fake_artifacts import drawings, write_fake_artifacts
from hanzicheck.cli import build_app
from hanzicheck.data.charset import hsk1_chars
from hanzicheck.data.formats.folder import write_npz
from hanzicheck.data.sample import Sample
from hanzicheck.engine.calibrate import CalibrationError, calibrate_artifacts
from hanzicheck.engine.pairs import Pairs, data_pairs, load_labelled, synth_pairs
from hanzicheck.engine.verdict_fit import fit_rule, fit_thresholds
from hanzicheck.inference.recognizer import Recognizer
from hanzicheck.inference.verdict import Evidence


@pytest.fixture(scope="module")
def fake_dir(tmp_path_factory):
    return write_fake_artifacts(tmp_path_factory.mktemp("fake"))


def _genuine(rng, per_char: dict[int, tuple[int, float]], source: str):
    """Genuine scores: {template row: (pairs, mean score)}, spread 0.03."""
    score = np.concatenate([rng.normal(m, 0.03, n) for n, m in per_char.values()])
    rows = np.concatenate([np.full(n, r) for r, (n, _) in per_char.items()])
    return score, rows, np.full(len(score), source)


def test_every_source_accepts_at_least_the_target_share():
    """Neat writing (0.9) and cursive writing (0.7) of the same characters: the cursive source sets the level, so
    it accepts 95 % and the neat one nearly all."""
    rng = np.random.default_rng(0)
    s1, r1, src1 = _genuine(rng, {0: (400, 0.9), 1: (400, 0.9)}, "neat")
    s2, r2, src2 = _genuine(rng, {0: (400, 0.7), 1: (400, 0.7)}, "cursive")
    score, rows, sources = np.concatenate([s1, s2]), np.concatenate([r1, r2]), np.concatenate([src1, src2])
    th, info = fit_thresholds(score, np.ones(len(score), bool), rows, np.ones(len(score), bool), sources, 2)
    ok = score >= th[rows]
    assert ok[sources == "cursive"].mean() >= 0.95 and ok[sources == "neat"].mean() > 0.99
    assert info["level"] == min(info["levels"].values()) == info["levels"]["cursive"]


def test_a_character_written_far_from_its_template_gets_a_lower_threshold():
    rng = np.random.default_rng(1)
    score, rows, sources = _genuine(rng, {0: (400, 0.9), 1: (400, 0.6)}, "data")
    th, _ = fit_thresholds(score, np.ones(len(score), bool), rows, np.ones(len(score), bool), sources, 3)
    assert th[0] - th[1] > 0.2  # nearly the whole 0.3 apart: 400 pairs each
    assert th[1] < th[2] < th[0]  # no genuine pairs: the global level


def test_few_genuine_pairs_shrink_toward_the_global_threshold():
    rng = np.random.default_rng(2)
    score, rows, sources = _genuine(rng, {0: (400, 0.9), 1: (400, 0.9), 2: (6, 0.6)}, "data")
    th, info = fit_thresholds(score, np.ones(len(score), bool), rows, np.ones(len(score), bool), sources, 3)
    assert 0 < th[0] - th[2] < 0.3 * 0.3  # 6 pairs against a prior of 30: under a fifth of its own shift


def _evidence(sim, p, rank, kinds):
    n = len(sim)
    return Evidence(np.asarray(sim, float), np.asarray(p, float), np.asarray(rank), np.full(n, 5), np.zeros(n),
                    np.full(n, -1)), np.array(kinds)


def test_the_fit_weighs_in_the_classifier_when_it_separates_look_alikes():
    """Look-alikes as similar to the template as correct drawings, but the classifier puts them far lower: the
    fitted rule gives the probability weight and rejects them; correct pairs stay at the target share."""
    rng = np.random.default_rng(3)
    n = 300
    sim = np.concatenate([rng.normal(0.8, 0.05, n), rng.normal(0.8, 0.05, n), rng.normal(0.3, 0.05, n)])
    p = np.concatenate([rng.uniform(0.5, 1, n), rng.uniform(0.001, 0.05, n), rng.uniform(1e-6, 1e-4, n)])
    ev, kinds = _evidence(sim, p, np.ones(3 * n, int), ["genuine"] * n + ["lookalike"] * n + ["wrong_char"] * n)
    genuine = kinds == "genuine"
    th, params, info = fit_rule(ev, np.zeros(3 * n, int), genuine, kinds, np.full(3 * n, "data"), 1, drops=False)
    assert params.prob_weight > 0 and params.max_drop_margin == float("inf")
    assert info["measured"]["correct_accepted"] >= 0.95
    assert info["measured"]["lookalike_rejected"] > 0.9 and info["measured"]["wrong_char_rejected"] == 1.0


def test_the_fit_needs_impostors_of_a_scored_kind():
    ev, kinds = _evidence([0.9, 0.8], [0.9, 0.9], [1, 1], ["genuine", "unknown"])
    with pytest.raises(CalibrationError, match="wrong_char"):
        fit_rule(ev, np.zeros(2, int), kinds == "genuine", kinds, np.full(2, "data"), 1)


def test_data_pairs_from_labelled_samples():
    x = np.ones((3, 40, 40), np.float32)
    pairs = data_pairs(x, ["大", "百", "人"], seed=0, source="real.npz")
    assert pairs.kinds == ["genuine", "wrong_char", "lookalike", "unknown", "genuine", "wrong_char", "lookalike"]
    assert pairs.targets[0] == "大" and pairs.targets[1] != "大" and pairs.targets[1] in hsk1_chars()
    assert pairs.targets[2] in ("太", "天", "火") and pairs.targets[6] in ("八", "入", "个", "从")
    assert pairs.genuine.tolist() == [True, False, False, False, True, False, False]
    unmarked = Pairs(np.ones((1, 40, 40), np.float32), ["大"], np.array([True]), ["genuine"])  # synthesised
    both = Pairs.concat([pairs, unmarked])
    assert both.is_real().tolist() == [True] * 7 + [False]
    assert both.sources() == ["real.npz"] * 7 + ["synth"]


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
    info = calibrate_artifacts(rec, data=[tmp_path / "real.npz"], synth_per_char=0)
    assert info["genuine_pairs"] == 20 and info["per_source"]["real.npz"]["correct_accepted"] >= 0.95
    with np.load(folder / "templates.npz") as z:
        assert z["thresholds"].shape == (len(hsk1_chars()),)
        offsets = z["drop_offsets"]
        assert offsets.shape == (len(hsk1_chars()) + 1,) and len(z["drop_templates"]) == offsets[-1] > 178
    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    assert meta["verdict"] == info["verdict"] and meta["calibration"]["accept"] == 0.95
    reloaded = Recognizer.load(folder)
    assert reloaded.artifacts.drops is not None and reloaded.artifacts.verdict.to_metadata() == info["verdict"]
    v = reloaded.verify(drawings()["十"], "十")
    assert v.correct and v.threshold == pytest.approx(float(reloaded.artifacts.thresholds[hsk1_chars().index("十")]))


def test_cli_calibrate_dry_run_writes_nothing(tmp_path, fake_dir, real_data):
    folder = shutil.copytree(fake_dir, tmp_path / "model")
    before = (folder / "templates.npz").read_bytes()
    result = CliRunner().invoke(build_app(), ["calibrate", "--model", str(folder), "--data",
                                              str(real_data / "chinese_mnist_dev.npz"), "--synth", "0",
                                              "--dry-run", "--json", "--accept", "0.9", "--no-drop-templates"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["accept"] == 0.9 and summary["written"] is None and summary["drop_templates"] == 0
    assert summary["per_source"]["chinese_mnist_dev.npz"]["correct_accepted"] >= 0.9
    assert (folder / "templates.npz").read_bytes() == before


def test_cli_calibrate_without_sources_exits_2(fake_dir):
    result = CliRunner().invoke(build_app(), ["calibrate", "--model", str(fake_dir), "--synth", "0"])
    assert result.exit_code == 2 and "nothing to calibrate" in result.stderr


def test_temperature_fit_recovers_the_temperature_that_made_the_labels():
    """Labels drawn from softmax(z / 0.5) while the network reports softmax(z): the fit finds T ≈ 0.5."""
    from hanzicheck.engine.calibrate import expected_calibration_error, fit_temperature
    from hanzicheck.inference.calibration import apply_temperature

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
    info = calibrate_artifacts(Recognizer.load(folder), data=[tmp_path / "real.npz"], synth_per_char=0,
                               drop_templates=False)
    rec = Recognizer.load(folder)
    assert rec.artifacts.calibration.temperature == pytest.approx(info["temperature"]) and info["temperature"] != 1.0
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
    from hanzicheck.inference.calibration import apply_unknown_bias

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
