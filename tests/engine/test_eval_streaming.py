"""Evaluation and calibration stream (issue 19): a labelled source is read, preprocessed and run through the model
``CHUNK`` samples at a time and only the model's outputs are kept; the figures are those of the in-memory path."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fake_artifacts import drawings, write_fake_artifacts
from hanzicheck.data.formats.folder import write_npz
from hanzicheck.data.sample import Sample
from hanzicheck.engine import calibrate
from hanzicheck.engine import pairs as engine_pairs
from hanzicheck.engine.calibrate import calibrate_artifacts
from hanzicheck.engine.evaluate import classification_metrics, evaluate_sources, verification_metrics
from hanzicheck.engine.pairs import data_pairs, load_labelled, pair_evidence
from hanzicheck.inference.recognizer import Recognizer
from hanzicheck.inference.verdict import accepted, scores

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_eval_memory.py"


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    return Recognizer.load(write_fake_artifacts(tmp_path_factory.mktemp("fake")))


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """60 noisy drawings of 一 十 日 人 and rings labelled with a non-HSK1 character."""
    d, rng = drawings(), np.random.default_rng(0)
    samples = []
    for i in range(60):
        c = ["一", "十", "日", "人", "Unknown"][i % 5]
        image = d[c].copy()
        image[rng.integers(0, 64, 40), rng.integers(0, 64, 40)] = 0
        samples.append(Sample(image, "百" if c == "Unknown" else c))
    path = tmp_path_factory.mktemp("src") / "s.npz"
    write_npz(path, samples)
    return path


def _same(a, b, where=""):
    """Equal, floats within 1e-6."""
    if isinstance(a, dict):
        assert set(a) == set(b), where
        for k in a:
            _same(a[k], b[k], f"{where}/{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6) or (math.isnan(a) and math.isnan(b)), (where, a, b)
    else:
        assert a == b, (where, a, b)


def test_streaming_evaluation_matches_the_in_memory_path(rec, source, tmp_path, monkeypatch):
    monkeypatch.setattr(engine_pairs, "CHUNK", 7)  # 60 samples in 9 chunks, pairs' evidence 7 at a time
    m = evaluate_sources(rec, [source], tmp_path / "report", seed=3)
    # the in-memory path evaluate took before: every image in one array, the pairs holding copies of them
    x, labels, _ = load_labelled(source)
    probs, _ = rec.run(x)
    _same(m["classification"]["all"], classification_metrics(probs, labels, rec))
    pairs = data_pairs(x, labels, 3, source=source.name)
    pair_probs, emb = rec.run(pairs.x)
    ev, valid = pair_evidence(rec, pairs, pair_probs, emb)
    targets = [t for t, k in zip(pairs.targets, valid, strict=True) if k]
    params = rec.artifacts.verdict
    ok = accepted(ev, params, np.array([rec.threshold(t) for t in targets], np.float64))
    expected = verification_metrics(scores(ev, params), ok, pairs.genuine[valid], np.array(pairs.kinds)[valid],
                                    np.array(pairs.sources())[valid])
    got = {k: v for k, v in m["verification"].items() if k != "rule"}
    _same(got, expected)
    assert m["classification"]["all"]["samples"] == 60 and expected["genuine_pairs"] == 48


def test_streaming_calibration_does_not_depend_on_the_chunk(rec, source, monkeypatch):
    infos = []
    for chunk in (5, 10**6):  # 5: every source and the pairs' evidence in many chunks; 10**6: all at once
        monkeypatch.setattr(engine_pairs, "CHUNK", chunk)
        monkeypatch.setattr(calibrate, "CHUNK", chunk)
        infos.append(calibrate_artifacts(rec, [source], synth_per_char=0, seed=1, write=False,
                                         class_data=[source], drop_templates=False))
    _same(infos[0], infos[1])
    assert infos[0]["temperature_samples"] == 120 and infos[0]["genuine_pairs"] == 48


def test_evaluate_peak_rss_stays_far_below_the_images_on_30000_samples(rec):
    """30,000 samples: the preprocessed images alone would be 183 MiB as float32 (the in-memory path peaked at
    about 930 MiB of growth, benchmarks/bench_eval_memory.py); streaming keeps about 1 KB of outputs a sample."""
    out = subprocess.run([sys.executable, str(BENCH), "--samples", "30000", "--path", "streaming", "--model",
                          str(rec.artifacts.path)], capture_output=True, text=True, timeout=300, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["samples"] == 30000
    images_mb = 30000 * 40 * 40 * 4 / 2**20
    assert result["peak_rss_growth_mb"] < images_mb, result  # the in-memory path holds at least the images
