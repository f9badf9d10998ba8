"""scripts/model_card.py: the bundled model's card is written from a run and its evaluation report."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def report(tiny_run, tmp_path_factory) -> Path:
    """`hanzicheck evaluate` on synthesised samples of the tiny run (a real report folder)."""
    from typer.testing import CliRunner

    from hanzicheck.cli import build_app

    out = tmp_path_factory.mktemp("report") / "rep"
    result = CliRunner().invoke(build_app(), ["evaluate", "--model", str(tiny_run), "--synth", "1", "--seed", "2",
                                              "--report", str(out), "--json"])
    assert result.exit_code == 0, result.output
    return out


def card(run: Path, report: Path, dev: list[str] | None, tmp_path: Path, calibration: dict | None = None,
         meta_extra: dict | None = None, **config) -> str:
    """The card for a copy of ``run`` whose recorded training config has ``dev`` as its dev data (and ``config``),
    with ``calibration`` as its calibration.json and ``meta_extra`` in its metadata."""
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    meta = json.loads((copy / "metadata.json").read_text())
    meta["training"]["config"].update(dev=dev or [], **config)
    (copy / "metadata.json").write_text(json.dumps({**meta, **(meta_extra or {})}))
    if calibration is not None:
        (copy / "calibration.json").write_text(json.dumps(calibration))
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "model_card.py"), str(copy), str(report)],
                          capture_output=True, text=True, check=True)
    return done.stdout


def test_card_names_the_dev_writers_the_checkpoint_was_selected_on(tiny_run, report, tmp_path):
    text = card(tiny_run, report, ["runs/x/dev_split/calib_writers01-25.npz", "../real/unipen_latin_dev.npz"],
                tmp_path)
    assert "(Chinese MNIST writers 1–25 and UNIPEN Latin letters and digits, evaluated each epoch" in text
    assert "Neither training nor checkpoint selection saw Chinese MNIST writers 26–50" in text


def test_card_says_when_the_evaluated_writers_took_part_in_selection(tiny_run, report, tmp_path):
    text = card(tiny_run, report, ["../real/chinese_mnist_dev.npz"], tmp_path)
    assert "(Chinese MNIST writers 1–50, evaluated each epoch" in text
    assert "not a fully independent test" in text


def test_card_without_dev_data_names_synthetic_validation(tiny_run, report, tmp_path):
    text = card(tiny_run, report, None, tmp_path)
    assert "on synthetic validation (no real dev data was given)" in text
    assert "## Measured on real handwriting" in text and "| source | samples |" in text


def test_card_says_a_fine_tune_started_from_another_model(tiny_run, report, tmp_path):
    assert "Started from the weights of" not in card(tiny_run, report, None, tmp_path / "a")
    text = card(tiny_run, report, None, tmp_path / "b", init="runs/scratch")
    assert "Started from the weights of `runs/scratch` as it stood before this run (a fine-tune" in text


def test_card_of_a_recalibrated_bundle_gives_the_total_temperature_and_the_unknown_offset(tiny_run, report,
                                                                                         tmp_path):
    calibration = {"accept": 0.95, "genuine_pairs": 10, "impostor_pairs": 10, "global_threshold": 0.8, "min": 0.7,
                   "max": 0.9, "median": 0.8, "chars_with_genuine_pairs": 4, "temperature": 0.5, "temperature_samples": 100, "ece_before": 0.1,
                   "ece_after": 0.02, "unknown_bias": 0.3, "unknown_max_drop": 0.01, "hsk1_accuracy_before": 0.96,
                   "hsk1_accuracy_after": 0.97, "unknown_rejection_before": 0.9, "unknown_rejection_after": 0.895,
                   "verdict": {"rule": "r", "prob_weight": 0.2, "log_p_floor": -10.0, "max_drop_margin": 0.2,
                               "max_rank": 20},
                   "per_source": {"calib_writers01-25.npz": {"correct_accepted": 0.97, "wrong_char_rejected": 0.995,
                                                             "lookalike_rejected": 0.9},
                                  "synth": {"correct_accepted": 0.95, "missing_stroke_rejected": 0.5}},
                   "sources": [{"data": "runs/x/dev_split/calib_writers01-25.npz"},
                               {"class_data": "runs/x/dev_split/latin_calib_writers.npz"}]}
    text = card(tiny_run, report, None, tmp_path, calibration=calibration,
                meta_extra={"temperature_folded": 0.6, "unknown_bias_folded": 0.1})
    assert "Softmax temperature 0.300, fitted" in text  # 0.5 on top of the 0.6 folded before
    assert "(Chinese MNIST writers 1–25 and UNIPEN Latin, half of the writers)" in text
    assert "Unknown offset 0.50, subtracted from the Unknown logit" in text  # 0.1 / 0.5 + 0.3
    assert "HSK1 right 96.0 % → 97.0 %, non-HSK1 rejected 90.0 % → 89.5 %" in text
    assert "score = similarity + 0.2·max(ln p, -10), correct when the score reaches" in text
    assert "ranks ≤ 20, the drawing lies at most 0.200 closer to a stroke-drop template" in text
    assert "| calib_writers01-25.npz | 97.0 % | 99.5 % | 90.0 % | — |" in text
    assert "| synth | 95.0 % | — | — | 50.0 % |" in text
