"""Shared fixtures: a tiny trained model (trained once per session by our own training code), the stroke data,
and a fake model with exact answers (`fake_artifacts.py`) and its recogniser."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
TINY_CHARS = "一二三十人大日月中小"


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The real dev handwriting folder (shared/data/real beside the checkout)."""
    if not (REAL_DATA / "chinese_mnist_dev.npz").is_file():
        pytest.skip(f"real dev data not found at {REAL_DATA}")
    return REAL_DATA


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A run folder of a tiny ResNet trained for a few seconds on 10 synthesised characters (+ Unknown).

    It holds model.keras, model.onnx, templates.npz, metadata.json, history.csv, curves.png, metrics.json.
    Good enough to tell its 10 characters apart; not a real recogniser.
    """
    from hanzicheck.engine.train import TrainConfig, train

    run = tmp_path_factory.mktemp("tiny_run")
    config = TrainConfig(model="resnet-tiny", epochs=3, steps_per_epoch=40, batch_size=64, learning_rate=5e-3,
                         chars=TINY_CHARS, unknown_fraction=0.1, val_per_class=1, template_per_class=3,
                         workers=0, patience=10, seed=0)
    train(config, run, progress=False)
    return run


@pytest.fixture(scope="session")
def tiny_artifacts(tiny_run: Path) -> Path:
    """The artifacts folder (model.onnx, templates.npz, metadata.json) of the tiny model."""
    return tiny_run


@pytest.fixture(scope="session")
def db():
    """The stroke data (npm ``hanzi-writer-data``, cached); the test is skipped where it cannot be downloaded."""
    from hanzicheck.data.download import DownloadError
    from hanzicheck.data.strokes import default_db

    try:
        return default_db()
    except DownloadError as e:
        pytest.skip(f"stroke data unavailable: {e}")


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:
    """A fake model's artifacts folder (``fake_artifacts.py``: exact, hand-made answers), one per test module."""
    from fake_artifacts import write_fake_artifacts

    return write_fake_artifacts(tmp_path_factory.mktemp("fake_model"))


@pytest.fixture(scope="module")
def recognizer(artifacts: Path):
    """The recogniser of ``artifacts`` (the fake model unless a module defines its own ``artifacts``)."""
    from hanzicheck.inference.recognizer import Recognizer

    return Recognizer.load(artifacts)
