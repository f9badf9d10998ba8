"""The ``evaluate`` and ``calibrate`` verbs on bad options: one line on stderr naming the option (or the input), exit
2, and nothing a user has overwritten without being asked."""

from __future__ import annotations

import pytest
from PIL import Image
from typer.testing import CliRunner

from fake_artifacts import drawings, write_fake_artifacts
from hanzicheck.cli import build_app
from hanzicheck.data.formats.folder import write_npz
from hanzicheck.data.sample import Sample

runner = CliRunner()


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return write_fake_artifacts(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def small_npz(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "small.npz"
    write_npz(path, [Sample(drawings()[c], c) for c in ("一", "十", "日", "人") for _ in range(2)])
    return path


def run(*args):
    return runner.invoke(build_app(), [str(a) for a in args])


def one_line(result) -> str:
    """The one line on stderr of a refused command (exit 2, no traceback)."""
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


# ------------------------------------------------------------------ evaluate --data: pair CSVs


def test_a_pair_csv_without_kind_or_label_is_refused_as_the_help_says(model, tmp_path):
    Image.fromarray(drawings()["十"]).save(tmp_path / "ten.png")
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("file,target\nten.png,十\n", encoding="utf-8")
    line = one_line(run("evaluate", "--data", pairs, "--model", model, "--report", tmp_path / "report"))
    assert str(pairs) in line and "'kind' column" in line and "'label' column" in line
    assert not (tmp_path / "report").exists()
    help_text = " ".join(run("evaluate", "--help").stdout.split())
    assert "file,target,kind" in help_text and "file,target,label" in help_text


# ------------------------------------------------------------------ evaluate --limit


def test_a_negative_limit_is_refused_naming_the_option_not_the_data(model, small_npz, tmp_path):
    result = run("evaluate", "--data", small_npz, "--limit", "-5", "--model", model, "--report", tmp_path / "r")
    assert result.exit_code == 2 and "--limit" in result.stderr and "small.npz" not in result.stderr
    assert not (tmp_path / "r").exists()
