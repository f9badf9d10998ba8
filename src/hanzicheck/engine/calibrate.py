"""Calibration (``hanzicheck calibrate``): the verify rule's weights and per-character thresholds, the stroke-drop
templates it uses, and the classifier's softmax temperature and Unknown offset.

Pairs (image, claimed target) are genuine (the image is the target) or impostors: another character, a look-alike,
the target with a stroke missing or an extra stroke. Sources: labelled samples (each ``--data``: genuine, wrong_char
and look-alike pairs, non-HSK1 samples as ``unknown`` impostors) and synthesised pairs of every kind, written with
the synthesiser's settings or messier ones (``synth_config``). The rule and how it is fitted: inference/verdict.py
and engine/verdict_fit.py.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ..data.charset import UNKNOWN, hsk1_chars
from ..data.preprocess import IMAGE_SIZE, InvalidImageError, preprocess
from ..data.synth.config import SynthConfig
from ..inference.calibration import APPLIED, apply_temperature, apply_unknown_bias
from ..inference.verdict import DropTable, Evidence
from .progress import progress
from .verdict_fit import ACCEPT, CalibrationError

DEFAULT_UNKNOWN_MAX_DROP = 0.01  # Unknown offset: real non-HSK1 rejection may fall this much (see fit_unknown_bias)
UNKNOWN_BIAS_MAX = 4.0
IMPOSTOR_KINDS = ("missing_stroke", "lookalike", "wrong_char", "extra_stroke")
CHUNK = 2048  # samples read, preprocessed and run through the model at a time (evaluate and calibrate stream)


@dataclass
class Pairs:
    """Preprocessed images with the character each claims to be, and whether that is true."""

    x: np.ndarray  # float32 [N, 40, 40]
    targets: list[str] = field(default_factory=list)
    genuine: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    kinds: list[str] = field(default_factory=list)  # "genuine" or an impostor kind ("unknown" for non-HSK1)
    real: np.ndarray | None = None  # bool [N]: from real handwriting (None: all synthesised)
    source: list[str] | None = None  # where each pair comes from (None: all "synth")

    def __len__(self) -> int:
        return len(self.targets)

    @staticmethod
    def empty() -> Pairs:
        return Pairs(np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.float32))

    @staticmethod
    def concat(parts: Sequence[Pairs]) -> Pairs:
        parts = [p for p in parts if len(p)]
        if not parts:
            return Pairs.empty()
        return Pairs(np.concatenate([p.x for p in parts]), [t for p in parts for t in p.targets],
                     np.concatenate([p.genuine for p in parts]), [k for p in parts for k in p.kinds],
                     np.concatenate([p.is_real() for p in parts]), [s for p in parts for s in p.sources()])

    def is_real(self) -> np.ndarray:
        return np.zeros(len(self), bool) if self.real is None else np.asarray(self.real, bool)

    def sources(self) -> list[str]:
        return ["synth"] * len(self) if self.source is None else list(self.source)


@dataclass
class Outputs:
    """The model's outputs on samples, kept instead of their images: probabilities float32 [N, classes] (the
    network's own softmax or calibrated, as asked) and embeddings float32 [N, dim] (``pair_evidence``
    L2-normalises them)."""

    probs: np.ndarray
    emb: np.ndarray

    def __len__(self) -> int:
        return len(self.probs)

    @staticmethod
    def of(rec, x: np.ndarray, calibrated: bool = True) -> Outputs:
        probs, emb = rec.run(x, calibrated=calibrated)
        return Outputs(np.asarray(probs, np.float32), np.asarray(emb, np.float32))

    @staticmethod
    def concat(parts: Sequence[Outputs], rec) -> Outputs:
        if not parts:
            return Outputs.of(rec, np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.float32))
        return Outputs(np.concatenate([p.probs for p in parts]), np.concatenate([p.emb for p in parts]))


class OutputTable:
    """The outputs of every sample scored so far, one ``Outputs`` part per source; ``add`` returns the row its
    part starts at, ``done`` the whole table."""

    def __init__(self) -> None:
        self.parts: list[Outputs] = []
        self.rows = 0

    def add(self, out: Outputs) -> int:
        self.parts.append(out)
        self.rows += len(out)
        return self.rows - len(out)

    def done(self, rec) -> Outputs:
        table = self.parts[0] if len(self.parts) == 1 else Outputs.concat(self.parts, rec)
        self.parts = [table]
        return table


@dataclass
class PairRows:
    """Pairs that name the row of their image's model outputs (an ``OutputTable``) instead of holding the image."""

    rows: np.ndarray  # int64 [P]
    targets: list[str] = field(default_factory=list)
    genuine: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    kinds: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.targets)

    def shifted(self, first: int) -> PairRows:
        return PairRows(self.rows + first, self.targets, self.genuine, self.kinds, self.source)

    @staticmethod
    def of(pairs: Pairs, first: int = 0) -> PairRows:
        """``pairs`` whose images are the rows ``first``, ``first + 1`` … of the table, in order."""
        return PairRows(first + np.arange(len(pairs), dtype=np.int64), list(pairs.targets),
                        np.asarray(pairs.genuine, bool), list(pairs.kinds), pairs.sources())

    @staticmethod
    def concat(parts: Sequence[PairRows]) -> PairRows:
        parts = [p for p in parts if len(p)]
        if not parts:
            return PairRows(np.zeros(0, np.int64))
        return PairRows(np.concatenate([p.rows for p in parts]), [t for p in parts for t in p.targets],
                        np.concatenate([p.genuine for p in parts]), [k for p in parts for k in p.kinds],
                        [s for p in parts for s in p.source])


def synth_pairs(per_char: int, seed: int = 0, chars: Sequence[str] | None = None,
                kinds: Sequence[str] = IMPOSTOR_KINDS, show: bool = False, config: SynthConfig | None = None) -> Pairs:
    """``per_char`` genuine and ``per_char`` impostor pairs per character, impostor kinds in turn.

    The synthesiser falls back to another kind when one is impossible (no look-alike → wrong_char; no droppable
    stroke → extra_stroke); ``kinds`` records what was really drawn."""
    from ..data.synth.synthesizer import Synthesizer

    synth = Synthesizer(config=config)
    rng = np.random.default_rng(seed)
    chars = list(chars or hsk1_chars())
    xs, targets, genuine, kind_list = [], [], [], []
    with progress(len(chars) * per_char * 2, "synthesising pairs", show) as advance:
        for ci, c in enumerate(chars):
            for i in range(ci, ci + per_char):  # kinds in turn, starting one further for each character
                xs.append(preprocess(synth.char(c, rng), allow_blank=True))
                targets.append(c)
                genuine.append(True)
                kind_list.append("genuine")
                img, info = _negative(synth, c, kinds[i % len(kinds)], rng)
                xs.append(preprocess(img, allow_blank=True))
                targets.append(c)
                genuine.append(False)
                kind_list.append(str(info.get("kind", kinds[i % len(kinds)])))
                advance(2)
    return Pairs(np.stack(xs), targets, np.array(genuine), kind_list)


def _negative(synth, char: str, kind: str, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    try:
        return synth.negative(char, kind, rng)
    except (ValueError, IndexError):  # a drop the synthesiser cannot make for this character: another kind
        return synth.negative(char, "wrong_char", rng)


def _read_chunks(path: str | os.PathLike, limit: int | None, show: bool, chunk: int | None,
                 skipped: list[int]) -> Iterator[tuple[np.ndarray, list[str]]]:
    """Preprocessed images and labels of any reader's source, ``chunk`` usable samples at a time (None: all at
    once), with a progress bar; ``skipped[0]`` counts the samples with no usable image."""
    from ..data.formats.registry import iter_samples

    xs, labels = [], []
    with progress(limit, f"reading {Path(path).name}", show) as advance:  # total unknown without a limit
        for s in iter_samples(path, limit=limit):
            try:
                xs.append(preprocess(s.image))
                labels.append(s.label)
            except InvalidImageError:
                skipped[0] += 1
            advance(1)
            if chunk and len(xs) >= chunk:
                yield np.stack(xs), labels
                xs, labels = [], []
    if xs:
        yield np.stack(xs), labels


def load_labelled(path: str | os.PathLike, limit: int | None = None,
                  show: bool = False) -> tuple[np.ndarray, list[str], int]:
    """Preprocessed images and labels of any reader's source; also how many samples had no usable image."""
    skipped = [0]
    empty = (np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.float32), [])
    x, labels = next(_read_chunks(path, limit, show, None, skipped), empty)  # one chunk, after the whole source
    return x, labels, skipped[0]


def score_labelled(rec, path: str | os.PathLike, limit: int | None = None, show: bool = False,
                   calibrated: bool = True, chunk: int | None = None) -> tuple[Outputs, list[str], int]:
    """``load_labelled`` batch by batch: ``chunk`` samples (default ``CHUNK``) at a time are read, preprocessed
    and run through ``rec``, and only their ``Outputs`` are kept, so memory grows with those (2.7 KB a sample for the
    bundled model), never with the images; a source larger than memory can be scored."""
    parts, labels, skipped = [], [], [0]
    for x, part in _read_chunks(path, limit, show, chunk or CHUNK, skipped):
        parts.append(Outputs.of(rec, x, calibrated))
        labels += part
    return (parts[0] if len(parts) == 1 else Outputs.concat(parts, rec)), labels, skipped[0]


def data_pairs(x: np.ndarray, labels: Sequence[str], seed: int = 0, chars: Sequence[str] | None = None,
               source: str = "data") -> Pairs:
    """From labelled samples: each HSK1 sample is a genuine pair, a wrong_char impostor against a random other
    character and, when it has HSK1 look-alikes (大/太, 日/目 …), a lookalike impostor against one of them; a
    non-HSK1 sample (a real Unknown) is an impostor against a random character."""
    p = data_pair_rows(labels, seed, chars, source)
    return Pairs(x[p.rows], p.targets, p.genuine, p.kinds, np.ones(len(p), bool), p.source)


def data_pair_rows(labels: Sequence[str], seed: int = 0, chars: Sequence[str] | None = None,
                   source: str = "data") -> PairRows:
    """``data_pairs`` by sample index (the row of each pair's sample), without the images."""
    from ..data.lookalikes import hsk1_lookalikes

    chars = list(chars or hsk1_chars())
    known = set(chars)
    alike = {c: [o for o in v if o in known] for c, v in hsk1_lookalikes().items()}
    rng = np.random.default_rng(seed)
    idx, targets, genuine, kinds = [], [], [], []
    for i, label in enumerate(labels):
        other = chars[int(rng.integers(len(chars)))]
        if label in known:
            while other == label:
                other = chars[int(rng.integers(len(chars)))]
            idx += [i, i]
            targets += [label, other]
            genuine += [True, False]
            kinds += ["genuine", "wrong_char"]
            if alike.get(label):
                idx.append(i)
                targets.append(alike[label][int(rng.integers(len(alike[label])))])
                genuine.append(False)
                kinds.append("lookalike")
        else:
            idx.append(i)
            targets.append(other)
            genuine.append(False)
            kinds.append("unknown")
    return PairRows(np.array(idx, np.int64), targets, np.array(genuine, bool), kinds, [source] * len(idx))


def pair_evidence(rec, pairs: Pairs | PairRows, probs: np.ndarray, emb: np.ndarray,
                  drops=None) -> tuple[Evidence, np.ndarray]:
    """The verify rule's evidence (inference/verdict.py) for pairs whose target has a template, and that mask.
    ``probs`` (calibrated) and ``emb`` are the model's outputs: one row per pair for ``Pairs``, the table
    ``PairRows.rows`` points into for those; ``drops``: default the artifacts'. Computed ``CHUNK`` pairs at a time."""
    from ..inference.verdict import evidence

    art = rec.artifacts
    rows_of, class_of = art.char_index(), {c: i for i, c in enumerate(art.classes)}
    ok = np.array([t in rows_of for t in pairs.targets], bool)
    at = (pairs.rows if isinstance(pairs, PairRows) else np.arange(len(pairs)))[ok]
    targets = [t for t, k in zip(pairs.targets, ok, strict=True) if k]
    classes = np.array([class_of[t] for t in targets], np.int64)
    template_rows = np.array([rows_of[t] for t in targets], np.int64)
    drops = art.drops if drops is None else drops
    parts = []
    for i in range(0, max(1, len(at)), CHUNK):
        e = emb[at[i:i + CHUNK]]
        unit = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-8)
        parts.append(evidence(probs[at[i:i + CHUNK]], unit, classes[i:i + CHUNK], template_rows[i:i + CHUNK],
                              art.templates, drops))
    ev = Evidence(*(np.concatenate([getattr(p, f) for p in parts]) for f in Evidence.__dataclass_fields__))
    return ev, ok


def calibrate_artifacts(rec, data: Iterable[str | os.PathLike] = (), accept: float = ACCEPT,
                        synth_per_char: int = 12, seed: int = 0, write: bool = True, progress: bool = False,
                        limit: int | None = None, class_data: Iterable[str | os.PathLike] = (),
                        unknown_max_drop: float | None = DEFAULT_UNKNOWN_MAX_DROP,
                        synth_config: SynthConfig | None = None, drop_templates: bool = True) -> dict[str, Any]:
    """Calibrate ``rec``'s artifacts folder: the verify rule (weights, per-character thresholds at ``accept`` of
    every source's genuine pairs, stroke-drop templates) into templates.npz and metadata.json.

    Labelled samples (``data``, and ``class_data``, which adds no verification pairs) first fit the classifier:
    the softmax temperature and, unless ``unknown_max_drop`` is None, the Unknown offset (``fit_unknown_bias``);
    the rule is then fitted on the probabilities they give."""
    from .verdict_fit import build_drop_table, fit_rule

    if not 0 < accept < 1:
        raise CalibrationError(f"--accept must be between 0 and 1, got {accept}")
    art = rec.artifacts
    table, parts, sources, labelled = OutputTable(), [], [], []  # outputs kept, never the images
    for path in data:
        out, labels, skipped = score_labelled(rec, path, limit, show=progress, calibrated=False)
        first = table.add(out)
        parts.append(data_pair_rows(labels, seed, source=Path(path).name).shifted(first))
        labelled.append((first, labels))
        sources.append({"data": str(path), "samples": len(labels), "skipped": skipped})
    for path in class_data:
        out, labels, skipped = score_labelled(rec, path, limit, show=progress, calibrated=False)
        labelled.append((table.add(out), labels))
        sources.append({"class_data": str(path), "samples": len(labels), "skipped": skipped})
    if synth_per_char:
        synth = synth_pairs(synth_per_char, seed, chars=art.chars, show=progress, config=synth_config)
        parts.append(PairRows.of(synth, table.add(Outputs.of(rec, synth.x, calibrated=False))))
        del synth
        sources.append({"synth_per_char": synth_per_char, "seed": seed,
                        **({"synth_config": _changed(synth_config)} if synth_config else {})})
    pairs = PairRows.concat(parts)
    if not len(pairs):
        raise CalibrationError("no pairs: the data sources held no usable images")
    info: dict[str, Any] = {}
    outputs = table.done(rec)
    raw, emb = outputs.probs, outputs.emb
    unknown = art.classes.index(UNKNOWN)
    calibration = art.calibration  # as rec.run
    if labelled:  # real labelled samples: fit the softmax temperature too (synthesised ones are too easy)
        index = {c: i for i, c in enumerate(art.classes)}
        rows = np.concatenate([first + np.arange(len(labels), dtype=np.int64) for first, labels in labelled])
        y = np.array([index.get(label, index[UNKNOWN]) for _, labels in labelled for label in labels])
        label_probs = raw[rows]
        info.update(fit_temperature(label_probs, y))
        if unknown_max_drop is not None:
            info.update(fit_unknown_bias(apply_temperature(label_probs, info["temperature"]), y, unknown,
                                         art.confidence_threshold, unknown_max_drop))
        del label_probs
        calibration = replace(calibration, temperature=info["temperature"],
                              unknown_bias=info.get("unknown_bias", calibration.unknown_bias))
    probs = np.concatenate([calibration.apply(raw[i:i + CHUNK], unknown, always=True)
                            for i in range(0, max(1, len(raw)), CHUNK)])
    drops = build_drop_table(rec, art.chars, show=progress) if drop_templates else None
    ev, ok = pair_evidence(rec, pairs, probs, emb, drops)
    rows = np.array([art.char_index()[t] for t, k in zip(pairs.targets, ok, strict=True) if k], np.int64)
    thresholds, params, fit = fit_rule(ev, rows, pairs.genuine[ok], np.array(pairs.kinds)[ok],
                                       np.array(pairs.source)[ok], len(art.chars), accept,
                                       drops=drops is not None)
    info = {**fit, **info, "drop_templates": 0 if drops is None else int(len(drops.rows)), "sources": sources}
    info["written"] = str(art.templates_path) if write else ""
    if write:
        write_calibration(art, thresholds, params, drops, info)
    return info


def _changed(config: SynthConfig) -> dict[str, Any]:
    """The settings that differ from the synthesiser's defaults."""
    from dataclasses import fields

    default = SynthConfig()
    return {f.name: getattr(config, f.name) for f in fields(config) if getattr(config, f.name) != getattr(default, f.name)}


def fit_temperature(probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """The softmax temperature T minimising the negative log-likelihood of ``labels`` (classes; Unknown included)
    under softmax(logits / T), found on a log grid then refined; with the expected calibration error before and
    after. Label smoothing leaves the network underconfident (T < 1 sharpens)."""
    rows = np.arange(len(labels))

    def nll(t: float) -> float:
        return float(-np.log(np.maximum(apply_temperature(probs, t)[rows, labels], 1e-30)).mean())

    grid = np.exp(np.linspace(np.log(0.1), np.log(5.0), 41))
    best = float(grid[int(np.argmin([nll(t) for t in grid]))])
    fine = best * np.exp(np.linspace(-0.05, 0.05, 11))
    best = float(fine[int(np.argmin([nll(t) for t in fine]))])
    return {"temperature": round(best, 4), "temperature_samples": int(len(labels)),
            "ece_before": expected_calibration_error(probs, labels),
            "ece_after": expected_calibration_error(apply_temperature(probs, best), labels)}


def fit_unknown_bias(probs: np.ndarray, labels: np.ndarray, unknown: int, confidence_threshold: float,
                     max_drop: float = DEFAULT_UNKNOWN_MAX_DROP) -> dict[str, Any]:
    """The offset subtracted from the Unknown logit that answers the most real HSK1 samples correctly while the
    share of real non-HSK1 samples answered Unknown falls by at most ``max_drop`` (smallest offset on ties).

    Training gives Unknown 8 % of the samples, 15× any one character, so real characters written unlike the
    synthesiser fall to Unknown; a practice app mostly sees attempts at HSK1 characters. Needs both kinds of
    sample; else the offset stays 0."""
    from ..inference.recognizer import answers

    known = labels != unknown
    if not known.any() or known.all():
        return {"unknown_bias": 0.0, "unknown_bias_note": "needs real HSK1 and real non-HSK1 samples"}

    def rates(bias: float) -> tuple[float, float]:
        answer = answers(apply_unknown_bias(probs, bias, unknown), unknown, confidence_threshold)
        return float((answer[known] == labels[known]).mean()), float((answer[~known] == unknown).mean())

    acc0, rej0 = rates(0.0)
    best, best_acc, best_rej = 0.0, acc0, rej0
    for bias in np.round(np.arange(0.05, UNKNOWN_BIAS_MAX + 1e-9, 0.05), 2):
        acc, rej = rates(float(bias))
        if rej < rej0 - max_drop - 1e-12:
            break  # rejection only falls as the offset grows
        if acc > best_acc + 1e-12:
            best, best_acc, best_rej = float(bias), acc, rej
    return {"unknown_bias": best, "unknown_max_drop": max_drop, "unknown_bias_samples": int(len(labels)),
            "hsk1_accuracy_before": acc0, "hsk1_accuracy_after": best_acc,
            "unknown_rejection_before": rej0, "unknown_rejection_after": best_rej}


def reliability(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> tuple[list[dict[str, float]], float]:
    """Reliability bins (top probability vs whether the arg-max is the label; equal-width bins, empty ones left
    out) and the expected calibration error: mean |accuracy − confidence| weighted by each bin's share."""
    top = probs.max(axis=1)
    hit = probs.argmax(axis=1) == labels
    which = np.minimum((top * bins).astype(int), bins - 1)
    rel = [{"bin": b, "n": int(m.sum()), "confidence": float(top[m].mean()), "accuracy": float(hit[m].mean())}
           for b in range(bins) if (m := which == b).any()]
    return rel, float(sum(r["n"] * abs(r["confidence"] - r["accuracy"]) for r in rel) / max(1, len(top)))


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    return reliability(probs, labels, bins)[1]


def write_calibration(art, thresholds: np.ndarray, params, drops, info: dict[str, Any]) -> None:
    """Store the rule's thresholds and stroke-drop templates (float16) in templates.npz, its weights and the
    summary in metadata.json (atomically); the artifacts object is updated in place."""
    with np.load(art.templates_path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k not in ("far", "drop_templates", "drop_offsets")}
    arrays.update(thresholds=thresholds.astype(np.float32), method=np.str_(info["method"]))
    if drops is not None:
        arrays.update(drop_templates=drops.rows.astype(np.float16), drop_offsets=drops.offsets.astype(np.int32))
    tmp = art.templates_path.with_name("templates.tmp.npz")
    np.savez(tmp, **arrays)
    meta = json.loads(art.metadata_path.read_text(encoding="utf-8"))
    meta["calibration"] = {**info, "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    meta["verdict"] = params.to_metadata()
    meta.update({k: info[k] for k in APPLIED if k in info})  # the fitted temperature and Unknown offset
    meta_tmp = art.metadata_path.with_name("metadata.tmp.json")
    meta_tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, art.templates_path)
    os.replace(meta_tmp, art.metadata_path)
    art.thresholds = thresholds.astype(np.float32)
    art.metadata = meta
    art.drops = None if drops is None else DropTable(drops.rows.astype(np.float16).astype(np.float32),
                                                     drops.offsets)  # as reloaded
