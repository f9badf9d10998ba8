"""The recogniser: classify, verify and embed handwritten characters with ONNX Runtime (no TensorFlow).

One ``InferenceSession`` per recogniser; ONNX Runtime's ``run`` is thread-safe, so a single recogniser can serve
many threads. Images may be anything ``preprocess`` accepts; one image gives one result, a list gives a list (and
the first unreadable image raises, named by its path, else by its place: ``item N``). The ``*_many`` methods
answer each input on its own: an input that cannot be read gets an ``ItemError`` naming it, and the others are
still answered.

The input comes before the target: an input that cannot be read (or holds no ink) is that error whatever its
target, in ``verify`` and ``diagnose`` as in ``verify_many`` and ``diagnose_many``; only a readable one gets the
verdict ``invalid_target`` for a target the model does not know.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from ..data.charset import UNKNOWN
from ..data.preprocess import IMAGE_SIZE, InvalidImageError, preprocess
from .artifacts import Artifacts, ArtifactsError, load_artifacts
from .results import Classification, ItemError, Verification

if TYPE_CHECKING:
    from .diagnose import Diagnosis

BATCH = 256  # images per ONNX call: bounds memory on big folders
_DROP_TEMPLATES_LOCK = threading.Lock()


def is_batch(images: Any) -> bool:
    """A list/tuple, or a numpy stack ([N, H, W] or [N, H, W, C]) is a batch; one array image is not.

    A 3-D array is one image when its last axis holds 1–4 channels (H×W×C), else a stack of N gray images."""
    if isinstance(images, (list, tuple)):
        return True
    if isinstance(images, np.ndarray):
        return images.ndim == 4 or (images.ndim == 3 and images.shape[-1] not in (1, 2, 3, 4))
    return False


class Recognizer:
    """Load with ``Recognizer.load(path=None)`` (the bundled model) or any artifacts folder."""

    def __init__(self, artifacts: Artifacts, session: Any) -> None:
        self.artifacts = artifacts
        self._session = session
        self.classes = artifacts.classes
        self._unknown = self.classes.index(UNKNOWN)
        self._class_index = {c: i for i, c in enumerate(self.classes)}
        self._template_row = artifacts.char_index()
        self._drop_templates: dict[int, Any] = {}  # id(StrokeDB) → DropTemplates (which keeps its db alive)

    @classmethod
    def load(cls, path: str | Path | None = None, threads: int = 1) -> Recognizer:
        """Open an artifacts folder (``None`` = the bundled model). ``threads``: ONNX Runtime intra-op threads."""
        import onnxruntime as ort

        artifacts = load_artifacts(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = positive_int("threads", threads)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(str(artifacts.model_path), options, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types for bad files
            raise ArtifactsError(f"{artifacts.model_path}: ONNX Runtime cannot load it ({e}); re-export the model") from e
        _check_io(session, artifacts)
        return cls(artifacts, session)

    # ------------------------------------------------------------ raw model

    def run(self, x: np.ndarray, calibrated: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Preprocessed images float32 [N, 40, 40] or [N, 40, 40, 1] → (probs [N, classes], embeddings [N, dim]).

        ``calibrated``: probabilities at the artifacts' fitted temperature and Unknown offset (``hanzicheck
        calibrate``), else the network's own softmax."""
        x = np.ascontiguousarray(np.asarray(x, np.float32).reshape(-1, IMAGE_SIZE, IMAGE_SIZE, 1))
        if len(x) == 0:
            return (np.zeros((0, len(self.classes)), np.float32),
                    np.zeros((0, self.artifacts.embedding_dim), np.float32))
        outs = [self._session.run(["probs", "embedding"], {"image": x[i:i + BATCH]}) for i in range(0, len(x), BATCH)]
        probs = np.concatenate([o[0] for o in outs])
        if calibrated:
            probs = self.artifacts.calibration.apply(probs, self._unknown)
        return probs, np.concatenate([o[1] for o in outs])

    # ------------------------------------------------------------ public API

    def classify(self, images: Any, top_k: int = 5) -> Classification | list[Classification]:
        """Most likely character(s); ``Unknown`` when the Unknown class wins or the top probability is below the
        confidence threshold (0.3)."""
        batch = is_batch(images)
        probs, _ = self.run(_prep(images, batch))
        results = self.classify_probs(probs, top_k)
        return results if batch else results[0]

    def verify(self, images: Any, target: str | Sequence[str]) -> Verification | list[Verification]:
        """Is each image the target character? ``target``: one character, or one per image."""
        batch = is_batch(images)
        x = _prep(images, batch)
        targets = targets_for(target, len(x))
        probs, emb = self.run(x)
        results = self.verify_outputs(probs, emb, targets)
        return results if batch else results[0]

    def embed(self, images: Any) -> np.ndarray:
        """L2-normalised embeddings: float32 [dim] for one image, [N, dim] for a batch."""
        batch = is_batch(images)
        _, emb = self.run(_prep(images, batch))
        emb = _normalise(emb)
        return emb if batch else emb[0]

    def verify_embedded(self, x: np.ndarray, target: str) -> tuple[Verification, np.ndarray]:
        """``verify`` of one preprocessed input (float32 [40, 40]) and its L2-normalised embedding, from one run of
        the model (``diagnose`` needs both)."""
        probs, emb = self.run(x[None])
        return self.verify_outputs(probs, emb, [target])[0], _normalise(emb)[0]

    def drop_templates(self, db=None):
        """This model's stroke-drop templates (``stroke_templates.DropTemplates``) over the stroke database ``db``
        (None: the process-wide default), built per character on use. One set per database: asked with another
        database, the recogniser renders templates from that one, not from the first one it was asked with."""
        if db is None:
            from ..data.strokes import default_db

            db = default_db()
        with _DROP_TEMPLATES_LOCK:  # one set per (recogniser, database), even when threads ask at once
            hit = self._drop_templates.get(id(db))
            if hit is None:
                from .stroke_templates import DropTemplates

                hit = self._drop_templates[id(db)] = DropTemplates(self, db)
            return hit

    def diagnose(self, image_or_strokes: Any, target: str, timeout_s: float | None = 10.0):
        """Which strokes of ``target`` are missing (stroke alignment, inference/diagnose.py), with this model's
        verdict and similarity; a target the model does not know gets ``verify``'s answer (verdict
        ``invalid_target``, similarity None, no strokes). The diagnosis budget applies (inference/budget.py):
        bounded work, and ``DiagnosisTimeout`` past ``timeout_s`` seconds (None: no deadline)."""
        from .diagnose import diagnose

        check_target(target)
        return diagnose(image_or_strokes, target, recognizer=self, timeout_s=timeout_s)

    # ------------------------------------------------------------ many inputs, an answer or an error each

    def classify_many(self, items: Sequence[Any], top_k: int = 5, names: Sequence[str] | None = None,
                      on_read: Callable[[int], None] | None = None) -> list[Classification | ItemError]:
        """``classify`` of each input (anything ``classify`` takes for one image), in order; an unreadable one
        gets an ``ItemError`` instead and the rest are answered. ``names``: what errors call each input
        (default: its path, else ``item N``); ``on_read(1)`` after each input is read (a progress bar)."""
        x, ok, out = read_inputs(items, names, on_read)
        probs, _ = self.run(x)
        for i, result in zip(ok, self.classify_probs(probs, top_k), strict=True):
            out[i] = result
        return out

    def verify_many(self, items: Sequence[Any], target: str | Sequence[str], names: Sequence[str] | None = None,
                    on_read: Callable[[int], None] | None = None) -> list[Verification | ItemError]:
        """``verify`` of each input against ``target`` (one character, or one per input), in order; an unreadable
        input gets an ``ItemError`` (whatever its target) and the rest are answered (``names``, ``on_read``: as
        ``classify_many``)."""
        items = input_list(items)
        targets = targets_for(target, len(items))
        x, ok, out = read_inputs(items, names, on_read)
        probs, emb = self.run(x)
        for i, result in zip(ok, self.verify_outputs(probs, emb, [targets[i] for i in ok]), strict=True):
            out[i] = result
        return out

    def diagnose_many(self, items: Sequence[Any], target: str | Sequence[str], names: Sequence[str] | None = None,
                      timeout_s: float | None = 10.0) -> list[Diagnosis | ItemError]:
        """``diagnose`` of each input (an image or strokes) against ``target`` (one character, or one per input),
        in order: a ``Diagnosis`` each (``invalid_target`` for a target the model does not know, as ``diagnose``),
        or an ``ItemError`` for an input that cannot be read (whatever its target, as ``verify_many``), a target
        without stroke data, or a diagnosis past ``timeout_s`` (each input gets its own deadline)."""
        from .budget import DiagnosisTimeout
        from .diagnose import diagnose_analysis

        items = input_list(items)
        targets = targets_for(target, len(items), "inputs")
        if names is not None and len(names) != len(items):
            raise ValueError(f"{len(items)} inputs but {len(names)} names")
        out: list[Diagnosis | ItemError] = []
        for i, (item, t) in enumerate(zip(items, targets, strict=True)):
            given = names[i] if names is not None else None
            try:
                out.append(diagnose_analysis(item, t, recognizer=self, timeout_s=timeout_s, name=given)[0])
            except KeyError as e:  # a target without stroke data: the message is KeyError's argument
                out.append(ItemError(i, given or _name(item, i), str(e.args[0]) if e.args else str(e)))
            except (InvalidImageError, DiagnosisTimeout) as e:
                out.append(ItemError(i, given or _name(item, i), str(e)))
        return out

    # ------------------------------------------------------------ on model outputs (CLI, service, evaluation)

    def classify_probs(self, probs: np.ndarray, top_k: int = 5) -> list[Classification]:
        k = min(positive_int("top_k", top_k), probs.shape[1])
        order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
        answer = answers(probs, self._unknown, self.artifacts.confidence_threshold)
        return [Classification(self.classes[int(a)], float(p[idx[0]]),
                               [(self.classes[int(i)], float(p[int(i)])) for i in idx])
                for p, idx, a in zip(probs, order, answer, strict=True)]

    def similarities(self, emb: np.ndarray) -> np.ndarray:
        """Cosine similarity of each (raw) embedding to every template: [N, n_chars]."""
        return _normalise(emb) @ self.artifacts.templates.T

    def threshold(self, target: str) -> float:
        """The verdict's threshold for ``target`` (on the rule's score scale, inference/verdict.py): calibrated per
        character when available, else the metadata's similarity threshold."""
        row = self._template_row[target]
        th = self.artifacts.thresholds
        return float(th[row]) if th is not None else self.artifacts.similarity_threshold

    def verify_outputs(self, probs: np.ndarray, emb: np.ndarray, targets: Sequence[str]) -> list[Verification]:
        """Verdicts from the model's outputs (``run``: calibrated probabilities, raw embeddings) by the one rule
        of inference/verdict.py."""
        from .verdict import evidence, reasons, scores

        art = self.artifacts
        valid = [i for i, t in enumerate(targets) if t in self._template_row]
        rows = np.array([self._template_row[targets[i]] for i in valid], np.int64)
        cls = np.array([self._class_index[targets[i]] for i in valid], np.int64)
        ev = evidence(probs[valid], _normalise(emb[valid]), cls, rows, art.templates, art.drops)
        params = art.verdict
        th = np.array([self.threshold(art.chars[r]) for r in rows], np.float64)
        score = scores(ev, params)
        why = reasons(ev, params, th, self._unknown, score)
        out: list[Verification] = [Verification(t, "invalid_target", None, None) for t in targets]
        for j, i in enumerate(valid):
            reason = why[j]
            out[i] = Verification(
                targets[i], "correct" if reason is None else "incomplete_or_unclear", float(ev.similarity[j]),
                float(th[j]), float(score[j]), float(ev.probability[j]), int(ev.rank[j]), reason,
                self.classes[int(ev.top[j])] if reason == "other_character" else None,
                int(ev.drop_stroke[j]) if reason == "missing_stroke" else None)
        return out


def read_inputs(items: Sequence[Any], names: Sequence[str] | None = None,
                on_read: Callable[[int], None] | None = None) -> tuple[np.ndarray, list[int], list[Any]]:
    """Preprocess each input on its own: (float32 [M, 40, 40] of the readable ones, their indices, a list as long
    as ``items`` holding an ``ItemError`` at each unreadable one and None elsewhere). ``names``: what errors call
    each input (default: preprocess's own wording; ``ItemError.item`` is then the path, else ``item N``);
    ``on_read(1)`` after each input."""
    items = input_list(items)
    if names is not None and len(names) != len(items):
        raise ValueError(f"{len(items)} inputs but {len(names)} names")
    xs, ok, out = [], [], [None] * len(items)
    for i, item in enumerate(items):
        given = names[i] if names is not None else None
        try:
            xs.append(preprocess(item, name=given))
            ok.append(i)
        except InvalidImageError as e:
            out[i] = ItemError(i, given or _name(item, i), str(e))
        if on_read is not None:
            on_read(1)
    x = np.stack(xs) if xs else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.float32)
    return x, ok, out


def positive_int(name: str, value: Any) -> int:
    """``value`` as an int of at least 1, else a ValueError naming ``name`` (``threads``, ``top_k``)."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = None
    if n is None or n < 1 or isinstance(value, bool) or n != value:
        raise ValueError(f"{name}: expected a whole number of at least 1, got {value!r}")
    return n


def input_list(items: Any) -> list[Any]:
    """The inputs of a ``*_many`` call as a list; TypeError for one input given alone (a path, bytes, a PIL image,
    one array image), which would otherwise be read character by character, byte by byte or row by row."""
    alone = isinstance(items, (str, bytes, bytearray, memoryview, os.PathLike, Image.Image)) or (
        isinstance(items, np.ndarray) and not is_batch(items))
    if alone or not isinstance(items, Iterable):
        raise TypeError(f"expected a list of inputs, got one {type(items).__name__}: put it in a list, or use "
                        "classify / verify / diagnose for one input")
    return list(items)


def check_target(target: Any, index: int | None = None) -> str:
    """``target`` if it is a str (any text: one the model does not know gets the verdict ``invalid_target``), else
    a TypeError naming it (and the input it was given for, ``index``)."""
    if isinstance(target, str):
        return target
    shown = repr(target)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    where = f" for input {index}" if index is not None else ""
    raise TypeError(f"target: expected one character (a str) or one per input, got {shown}{where}")


def targets_for(target: Any, n: int, what: str = "images") -> list[str]:
    """The target of each of ``n`` inputs (``verify``, ``verify_many``, ``diagnose_many``): one character for all,
    or a sequence of one per input; TypeError for anything but text (``check_target``), ValueError when the
    counts differ."""
    if isinstance(target, (str, bytes, bytearray)) or not isinstance(target, Iterable):
        return [check_target(target)] * n
    targets = [check_target(t, i) for i, t in enumerate(target)]
    if len(targets) != n:
        raise ValueError(f"{n} {what} but {len(targets)} targets")
    return targets


def _name(item: Any, index: int) -> str:
    """What an error calls an input nobody named: its path, else its position."""
    return str(item) if isinstance(item, (str, os.PathLike)) else f"item {index}"


def _prep(images: Any, batch: bool) -> np.ndarray:
    if batch:
        items = list(images)
        if not items:
            return np.zeros((0, IMAGE_SIZE, IMAGE_SIZE, 1), np.float32)
        # an image of a batch that cannot be read is named by its path, else its place (``item N``)
        return np.stack([preprocess(im, name=_name(im, i)) for i, im in enumerate(items)])[..., None]
    return preprocess(images)[None, ..., None]


def _normalise(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-8)).astype(np.float32)


def _check_io(session: Any, artifacts: Artifacts) -> None:
    inputs = {i.name: i.shape for i in session.get_inputs()}
    outputs = {o.name: o.shape for o in session.get_outputs()}
    where = artifacts.model_path
    if "image" not in inputs or list(inputs["image"])[1:] != [IMAGE_SIZE, IMAGE_SIZE, 1]:
        raise ArtifactsError(f"{where}: expected input 'image' [N, {IMAGE_SIZE}, {IMAGE_SIZE}, 1], got {inputs}")
    for name, size in (("probs", len(artifacts.classes)), ("embedding", artifacts.embedding_dim)):
        shape = outputs.get(name)
        dynamic = shape is not None and (shape[-1] is None or isinstance(shape[-1], str))
        if shape is None or not (dynamic or shape[-1] == size):
            raise ArtifactsError(f"{where}: expected output {name!r} [N, {size}], got {outputs}; re-export the model")


def answers(probs: np.ndarray, unknown: int, confidence_threshold: float) -> np.ndarray:
    """The class each row is answered with (vectorised ``classify_probs``): the arg-max, or ``unknown`` when it
    wins or its probability is below the threshold."""
    best = probs.argmax(axis=1)
    return np.where((best == unknown) | (probs.max(axis=1) < confidence_threshold), unknown, best)
