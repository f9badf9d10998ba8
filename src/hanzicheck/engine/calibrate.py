"""Calibration (``hanzicheck calibrate``): the verify rule's weights and per-character thresholds, the stroke-drop
templates it uses, and the classifier's softmax temperature and Unknown offset.

Pairs (image, claimed target; engine/pairs.py) are genuine (the image is the target) or impostors: another
character, a look-alike, the target with a stroke missing or an extra stroke. Sources: labelled samples (each
``--data``: genuine, wrong_char and look-alike pairs, non-HSK1 samples as ``unknown`` impostors) and synthesised pairs
of every kind, written with the synthesiser's settings or messier ones (``synth_config``). The rule and how it is
fitted: inference/verdict.py and engine/verdict_fit.py.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ..data.charset import UNKNOWN
from ..data.synth.config import SynthConfig
from ..inference.calibration import APPLIED, apply_temperature, apply_unknown_bias
from ..inference.verdict import DropTable
from .pairs import (
    CHUNK,
    Outputs,
    OutputTable,
    PairRows,
    data_pair_rows,
    pair_evidence,
    score_labelled,
    synth_pairs,
)
from .verdict_fit import ACCEPT, CalibrationError

DEFAULT_UNKNOWN_MAX_DROP = 0.01  # Unknown offset: real non-HSK1 rejection may fall this much (see fit_unknown_bias)
UNKNOWN_BIAS_MAX = 4.0


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
    info["written"] = str(art.templates_path) if write else None  # JSON null on a dry run
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
