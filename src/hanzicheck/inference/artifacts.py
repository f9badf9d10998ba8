"""Loading an artifacts folder: model.onnx, templates.npz, metadata.json (format: docs/ARCHITECTURE.md).

The bundled folder is ``hanzicheck/assets/model``. Everything is checked on load, so a wrong or half-copied folder
fails here with a message that says what to do, not later with a shape error inside ONNX Runtime.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..data.charset import UNKNOWN, classes
from ..data.preprocess import IMAGE_SIZE, PREPROCESS_VERSION
from .calibration import Calibration
from .verdict import DropTable, VerdictParams

MODEL_FILE = "model.onnx"
TEMPLATES_FILE = "templates.npz"
METADATA_FILE = "metadata.json"
DEFAULT_CONFIDENCE_THRESHOLD = 0.3  # the spec's classify threshold
DEFAULT_SIMILARITY_THRESHOLD = 0.65  # the spec's code default; `hanzicheck calibrate` replaces it per character


class ArtifactsError(ValueError):
    """The artifacts folder is missing, incomplete or does not match this version of hanzicheck."""


@dataclass
class Artifacts:
    """A loaded artifacts folder (the ONNX model itself is opened by the recognizer)."""

    path: Path
    classes: list[str]
    chars: list[str]  # the template rows' characters
    templates: np.ndarray  # float32 [n_chars, dim], rows L2-normalised
    thresholds: np.ndarray | None  # float32 [n_chars] calibrated per character, or None
    metadata: dict[str, Any] = field(repr=False)
    drops: DropTable | None = field(default=None, repr=False)  # stroke-drop templates (``hanzicheck calibrate``)

    @property
    def verdict(self) -> VerdictParams:
        """The verify rule's global numbers (inference/verdict.py); defaults: the similarity-only rule."""
        return VerdictParams.from_metadata(self.metadata)

    @property
    def model_path(self) -> Path:
        return self.path / MODEL_FILE

    @property
    def templates_path(self) -> Path:
        return self.path / TEMPLATES_FILE

    @property
    def metadata_path(self) -> Path:
        return self.path / METADATA_FILE

    @property
    def confidence_threshold(self) -> float:
        return float(self.metadata.get("confidence_threshold", DEFAULT_CONFIDENCE_THRESHOLD))

    @property
    def calibration(self) -> Calibration:
        """The classifier's temperature and Unknown offset, still to apply and already folded
        (inference/calibration.py)."""
        return Calibration.from_metadata(self.metadata)

    @property
    def similarity_threshold(self) -> float:
        return float(self.metadata.get("similarity_threshold", DEFAULT_SIMILARITY_THRESHOLD))

    @property
    def embedding_dim(self) -> int:
        return int(self.templates.shape[1])

    def char_index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.chars)}


def bundled_path() -> Path:
    """The artifacts folder shipped inside the package (``hanzicheck/assets/model``)."""
    return Path(str(resources.files("hanzicheck") / "assets" / "model"))


def load_artifacts(path: str | Path | None = None) -> Artifacts:
    """Read and check an artifacts folder; ``None`` = the bundled model."""
    folder = Path(path) if path is not None else bundled_path()
    where = "the bundled model" if path is None else str(folder)
    if not folder.is_dir():
        hint = ("the package was installed without its model: reinstall hanzicheck, or pass --model DIR "
                "(a training run folder from `hanzicheck train`)") if path is None else \
            "pass an artifacts folder (holding model.onnx, templates.npz, metadata.json), e.g. a training run folder"
        what = "a file, not a folder" if folder.exists() else "no such folder"
        raise ArtifactsError(f"{where}: {what} ({folder}); {hint}")
    missing = [f for f in (MODEL_FILE, TEMPLATES_FILE, METADATA_FILE) if not (folder / f).is_file()]
    if missing:
        raise ArtifactsError(f"{where}: missing {', '.join(missing)} in {folder}; an artifacts folder is written by "
                             "`hanzicheck train` / `hanzicheck export` (see docs/ARCHITECTURE.md)")
    metadata = _read_metadata(folder / METADATA_FILE)
    chars, templates, thresholds = _read_templates(folder / TEMPLATES_FILE)
    class_list = [str(c) for c in metadata.get("classes", classes())]
    _check(folder, metadata, class_list, chars, templates, thresholds)
    return Artifacts(folder, class_list, chars, templates, thresholds, metadata, _read_drops(folder / TEMPLATES_FILE,
                                                                                       len(chars), templates.shape[1]))


def _read_drops(path: Path, n_chars: int, dim: int) -> DropTable | None:
    """The stroke-drop templates calibrate stores in templates.npz (``drop_templates``, ``drop_offsets``), if any."""
    with np.load(path, allow_pickle=False) as z:
        if "drop_templates" not in z or "drop_offsets" not in z:
            return None
        rows = np.asarray(z["drop_templates"], np.float32)
        offsets = np.asarray(z["drop_offsets"], np.int64)
    if rows.ndim != 2 or rows.shape[1] != dim or offsets.shape != (n_chars + 1,) or offsets[-1] != len(rows) \
            or offsets[0] != 0 or (np.diff(offsets) < 0).any():
        raise ArtifactsError(f"{path}: drop_templates {rows.shape} / drop_offsets {offsets.shape} do not match "
                             f"{n_chars} characters of dimension {dim}; run `hanzicheck calibrate` again")
    return DropTable(rows, offsets)  # as stored (written L2-normalised): the web page reads the same values


def _read_metadata(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ArtifactsError(f"{path}: not readable JSON ({e}); re-export the model") from e
    if not isinstance(meta, dict):
        raise ArtifactsError(f"{path}: expected a JSON object, got {type(meta).__name__}; re-export the model")
    return meta


def _read_templates(path: Path) -> tuple[list[str], np.ndarray, np.ndarray | None]:
    try:
        with np.load(path, allow_pickle=False) as z:
            if "chars" not in z or "embeddings" not in z:
                raise ArtifactsError(f"{path}: needs arrays 'chars' and 'embeddings', has {sorted(z.files)}")
            chars = [str(c) for c in z["chars"].tolist()]
            emb = np.asarray(z["embeddings"], np.float32)
            thresholds = np.asarray(z["thresholds"], np.float32) if "thresholds" in z else None
    except ArtifactsError:
        raise
    except (OSError, ValueError, EOFError) as e:
        raise ArtifactsError(f"{path}: not a readable .npz ({e}); re-export the model") from e
    if emb.ndim != 2 or len(emb) != len(chars):
        raise ArtifactsError(f"{path}: embeddings shape {emb.shape} does not match {len(chars)} chars")
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    emb = emb / np.maximum(norms, 1e-8)  # normalised again: cheap, and robust to hand-made files
    if thresholds is not None and thresholds.shape != (len(chars),):
        raise ArtifactsError(f"{path}: thresholds shape {thresholds.shape}, expected ({len(chars)},); "
                             "run `hanzicheck calibrate` again")
    return chars, emb, thresholds


def _check(folder: Path, meta: dict, class_list: list[str], chars: list[str], templates: np.ndarray,
           thresholds: np.ndarray | None) -> None:
    if not class_list or class_list[-1] != UNKNOWN:
        raise ArtifactsError(f"{folder}: metadata classes must end with {UNKNOWN!r}; re-export the model")
    unknown_chars = [c for c in chars if c not in class_list]
    if unknown_chars:
        raise ArtifactsError(f"{folder}: template characters {unknown_chars[:5]} are not among the model's classes")
    size = int(meta.get("image_size", IMAGE_SIZE))
    if size != IMAGE_SIZE:
        raise ArtifactsError(f"{folder}: the model expects {size}×{size} images, this hanzicheck makes "
                             f"{IMAGE_SIZE}×{IMAGE_SIZE}; use a matching hanzicheck version")
    version = int(meta.get("preprocess_version", PREPROCESS_VERSION))
    if version != PREPROCESS_VERSION:
        raise ArtifactsError(f"{folder}: trained with preprocessing v{version}, this hanzicheck has "
                             f"v{PREPROCESS_VERSION}; retrain or use a matching hanzicheck version")
    dim = meta.get("embedding_dim")
    if dim is not None and int(dim) != templates.shape[1]:
        raise ArtifactsError(f"{folder}: metadata embedding_dim {dim} but templates have {templates.shape[1]}")
    if thresholds is not None and not np.isfinite(thresholds).all():
        raise ArtifactsError(f"{folder}: calibrated thresholds hold NaN/inf; run `hanzicheck calibrate` again")
