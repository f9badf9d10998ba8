"""Evaluation: ROC arithmetic, classification metrics, and a full report from real files (fake_artifacts model)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from fake_artifacts import drawings, write_fake_artifacts
from hanzicheck.cli import build_app
from hanzicheck.data.formats.folder import write_folder
from hanzicheck.data.sample import Sample
from hanzicheck.data.synth.config import SynthConfig
from hanzicheck.engine.evaluate import (
    EvaluationError,
    classification_metrics,
    evaluate_sources,
    roc,
    synth_labelled,
)
from hanzicheck.inference.recognizer import Recognizer


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    return Recognizer.load(write_fake_artifacts(tmp_path_factory.mktemp("fake")))


def test_roc_separable_and_random():
    sep = roc(np.array([0.8, 0.9, 0.95]), np.array([0.1, 0.2, 0.3, 0.4]))
    assert sep["auc"] == 1.0 and sep["eer"] == 0.0 and sep["far_at_5pct_frr"] == 0.0
    same = roc(np.full(10, 0.5), np.full(10, 0.5))
    assert same["auc"] == 0.5
    half = roc(np.array([0.1, 0.9]), np.array([0.5, 0.5]))
    assert half["auc"] == 0.5 and half["far_at_5pct_frr"] == 1.0


def test_classification_metrics_count_unknowns(rec):
    d = drawings()
    images = [d["十"], d["人"], d["日"], d["Unknown"], d["Unknown"]]
    labels = ["十", "人", "十", "百", "Z"]  # 日 mislabelled as 十; 百 and Z are not HSK1 → should be Unknown
    probs, _ = rec.run(np.stack([rec_prep(i) for i in images]))
    m = classification_metrics(probs, labels, rec)
    assert m["known_samples"] == 3 and m["unknown_samples"] == 2
    assert m["accuracy"] == pytest.approx(2 / 3) and m["unknown_rejection"] == 1.0
    assert m["per_char"]["十"] == {"n": 2, "accuracy": 0.5, "unknown": 0.0}
    assert m["top_confusions"][0] == {"true": "十", "predicted": "日", "count": 1}
    assert sum(b["n"] for b in m["reliability"]) == 5


def rec_prep(img):
    from hanzicheck.data.preprocess import preprocess

    return preprocess(img)


@pytest.fixture
def sources(tmp_path):
    d = drawings()
    samples = [Sample(d[c], c) for c in ("一", "十", "日", "人") for _ in range(3)] + [Sample(d["Unknown"], "O")]
    write_folder(tmp_path / "folder", samples)
    pairs = tmp_path / "pairs"
    pairs.mkdir()
    rows = ["file,target,kind"]
    for name, c, target, kind in [("p0.png", "十", "十", "genuine"), ("p1.png", "人", "人", "genuine"),
                                  ("p2.png", "一", "十", "missing_stroke"), ("p3.png", "日", "人", "wrong_char")]:
        Image.fromarray(d[c]).save(pairs / name)
        rows.append(f"{name},{target},{kind}")
    (pairs / "pairs.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return tmp_path / "folder", pairs / "pairs.csv"


def test_report_from_folder_and_pair_csv(rec, sources, tmp_path):
    folder, pairs = sources
    report = tmp_path / "report"
    m = evaluate_sources(rec, [folder, pairs], report)
    assert m["classification"]["all"]["accuracy"] == 1.0 and m["classification"]["all"]["unknown_rejection"] == 1.0
    kinds = m["verification"]["kinds"]
    assert {"missing_stroke", "wrong_char", "all"} <= set(kinds)  # wrong_char also from the folder's labels
    assert kinds["missing_stroke"]["impostors"] == 1 and kinds["missing_stroke"]["auc"] == 1.0
    assert {"metrics.json", "report.md", "roc.png", "reliability.png", "similarities.png"} <= {
        p.name for p in report.iterdir()}
    md = (report / "report.md").read_text(encoding="utf-8")
    assert "## Classification" in md and "## Verification" in md and "missing_stroke" in md
    assert json.loads((report / "metrics.json").read_text(encoding="utf-8"))["summary"] == m["summary"]


def test_verify_figures_per_source_at_the_models_thresholds(rec, sources, tmp_path):
    """Each source gets its own row: correct pairs accepted and impostors rejected per kind; the CLI prints them."""
    folder, pairs = sources
    m = evaluate_sources(rec, [folder, pairs], tmp_path / "report")
    per_source = m["verification"]["per_source"]
    assert set(per_source) == {"folder", "pairs.csv"}
    assert per_source["pairs.csv"]["correct_accepted"] == 1.0
    assert per_source["pairs.csv"]["missing_stroke_rejected"] == 1.0  # 一 for 十
    assert per_source["pairs.csv"]["wrong_char_rejected"] == 1.0  # 日 for 人
    assert m["summary"]["verify"]["folder"]["correct_accepted"] == 1.0
    assert "roc_by_source.png" in {p.name for p in (tmp_path / "report").iterdir()}
    result = CliRunner().invoke(build_app(), ["evaluate", "--data", str(folder), "--data", str(pairs), "--model",
                                              str(rec.artifacts.path), "--report", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    assert "verify at the model's thresholds" in result.stdout and "pairs.csv" in result.stdout


def test_pair_csv_without_kind_or_label(rec, tmp_path):
    p = tmp_path / "p.csv"
    p.write_text("file,target\nx.png,十\n", encoding="utf-8")
    with pytest.raises(EvaluationError, match="'kind' column"):
        evaluate_sources(rec, [p], tmp_path / "r")


def test_cli_evaluate_two_real_sources(real_data, tmp_path, rec):
    result = CliRunner().invoke(build_app(), [
        "evaluate", "--data", str(real_data / "chinese_mnist_dev.npz"), "--data",
        str(real_data / "unipen_latin_dev.npz"), "--limit", "40",
        "--model", str(rec.artifacts.path), "--report", str(tmp_path / "rep"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["samples"] == 80
    assert {"accuracy", "unknown_rejection", "auc_wrong_char", "auc_unknown", "eer_all"} <= set(summary)
    metrics = json.loads((tmp_path / "rep" / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["classification"]) == {"all", "chinese_mnist_dev.npz", "unipen_latin_dev.npz"}
    assert metrics["classification"]["unipen_latin_dev.npz"]["known_samples"] == 0


def test_cli_evaluate_missing_source_exits_2(tmp_path, rec):
    result = CliRunner().invoke(build_app(), ["evaluate", "--data", str(tmp_path / "none"), "--model",
                                              str(rec.artifacts.path)])
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_synth_config_reaches_the_synthesised_samples():
    thin = synth_labelled(1, seed=0, config=SynthConfig.plain(pen_width=(0.015, 0.015)))
    thick = synth_labelled(1, seed=0, config=SynthConfig.plain(pen_width=(0.08, 0.08)))
    assert thin.labels == thick.labels
    assert (1 - thick.x).mean() > 2 * (1 - thin.x).mean()  # the wider pen leaves far more ink


def test_cli_evaluate_synth_config_is_applied_and_recorded(tmp_path, rec):
    cfg = tmp_path / "stress.json"
    cfg.write_text('{"stroke_rotation_deg": 20}')
    result = CliRunner().invoke(build_app(), [
        "evaluate", "--synth", "1", "--synth-config", str(cfg), "--model", str(rec.artifacts.path),
        "--report", str(tmp_path / "rep"), "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "rep" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["sources"][0]["synth_config"] == {"stroke_rotation_deg": 20}


@pytest.mark.parametrize(("content", "synth", "message"), [
    ('{"stroke_rotaton_deg": 20}', "1", "stroke_rotation_deg"),  # misspelt: named, with the right spelling
    ('{"stroke_rotation_deg": ', "1", "not valid JSON"),
    ('[20]', "1", "must be an object"),
    ('{"stroke_rotation_deg": 20}', "0", "give --synth N too"),
])
def test_cli_evaluate_bad_synth_config_exits_2(tmp_path, rec, content, synth, message):
    cfg = tmp_path / "stress.json"
    cfg.write_text(content)
    result = CliRunner().invoke(build_app(), [
        "evaluate", "--synth", synth, "--diagnosis", "0", "--synth-config", str(cfg), "--model",
        str(rec.artifacts.path), "--report", str(tmp_path / "rep")] + ([] if synth != "0" else ["--data", str(cfg)]))
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert not (tmp_path / "rep").exists()
