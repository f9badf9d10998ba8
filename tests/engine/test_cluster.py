"""Training across workers with tf.distribute: scripts/train_local_cluster.sh runs `hanzicheck train` as a
2-worker MultiWorkerMirroredStrategy cluster on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("keras")

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "train_local_cluster.sh"
HANZICHECK = Path(sys.executable).with_name("hanzicheck")


def launch(tmp_path: Path, n: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the script with each worker in its own folder (tmp_path/wK), so a relative --out shows who wrote.
    ``timeout`` only stops a hung cluster (speed is measured in benchmarks/, not here): on a loaded 2-core machine
    two TensorFlow workers took over 240 s to start and train 4 steps."""
    wrapper = tmp_path / "hanzicheck-in-own-folder.sh"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"i=$({sys.executable} -c 'import json, os; print(json.loads(os.environ[\"TF_CONFIG\"])[\"task\"][\"index\"])')\n"
        f'mkdir -p "{tmp_path}/w$i" && cd "{tmp_path}/w$i" && exec "{HANZICHECK}" "$@"\n')
    wrapper.chmod(0o755)
    env = {**os.environ, "HANZICHECK": str(wrapper), "CLUSTER_LOGS": str(tmp_path / "logs"),
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(["bash", str(SCRIPT), n, *args], env=env, capture_output=True, text=True, timeout=timeout)


def summary(tmp_path: Path, worker: int) -> dict:
    return json.loads((tmp_path / "logs" / f"worker-{worker}.log").read_text().strip().splitlines()[-1])


@pytest.mark.slow
def test_two_workers_train_one_model_and_only_the_chief_writes_the_run(tmp_path):
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps({"val_per_class": 1, "template_per_class": 1, "bn_recalibration": 2}))
    result = launch(tmp_path, "2", "--out", "run", "--config", str(config), "--chars", "一二三", "--epochs", "1",
                    "--steps", "4", "--batch-size", "16", "--model", "resnet-tiny", "--workers", "0")
    assert result.returncode == 0, result.stderr[-3000:]

    chief, other = summary(tmp_path, 0), summary(tmp_path, 1)
    assert chief["weights_sha256"] == other["weights_sha256"]  # one model, trained in lock-step
    assert other["role"] == "worker" and chief["workers"] == other["workers"] == 2
    run = tmp_path / "w0" / "run"
    metrics = json.loads((run / "metrics.json").read_text())
    assert (metrics["strategy"], metrics["workers"], metrics["replicas"]) == ("multi-worker", 2, 2)
    assert metrics["global_batch_size"] == 32 and metrics["samples_per_second"] > 0
    assert metrics["weights_sha256"] == chief["weights_sha256"]
    assert not (tmp_path / "w1" / "run").exists() and not any((tmp_path / "w1").iterdir())

    import keras
    import onnxruntime as ort

    from hanzicheck.data.synth.synthesizer import synth_batch

    x = synth_batch(np.array([0, 1, 2, 178] * 4, np.int32), seed=5)[..., None].astype(np.float32)
    (probs,) = ort.InferenceSession(str(run / "model.onnx"), providers=["CPUExecutionProvider"]).run(
        ["probs"], {"image": x})
    keras_probs = keras.models.load_model(run / "model.keras", compile=False).predict(x, verbose=0)
    assert np.abs(probs - keras_probs).max() <= 1e-4


def test_a_failing_worker_stops_the_cluster_with_its_status(tmp_path):
    """The chief refuses a folder holding a run (exit 2); the other worker, which would wait for it forever, is
    stopped, and the script exits 2."""
    (tmp_path / "w0" / "run").mkdir(parents=True)
    (tmp_path / "w0" / "run" / "metrics.json").write_text("{}")
    result = launch(tmp_path, "2", "--out", "run", "--chars", "一二三", "--epochs", "1", timeout=120)
    assert result.returncode == 2, result.stderr[-3000:]
    assert "worker 0 failed" in result.stderr and "--force" in result.stderr


def test_the_worker_count_must_be_a_number(tmp_path):
    result = subprocess.run(["bash", str(SCRIPT), "two", "--out", "run"], capture_output=True, text=True)
    assert result.returncode == 2 and "N must be" in result.stderr
