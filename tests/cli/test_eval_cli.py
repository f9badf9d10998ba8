"""The ``evaluate`` and ``calibrate`` verbs on bad options: one line on stderr naming the option (or the input), exit
2, and nothing a user has overwritten without being asked."""

from __future__ import annotations

import json

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


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


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


# ------------------------------------------------------------------ evaluate --report


def test_a_report_path_that_is_a_file_is_refused_naming_the_option(model, small_npz, tmp_path):
    line = one_line(run("evaluate", "--data", small_npz, "--model", model, "--report", small_npz))
    assert line == f"hanzicheck: --report {small_npz}: a file, not a folder"


def test_a_previous_report_is_kept_unless_force(model, small_npz, tmp_path):
    report = tmp_path / "report"
    assert run("evaluate", "--data", small_npz, "--model", model, "--report", report, "--json").exit_code == 0
    (report / "notes.txt").write_text("mine")
    before = snapshot(report)
    line = one_line(run("evaluate", "--data", small_npz, "--model", model, "--report", report, "--json"))
    assert f"--report {report}" in line and "--force" in line
    assert snapshot(report) == before


def test_force_replaces_a_previous_report_and_keeps_other_files(model, small_npz, tmp_path):
    report = tmp_path / "report"
    assert run("evaluate", "--data", small_npz, "--model", model, "--report", report, "--json").exit_code == 0
    (report / "roc_by_source.png").write_bytes(b"a plot of an older report")
    (report / "notes.txt").write_text("mine")
    result = run("evaluate", "--synth", "1", "--model", model, "--report", report, "--json", "--force")
    assert result.exit_code == 0, result.output
    assert not (report / "roc_by_source.png").exists()  # one source now: that plot was the old report's
    assert (report / "notes.txt").read_text() == "mine"
    assert '"source": "synth"' in (report / "metrics.json").read_text(encoding="utf-8")


# ------------------------------------------------------------------ calibrate --model


def test_calibrate_without_model_is_refused_and_the_bundled_model_is_untouched(small_npz):
    from hanzicheck.inference.artifacts import bundled_path

    bundled = bundled_path()
    before = snapshot(bundled)
    line = one_line(run("calibrate", "--data", small_npz, "--synth", "0", "--no-drop-templates"))
    assert "--model DIR is required" in line
    assert snapshot(bundled) == before


def test_calibrate_dry_run_without_model_reads_the_bundled_model_and_writes_nothing(small_npz):
    from hanzicheck.inference.artifacts import bundled_path

    bundled = bundled_path()
    before = snapshot(bundled)
    result = run("calibrate", "--data", small_npz, "--synth", "0", "--no-drop-templates", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["written"] is None
    assert snapshot(bundled) == before


# ------------------------------------------------------------------ sources that the report would merge

def test_evaluate_refuses_two_sources_with_one_file_name(model, small_npz, tmp_path):
    other = tmp_path / "elsewhere" / small_npz.name
    other.parent.mkdir()
    other.write_bytes(small_npz.read_bytes())
    line = one_line(run("evaluate", "--model", model, "--data", small_npz, "--data", other, "--report",
                        tmp_path / "report"))
    assert line == (f"hanzicheck: --data {small_npz} and {other} share the name {small_npz.name}, which names a "
                    "source in the results: rename or link one of them")
    assert not (tmp_path / "report").exists()


def test_calibrate_refuses_two_sources_with_one_file_name(tmp_path, small_npz):
    model = write_fake_artifacts(tmp_path / "model")
    before = snapshot(model)
    line = one_line(run("calibrate", "--model", model, "--data", small_npz, "--data", small_npz, "--synth", 0))
    assert line == (f"hanzicheck: --data {small_npz} and {small_npz} share the name {small_npz.name}, which names a "
                    "source in the results: rename or link one of them")
    assert snapshot(model) == before


# ------------------------------------------------------------------ stroke data that cannot be fetched

@pytest.fixture
def no_stroke_data(tmp_path, monkeypatch):
    """The stroke data pointed at a missing tarball, with an empty cache and no database opened yet."""
    from hanzicheck.data import strokes

    missing = tmp_path / "hanzi-writer-data.tgz"
    monkeypatch.setenv("HANZICHECK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HANZICHECK_STROKES", str(missing))
    monkeypatch.setattr(strokes, "_DEFAULT", None)
    return missing


def test_evaluate_synth_without_stroke_data_is_one_line(model, no_stroke_data, tmp_path):
    line = one_line(run("evaluate", "--model", model, "--synth", 1, "--report", tmp_path / "report"))
    assert line == f"hanzicheck: hanzi-writer-data: {no_stroke_data} (from HANZICHECK_STROKES or argument) is not a file"


def test_calibrate_synth_without_stroke_data_is_one_line_and_writes_nothing(no_stroke_data, tmp_path):
    model = write_fake_artifacts(tmp_path / "model")
    before = snapshot(model)
    line = one_line(run("calibrate", "--model", model, "--synth", 1))
    assert line == f"hanzicheck: hanzi-writer-data: {no_stroke_data} (from HANZICHECK_STROKES or argument) is not a file"
    assert snapshot(model) == before
