"""`hanzicheck demo` (what `make demo` runs): the bundled model on the example handwriting, end to end."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from PIL import Image
from typer.testing import CliRunner

from hanzicheck.cli import build_app
from hanzicheck.inference import artifacts

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_demo_answers_every_example_and_names_the_stroke_it_left_out():
    result = CliRunner().invoke(build_app(), ["demo", "--examples", str(EXAMPLES)], terminal_width=250)
    assert result.exit_code == 0, result.output
    with open(EXAMPLES / "labels.csv", encoding="utf-8") as f:
        files = [row["file"] for row in csv.DictReader(f)]
    for name in files:
        assert name in result.output
    done = re.search(r"(\d+)/(\d+) classified as expected", result.output)
    assert done and int(done.group(2)) == len(files) + 2  # the examples, then a synthesised 我 with and without a stroke
    left_out = int(re.search(r"synth 我 without stroke (\d+)", result.output).group(1))  # as a learner counts
    named = re.search(r"missing strokes \(in standard order\): ([\d, ]+|none)\.", result.output).group(1)
    assert named != "none" and left_out in [int(s) for s in named.split(",")]  # both counted from 1


def test_without_a_bundled_model_the_demo_writes_a_preview_of_the_training_data_to_out(tmp_path, monkeypatch):
    (tmp_path / "no_model").mkdir()
    monkeypatch.setattr(artifacts, "bundled_path", lambda: tmp_path / "no_model")  # a checkout before training
    out = tmp_path / "pictures"
    result = CliRunner().invoke(build_app(), ["demo", "--examples", str(EXAMPLES), "--out", str(out)],
                                terminal_width=250)
    assert result.exit_code == 0, result.output
    assert f"wrote a preview of the synthesised training data to {out / 'preview.png'}" in result.output
    with Image.open(out / "preview.png") as sheet:
        assert sheet.format == "PNG" and min(sheet.size) > 100


def test_a_model_folder_that_does_not_load_is_one_line_naming_it_and_no_preview(tmp_path):
    (tmp_path / "typo").mkdir()
    out = tmp_path / "pictures"
    result = CliRunner().invoke(build_app(), ["demo", "--examples", str(EXAMPLES), "--model", str(tmp_path / "typo"),
                                              "--out", str(out)])
    assert result.exit_code == 2
    assert str(tmp_path / "typo") in result.output and "missing model.onnx" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_with_a_model_the_demo_writes_nothing_to_out(tmp_path):
    out = tmp_path / "pictures"
    result = CliRunner().invoke(build_app(), ["demo", "--examples", str(EXAMPLES), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert not out.exists()
