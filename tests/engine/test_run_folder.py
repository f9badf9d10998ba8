"""Nothing lost: `train --out` and `export` never overwrite silently, and `--resume` continues exactly where the last
committed epoch left off, with its best score, or refuses."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("keras")

TINY = ["--chars", "一二三", "--model", "resnet-tiny", "--batch-size", "16", "--workers", "0"]
TINY_CONFIG = {"val_per_class": 1, "template_per_class": 1, "bn_recalibration": 2}


def cli(*args: str):
    from typer.testing import CliRunner

    from hanzicheck.cli import build_app

    return CliRunner().invoke(build_app(), [str(a) for a in args])


def snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def history(run: Path) -> list[dict[str, str]]:
    with open(run / "history.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def old_run(tiny_run, tmp_path) -> Path:
    run = tmp_path / "old"
    shutil.copytree(tiny_run, run)
    return run


def test_train_refuses_a_folder_holding_a_run_and_names_resume_and_force(old_run):
    before = snapshot(old_run)
    result = cli("train", "--out", old_run, *TINY, "--epochs", "1", "--steps", "1")
    assert result.exit_code == 2, result.output
    assert "--resume" in result.stderr and "--force" in result.stderr and len(result.stderr.splitlines()) == 1
    assert snapshot(old_run) == before


def test_force_deletes_the_previous_runs_files_and_nothing_else(old_run):
    from hanzicheck.engine.run_folder import prepare_fresh

    (old_run / "notes.txt").write_text("mine")
    (old_run / "best.e9.keras").write_bytes(b"half-written")
    prepare_fresh(old_run, force=True)
    assert [p.name for p in old_run.iterdir()] == ["notes.txt"]


def test_resume_refuses_a_folder_without_state_json(old_run):
    (old_run / "state.json").unlink()
    before = snapshot(old_run)
    result = cli("train", "--out", old_run, *TINY, "--epochs", "5", "--resume")
    assert result.exit_code == 2 and "--resume" in result.stderr and "state.json" in result.stderr, result.output
    assert snapshot(old_run) == before


def test_resume_refuses_a_missing_folder(tmp_path):
    result = cli("train", "--out", tmp_path / "nothing", *TINY, "--resume")
    assert result.exit_code == 2 and "--resume" in result.stderr and "does not exist" in result.stderr
    assert not (tmp_path / "nothing").exists()


def test_resume_and_force_together_are_refused(old_run):
    result = cli("train", "--out", old_run, *TINY, "--resume", "--force")
    assert result.exit_code == 2 and "--resume" in result.stderr and "--force" in result.stderr


def test_resume_drops_an_uncommitted_epoch_and_completes_a_committed_one(old_run):
    """A kill after history.csv got epoch 4's row but before state.json committed it: the row and the epoch's
    checkpoint are dropped. A kill after the commit but before the rename: the checkpoint is put in place."""
    from hanzicheck.engine.run_folder import resume_state

    rows = history(old_run)
    with open(old_run / "history.csv", "a", newline="") as f:
        csv.DictWriter(f, fieldnames=list(rows[0])).writerow(rows[-1])
    (old_run / "last.e4.keras").write_bytes(b"half-written")
    state = json.loads((old_run / "state.json").read_text())
    shutil.move(old_run / "last.keras", old_run / "last.e3.keras")
    (old_run / "state.json").write_text(json.dumps({**state, "pending": {"last.keras": "last.e3.keras"}}))

    assert resume_state(old_run)["epoch"] == 3
    assert len(history(old_run)) == 3
    assert (old_run / "last.keras").is_file()
    assert not list(old_run.glob("last.e*.keras"))


def test_export_refuses_to_overwrite_a_bundle_or_seed_names(tiny_run, tmp_path):
    for flag in ("--bundle", "--seed-names"):
        out = tmp_path / flag.strip("-")
        assert cli("export", tiny_run, flag, out).exit_code == 0
        before = snapshot(out)
        result = cli("export", tiny_run, flag, out)
        assert result.exit_code == 2 and flag in result.stderr and "--force" in result.stderr, result.output
        assert snapshot(out) == before
        assert cli("export", tiny_run, flag, out, "--force").exit_code == 0


def test_export_into_the_run_folder_itself_is_refused(old_run):
    before = snapshot(old_run)
    result = cli("export", old_run, "--bundle", old_run, "--force")
    assert result.exit_code == 2 and "--bundle" in result.stderr and len(result.stderr.splitlines()) == 1
    assert snapshot(old_run) == before


@pytest.mark.slow
def test_a_run_killed_between_epochs_resumes_without_replacing_best_with_a_worse_epoch(tmp_path):
    """`hanzicheck train` is killed right after epoch 2 is committed, then resumed to epoch 4: the history has
    one row per epoch, state.json's best score is the best of the whole history, and best.keras changed only if a
    resumed epoch beat the best from before the kill. (With this seed, epoch 2 scores 0.75 on the 4 validation
    samples and epochs 3–4 score 0.5: a tracker that restarted on resume saved epoch 3 over it.)"""
    run, config = tmp_path / "run", tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY_CONFIG))
    args = ["train", "--out", run, "--config", config, *TINY, "--steps", "10", "--lr", "5e-3", "--seed", "3"]
    proc = subprocess.Popen([sys.executable, "-c", "from hanzicheck.cli import main; main()",
                             *map(str, args), "--epochs", "4"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    deadline, state = time.time() + 400, {}
    try:
        while time.time() < deadline and proc.poll() is None:
            state = json.loads((run / "state.json").read_text()) if (run / "state.json").is_file() else {}
            if state.get("epoch", 0) >= 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        assert state.get("epoch", 0) >= 2, "epoch 2 was not committed in time"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    before = json.loads((run / "state.json").read_text())
    best_before = hashlib.sha256((run / "best.keras").read_bytes()).hexdigest()

    result = cli(*args, "--epochs", "4", "--resume")
    assert result.exit_code == 0, result.output

    rows, state = history(run), json.loads((run / "state.json").read_text())
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2, 3]
    scores = [float(r["val_accuracy"]) for r in rows]
    assert state["best"] == pytest.approx(max(scores))
    improved = max(scores[before["epoch"]:]) > before["best"]
    assert (hashlib.sha256((run / "best.keras").read_bytes()).hexdigest() != best_before) == improved
