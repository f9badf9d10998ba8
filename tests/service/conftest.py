"""Fixtures of the service tests: a fake model's artifacts (``fake_artifacts.py``) and its recogniser."""

from __future__ import annotations

from pathlib import Path

import pytest

from fake_artifacts import write_fake_artifacts
from hanzicheck.inference.recognizer import Recognizer


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:
    return write_fake_artifacts(tmp_path_factory.mktemp("fake_model"))


@pytest.fixture(scope="module")
def recognizer(artifacts: Path) -> Recognizer:
    return Recognizer.load(artifacts)
