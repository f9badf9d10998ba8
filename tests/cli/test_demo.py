"""`hanzicheck demo` (what `make demo` runs): the bundled model on the example handwriting, end to end."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from typer.testing import CliRunner

from hanzicheck.cli import build_app

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
    named = re.search(r"missing strokes \(0-based, standard order\): ([\d, ]+|none)\.", result.output).group(1)
    assert named != "none" and left_out - 1 in [int(s) for s in named.split(",")]
