"""The spec's quick-start snippet runs unchanged against our exported files (classification and verify)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

SNIPPET = Path(__file__).resolve().parents[1] / "fixtures" / "spec_quickstart.py"

HARNESS = """
import json, sys
img = np.load('sample.npy')
verdict, sim = verify(img, sys.argv[1])
bad = verify(img, 'X')
probs = model.predict(img.astype('float32').reshape(1, 40, 40, 1) / 255.0, verbose=0)[0]
print(json.dumps({"verdict": verdict, "sim": sim, "bad": list(bad), "argmax": int(probs.argmax()),
                  "n_classes": len(probs)}))
"""


def test_spec_snippet_runs_unchanged_on_exported_files(tiny_run, tmp_path):
    import onnxruntime as ort

    from hanzicheck.data.charset import class_index
    from hanzicheck.data.synth.synthesizer import synth_batch
    from hanzicheck.engine.export import export_seed_names

    export_seed_names(tiny_run, tmp_path)
    x = synth_batch(np.array([class_index("大")], np.int32), seed=5)[0]
    np.save(tmp_path / "sample.npy", np.round(x * 255).astype(np.uint8))
    script = tmp_path / "quickstart.py"
    script.write_text(SNIPPET.read_text() + HARNESS)
    out = subprocess.run([sys.executable, str(script), "大"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["verdict"] in ("correct", "incomplete_or_unclear")
    assert result["bad"] == ["invalid_target", 0.0]
    assert result["n_classes"] == 179

    # The snippet's similarity equals ONNX Runtime's on the same pixels: one model, two runtimes.
    session = ort.InferenceSession(str(tiny_run / "model.onnx"), providers=["CPUExecutionProvider"])
    pixels = (np.load(tmp_path / "sample.npy").astype(np.float32) / 255.0).reshape(1, 40, 40, 1)
    probs, emb = session.run(["probs", "embedding"], {"image": pixels})
    tpl = np.load(tiny_run / "templates.npz")
    template = tpl["embeddings"][tpl["chars"].tolist().index("大")]
    sim = float(emb[0] @ template / (np.linalg.norm(emb[0]) + 1e-8))
    assert abs(sim - result["sim"]) < 1e-4
    assert int(probs[0].argmax()) == result["argmax"]


def test_spec_snippet_text_is_the_model_cards(real_data):
    """Guard: our copy of the snippet is the model card's, line for line (the card lost its indentation)."""
    card = (real_data.parents[1] / "spec" / "model-card-v5.txt").read_text(encoding="utf-8")
    ours = [line.strip() for line in SNIPPET.read_text().splitlines() if line.strip()]
    start = card.splitlines().index("import numpy as np, json")
    theirs = [line.strip() for line in card.splitlines()[start:] if line.strip()]
    assert ours == theirs[: len(ours)] and len(ours) == len(theirs)
    assert json.dumps(ours)  # plain text


def test_export_bundle_then_seed_names_from_the_bundle(tiny_run, tmp_path):
    """The bundled folder carries model.keras, so the spec's files can be made from it; the recognizer loads it."""
    from typer.testing import CliRunner

    from hanzicheck.cli import build_app
    from hanzicheck.data.charset import class_index
    from hanzicheck.data.synth.synthesizer import synth_batch
    from hanzicheck.inference.recognizer import Recognizer

    bundle = tmp_path / "bundle"
    result = CliRunner().invoke(build_app(), ["export", str(tiny_run), "--bundle", str(bundle)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in bundle.iterdir()} == {"model.onnx", "templates.npz", "metadata.json", "model.keras"}
    x = synth_batch(np.array([class_index("大")], np.int32), seed=5)[0]
    assert Recognizer.load(bundle).classify(x).char  # loads and answers
    result = CliRunner().invoke(build_app(), ["export", str(bundle), "--seed-names", str(tmp_path / "spec")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "spec" / "chinese_hsk1_model_v5.keras").is_file()


def test_fold_temperature_makes_the_softmax_the_calibrated_one(tiny_run):
    """Folding T into the classifier equals softmax(logits / T) applied afterwards; the embedding is untouched."""
    import keras

    from hanzicheck.engine.export import fold_temperature
    from hanzicheck.inference.calibration import apply_temperature
    from hanzicheck.models import embedding_model

    x = np.random.default_rng(1).random((6, 40, 40, 1), dtype=np.float32)
    model = keras.models.load_model(tiny_run / "model.keras", compile=False)
    raw, emb = model.predict(x, verbose=0), embedding_model(model).predict(x, verbose=0)
    fold_temperature(model, 0.5)
    assert np.abs(model.predict(x, verbose=0) - apply_temperature(raw, 0.5)).max() < 1e-5
    assert np.array_equal(embedding_model(model).predict(x, verbose=0), emb)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        fold_temperature(model, 0.0)


def test_exports_carry_the_calibrated_temperature_and_unknown_offset_inside_the_model(tiny_run, tmp_path):
    """A run calibrated to T = 0.5 and Unknown offset 1.5: the bundle's ONNX and the spec's .keras give the
    probabilities the recognizer gives on the run, and the bundle's metadata does not apply them a second time."""
    import shutil

    import keras

    from hanzicheck.engine.export import export_bundle, export_seed_names
    from hanzicheck.inference.recognizer import Recognizer

    run = shutil.copytree(tiny_run, tmp_path / "run")
    meta = json.loads((run / "metadata.json").read_text())
    (run / "metadata.json").write_text(json.dumps({**meta, "temperature": 0.5, "unknown_bias": 1.5}))
    export_bundle(run, tmp_path / "bundle")
    export_seed_names(run, tmp_path / "spec")

    bundle_meta = json.loads((tmp_path / "bundle" / "metadata.json").read_text())
    assert bundle_meta["temperature"] == 1.0 and bundle_meta["temperature_folded"] == 0.5
    assert bundle_meta["unknown_bias"] == 0.0 and bundle_meta["unknown_bias_folded"] == 1.5
    x = np.random.default_rng(2).random((5, 40, 40, 1), dtype=np.float32)
    expected, _ = Recognizer.load(run).run(x)
    bundled, _ = Recognizer.load(tmp_path / "bundle").run(x)
    raw_onnx, _ = Recognizer.load(tmp_path / "bundle").run(x, calibrated=False)
    spec = keras.models.load_model(tmp_path / "spec" / "chinese_hsk1_model_v5.keras").predict(x, verbose=0)
    assert np.abs(bundled - expected).max() < 1e-4
    assert np.abs(raw_onnx - expected).max() < 1e-4  # calibrated straight out of the network
    assert np.abs(spec - expected).max() < 1e-4


def test_recalibrating_a_bundle_composes_with_what_it_had_folded(tiny_run, tmp_path):
    """A bundle re-calibrated (T = 2, offset 0.5 on top of T = 0.5, offset 1.5) and exported again gives the
    probabilities of both calibrations applied in turn; its metadata holds the totals."""
    import shutil

    from hanzicheck.engine.export import export_bundle
    from hanzicheck.inference.calibration import apply_temperature, apply_unknown_bias
    from hanzicheck.inference.recognizer import Recognizer

    run = shutil.copytree(tiny_run, tmp_path / "run")
    meta = json.loads((run / "metadata.json").read_text())
    (run / "metadata.json").write_text(json.dumps({**meta, "temperature": 0.5, "unknown_bias": 1.5}))
    first = export_bundle(run, tmp_path / "b1")[0].parent
    meta1 = json.loads((first / "metadata.json").read_text())
    (first / "metadata.json").write_text(json.dumps({**meta1, "temperature": 2.0, "unknown_bias": 0.5}))
    second = export_bundle(first, tmp_path / "b2")[0].parent

    x = np.random.default_rng(3).random((5, 40, 40, 1), dtype=np.float32)
    rec = Recognizer.load(second)
    once, _ = Recognizer.load(first).run(x, calibrated=False)  # what the first bundle's network gives
    twice, _ = rec.run(x, calibrated=False)
    expected = apply_unknown_bias(apply_temperature(once, 2.0), 0.5, rec.classes.index("Unknown"))
    assert np.abs(twice - expected).max() < 1e-4
    meta2 = json.loads((second / "metadata.json").read_text())
    assert meta2["temperature_folded"] == 1.0 and meta2["unknown_bias_folded"] == 1.5 / 2.0 + 0.5


def test_export_bundle_of_an_incomplete_folder_fails_clearly(tmp_path):
    from typer.testing import CliRunner

    from hanzicheck.cli import build_app

    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "model.onnx").write_bytes(b"x")
    result = CliRunner().invoke(build_app(), ["export", str(tmp_path / "run"), "--bundle", str(tmp_path / "b")])
    assert result.exit_code == 2
    assert "templates.npz is missing" in result.output
    assert not (tmp_path / "b").exists()
