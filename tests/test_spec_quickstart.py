"""The spec's quick-start snippet runs unchanged against our exported files (classification and verify)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

SNIPPET = Path(__file__).parent / "data" / "spec_quickstart.py"

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
    from hanzicheck.data.synth import synth_batch
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
    from hanzicheck.data.synth import synth_batch
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
