"""The ``train`` and ``export`` verbs' own checks and help: what they refuse before TensorFlow loads, and the run
folder's files as ``train --help`` names them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hanzicheck.cli import build_app
from hanzicheck.engine.run_folder import RUN_FILES

README = Path(__file__).resolve().parents[2] / "README.md"

# The CLI in a fresh interpreter: its exit code, its stderr and whether TensorFlow or Keras got imported.
EXPORT_PROBE = """
import json, sys
from typer.testing import CliRunner
from hanzicheck.cli import build_app
result = CliRunner().invoke(build_app(), sys.argv[1:])
print(json.dumps({"exit_code": result.exit_code, "stderr": result.stderr,
                  "heavy": sorted(m for m in ("tensorflow", "keras") if m in sys.modules)}))
"""


def test_export_of_a_folder_without_a_model_is_refused_before_tensorflow_loads(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    out = subprocess.run([sys.executable, "-c", EXPORT_PROBE, "export", str(run), "--seed-names",
                          str(tmp_path / "out")], capture_output=True, text=True, timeout=120, check=True).stdout
    result = json.loads(out)
    assert result["exit_code"] == 2 and result["heavy"] == []
    assert result["stderr"] == f"hanzicheck: {run / 'model.keras'} is missing: is {run} a training run or " \
                               "artifacts folder?\n"
    assert not (tmp_path / "out").exists()


def test_train_help_and_the_readme_name_every_file_a_run_writes(request):
    pytest.importorskip("keras")
    written = sorted(p.name for p in request.getfixturevalue("tiny_run").iterdir())  # a finished run's folder
    assert set(written) == set(RUN_FILES)
    help_text = " ".join(CliRunner().invoke(build_app(), ["train", "--help"], env={"COLUMNS": "200"}).stdout.split())
    readme_row = next(line for line in README.read_text(encoding="utf-8").splitlines()
                      if line.startswith("| `hanzicheck train --out"))
    for name in written:
        assert name in help_text, name
        assert name in readme_row, name


def test_a_dev_file_that_is_not_an_npz_is_one_line_and_leaves_no_run_behind(tmp_path):
    pytest.importorskip("keras")
    bad, out = tmp_path / "dev.npz", tmp_path / "run"
    bad.write_text("not a zip")
    result = CliRunner().invoke(build_app(), ["train", "--out", str(out), "--model", "resnet-tiny", "--epochs", "1",
                                              "--steps", "1", "--batch-size", "8", "--chars", "一二", "--dev",
                                              str(bad)])
    assert result.exit_code == 2
    assert result.stderr == f"hanzicheck: {bad}: not a readable .npz file (File is not a zip file)\n"
    assert not out.exists() or not any(out.iterdir())  # a second try needs no --force


def test_train_into_a_folder_of_other_files_names_them_and_does_not_call_them_a_run(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = CliRunner().invoke(build_app(), ["train", "--out", str(tmp_path), "--model", "resnet-tiny"])
    assert result.exit_code == 2
    assert result.stderr == (f"hanzicheck: --out {tmp_path} is not empty (notes.txt): give a new or empty folder, "
                             "or --force to train into it (only a run's own files are deleted)\n")
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_train_without_stroke_data_is_one_line_and_leaves_no_run_behind(tmp_path, monkeypatch):
    pytest.importorskip("keras")
    from hanzicheck.data import strokes

    missing, out = tmp_path / "hanzi-writer-data.tgz", tmp_path / "run"
    monkeypatch.setenv("HANZICHECK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HANZICHECK_STROKES", str(missing))
    monkeypatch.setattr(strokes, "_DEFAULT", None)
    result = CliRunner().invoke(build_app(), ["train", "--out", str(out), "--model", "resnet-tiny", "--epochs", "1",
                                              "--steps", "1", "--batch-size", "8", "--chars", "一二"])
    assert result.exit_code == 2
    assert result.stderr == f"hanzicheck: hanzi-writer-data: {missing} (from HANZICHECK_STROKES or argument) is not " \
                            "a file\n"
    assert not out.exists() or not any(out.iterdir())
