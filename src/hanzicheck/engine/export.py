"""Turn a trained Keras model into an artifacts folder: model.keras, model.onnx, templates.npz, metadata.json.

The folder layout is the contract between training and inference (docs/ARCHITECTURE.md). ``export_seed_names``
writes the spec's file names so its quick-start snippet runs unchanged; ``export_bundle`` writes the files the
package ships. Both fold a calibrated softmax temperature and Unknown offset into the classifier, so every runtime
(the spec's snippet on the ``.keras`` file included) reads calibrated probabilities straight from the model.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import onnx

from .. import __version__
from ..data.charset import UNKNOWN, classes, hsk1_chars
from ..data.preprocess import PREPROCESS_VERSION
from ..inference.artifacts import DEFAULT_CONFIDENCE_THRESHOLD, DEFAULT_SIMILARITY_THRESHOLD
from ..inference.calibration import Calibration, divide
from ..models import embedding_model
from .onnx_convert import keras_to_onnx
from .run_folder import (
    BUNDLE_FILES,
    SEED_MODEL_NAME,
    SEED_SOURCE_FILES,
    SEED_TEMPLATES_NAME,
    check_export_target,
    require_files,
)

PARITY_TOLERANCE = 1e-4


def l2_normalize(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return x / (np.linalg.norm(x, axis=axis, keepdims=True) + 1e-8)


def compute_templates(embed: Callable[[np.ndarray], np.ndarray], images: np.ndarray, labels: np.ndarray,
                      batch_size: int = 256) -> np.ndarray:
    """One template per HSK1 class: the L2-normalised mean of the L2-normalised embeddings of its images.

    ``images`` float32 [N, 40, 40] or [N, 40, 40, 1]; ``labels`` class indices; every one of the 178 classes
    needs at least one image. Returns float32 [178, dim].
    """
    images = images.reshape(len(images), images.shape[1], images.shape[2], 1)
    embs = np.concatenate([l2_normalize(embed(images[i:i + batch_size])) for i in range(0, len(images), batch_size)])
    n = len(hsk1_chars())
    missing = sorted(set(range(n)) - set(np.unique(labels).tolist()))
    if missing:
        raise ValueError(f"no template images for classes {missing[:10]} …")
    sums = np.zeros((n, embs.shape[1]), np.float64)
    mask = labels < n
    np.add.at(sums, labels[mask], embs[mask])
    return l2_normalize(sums).astype(np.float32)


def save_uncompiled(model: keras.Model, path: Path) -> None:
    """Save without optimizer or compile state, so the file loads under any backend and in ``tf.keras``."""
    clean = keras.Model.from_config(model.get_config())
    clean.set_weights(model.get_weights())
    clean.save(path)


def check_parity(model: keras.Model, onnx_path: Path, images: np.ndarray) -> float:
    """Largest absolute difference between Keras and ONNX Runtime outputs (probs and embedding)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    probs, emb = session.run(["probs", "embedding"], {"image": images})
    k_probs = model.predict(images, verbose=0)
    k_emb = embedding_model(model).predict(images, verbose=0)
    return float(max(np.abs(probs - k_probs).max(), np.abs(emb - k_emb).max()))


def save_models(model: keras.Model, out: Path, parity_images: np.ndarray | None = None) -> float:
    """Write ``out``/model.keras and model.onnx; returns the largest Keras/ONNX difference, and raises when it
    exceeds 1e-4."""
    save_uncompiled(model, out / "model.keras")
    onnx.save(keras_to_onnx(model), out / "model.onnx")
    if parity_images is None:
        parity_images = np.random.default_rng(0).random((8, 40, 40, 1), dtype=np.float32)
    diff = check_parity(model, out / "model.onnx", parity_images.reshape(-1, 40, 40, 1).astype(np.float32))
    if diff > PARITY_TOLERANCE:
        raise RuntimeError(f"ONNX export differs from Keras by {diff:.2e} (> {PARITY_TOLERANCE}); not writing it")
    return diff


def write_artifacts(model: keras.Model, out_dir: str | Path, templates: np.ndarray, metadata: dict | None = None,
                    parity_images: np.ndarray | None = None) -> Path:
    """Write the artifacts folder; refuses to finish if ONNX and Keras disagree by more than 1e-4."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    diff = save_models(model, out, parity_images)
    np.savez(out / "templates.npz", chars=np.array(hsk1_chars()), embeddings=templates.astype(np.float32))
    meta = {
        "classes": list(classes()),
        "image_size": 40,
        "embedding_dim": int(templates.shape[1]),
        "preprocess_version": PREPROCESS_VERSION,
        "confidence_threshold": DEFAULT_CONFIDENCE_THRESHOLD,
        "similarity_threshold": DEFAULT_SIMILARITY_THRESHOLD,
        "hanzicheck_version": __version__,
        "onnx_parity_max_abs_diff": diff,
        **(metadata or {}),
    }
    (out / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    return out


def _head(model: keras.Model) -> keras.layers.Dense:
    head = model.layers[-1]
    if not isinstance(head, keras.layers.Dense) or not head.use_bias or \
            getattr(head.activation, "__name__", "") != "softmax":
        raise ValueError("folding a calibration needs a final Dense layer with bias and softmax activation")
    return head


def _fold(model: keras.Model, how) -> keras.Model:
    """Replace the classifier's (kernel, bias) with ``how(kernel, bias)`` (in place)."""
    head = _head(model)
    head.set_weights(list(how(*head.get_weights())))
    return model


def fold_temperature(model: keras.Model, temperature: float) -> keras.Model:
    """Divide the classifier's weights by ``temperature`` (in place): the model's softmax becomes
    softmax(logits / T), the calibrated probabilities; the embedding (``layers[-2]``) is untouched."""
    return _fold(model, lambda kernel, bias: divide(kernel, bias, temperature))


def unknown_index(meta: dict) -> int:
    """The Unknown class's output index: from metadata ``classes`` (a run on a subset), else the full set's."""
    return list(meta.get("classes") or classes()).index(UNKNOWN)


def unfold_calibration(model: keras.Model, meta: dict) -> keras.Model:
    """Take a folded temperature and Unknown offset (``Calibration.unfold``) out of the classifier again (in
    place): the network's own logits, for training."""
    calibration = Calibration.from_metadata(meta)
    return _fold(model, lambda kernel, bias: calibration.unfold(kernel, bias, unknown_index(meta)))


def _calibration(run: Path) -> tuple[dict, Calibration]:
    """The run's metadata and its calibration."""
    meta = json.loads((run / "metadata.json").read_text(encoding="utf-8")) if (run / "metadata.json").is_file() else {}
    return meta, Calibration.from_metadata(meta)


def _folded_model(run: Path, meta: dict, calibration: Calibration) -> tuple[keras.Model, Calibration]:
    """The run's model with ``calibration`` folded in (softmax(logits / T − bias·[Unknown]): what the recognizer
    computes from the run at runtime), and the folded model's calibration."""
    model = keras.models.load_model(run / "model.keras", compile=False)
    head = _head(model)
    kernel, bias, folded = calibration.fold(*head.get_weights(), unknown_index(meta))
    head.set_weights([kernel, bias])
    return model, folded


def export_seed_names(run_dir: str | Path, out_dir: str | Path, force: bool = False) -> list[Path]:
    """Write a run's model and templates under the spec's names (chinese_hsk1_model_v5.keras, templates_v5.npz);
    a calibrated temperature and Unknown offset are folded into the model. Existing files there are replaced only
    with ``force`` (FileExistsError otherwise)."""
    run, out = Path(run_dir), Path(out_dir)
    require_files(run, SEED_SOURCE_FILES)
    check_export_target(run, out, (SEED_MODEL_NAME, SEED_TEMPLATES_NAME), force)
    out.mkdir(parents=True, exist_ok=True)
    meta, calibration = _calibration(run)
    if not calibration.pending:
        shutil.copyfile(run / "model.keras", out / SEED_MODEL_NAME)
    else:
        save_uncompiled(_folded_model(run, meta, calibration)[0], out / SEED_MODEL_NAME)
    shutil.copyfile(run / "templates.npz", out / SEED_TEMPLATES_NAME)
    return [out / SEED_MODEL_NAME, out / SEED_TEMPLATES_NAME]


def export_bundle(run_dir: str | Path, out_dir: str | Path, force: bool = False) -> list[Path]:
    """Write the files the package ships (model.onnx, templates.npz, metadata.json, model.keras) into ``out_dir``.

    A calibrated temperature and Unknown offset are folded into both models (``Calibration.fold``); metadata.json
    then says ``temperature: 1.0`` and ``unknown_bias: 0.0`` and keeps the folded totals (``temperature_folded``,
    ``unknown_bias_folded``), so the recognizer does not apply them twice and ``train --init`` can take them out.
    Existing bundle files in ``out_dir`` are replaced only with ``force`` (FileExistsError otherwise); the run
    folder itself is refused (ValueError)."""
    run, out = Path(run_dir), Path(out_dir)
    require_files(run, BUNDLE_FILES)
    check_export_target(run, out, BUNDLE_FILES, force)
    out.mkdir(parents=True, exist_ok=True)
    meta, calibration = _calibration(run)
    if not calibration.pending:
        for name in ("model.keras", "model.onnx"):
            shutil.copyfile(run / name, out / name)
    else:
        model, folded = _folded_model(run, meta, calibration)
        diff = save_models(model, out)
        meta = {**meta, **folded.to_metadata(), "onnx_parity_max_abs_diff": diff}
    shutil.copyfile(run / "templates.npz", out / "templates.npz")
    (out / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    return [out / name for name in BUNDLE_FILES]
