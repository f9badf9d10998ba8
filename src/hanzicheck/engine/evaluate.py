"""Evaluation (``hanzicheck evaluate``): classification, Unknown rejection, verification per negative kind,
confusions and calibration of the confidences; written as metrics.json + report.md + PNG plots (engine/report.py).

Sources: any reader's format (image folder with labels.csv, npz, CASIA, EMNIST …) gives labelled samples; a pair CSV
(``file,target,kind`` or ``file,target,label``, files relative to the CSV) gives verification pairs; ``synth_per_char`` adds
synthesised samples, Unknown samples and impostors of every kind. A label outside HSK1 should come out ``Unknown``.
A source is read, preprocessed and run through the model ``CHUNK`` samples at a time and only the outputs are kept
(``pairs.score_labelled``), so one larger than memory can be evaluated.
"""

from __future__ import annotations

import csv
import os
import zipfile
from collections import Counter
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from ..data.charset import UNKNOWN, hsk1_chars
from ..data.preprocess import preprocess
from ..data.synth.config import SynthConfig
from ..inference.recognizer import read_inputs
from .calibrate import reliability
from .pairs import (
    CHUNK,
    Outputs,
    OutputTable,
    PairRows,
    Pairs,
    data_pair_rows,
    pair_evidence,
    score_labelled,
    synth_pairs,
)
from .progress import progress
from .report import VERIFY_FIGURES, PairScores, write_report

GENUINE_WORDS = {"genuine", "correct", "positive", "match", "true", "1"}
FRR_POINT = 0.05  # "false accepts at 5 % false rejects"
RELIABILITY_BINS = 10


class EvaluationError(ValueError):
    """A source cannot be evaluated (unreadable, no usable samples)."""


@dataclass
class Labelled:
    """Preprocessed images with their true labels, grouped by source name."""

    x: np.ndarray
    labels: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- reading sources


def is_pair_csv(path: Path) -> bool:
    if path.suffix.lower() != ".csv" or not path.is_file():
        return False
    with path.open(newline="", encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh), [])
    return "target" in [h.strip() for h in header]


def read_pair_csv(path: Path) -> tuple[Pairs, int]:
    """Verification pairs of a ``file,target,kind`` (genuine or the impostor's kind) or ``file,target,label`` (the
    true character) CSV; and the number of unreadable images. Without either column whether a pair is genuine is
    unknown, and the CSV is refused."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = [{(k or "").strip(): (v or "").strip() for k, v in r.items()} for r in csv.DictReader(fh)]
    if not rows:
        raise EvaluationError(f"{path}: no pairs")
    if "kind" not in rows[0] and "label" not in rows[0]:
        raise EvaluationError(f"{path}: a pair CSV needs a 'kind' column (genuine / wrong_char / lookalike / "
                              "missing_stroke …; 'genuine' on every row of correct pairs) or a 'label' column (the "
                              "true character) to score verification")
    x, ok, _ = read_inputs([path.parent / r["file"] for r in rows])  # each unreadable image left out, counted
    targets, genuine, kinds = [], [], []
    for r in (rows[i] for i in ok):
        targets.append(r["target"])
        if "kind" in r and r["kind"]:
            g = r["kind"].lower() in GENUINE_WORDS
            kinds.append("genuine" if g else r["kind"])
        else:
            g = r.get("label") == r["target"]
            kinds.append("genuine" if g else "wrong_char")
        genuine.append(g)
    if not ok:
        raise EvaluationError(f"{path}: none of its {len(rows)} images could be read")
    return Pairs(x, targets, np.array(genuine), kinds, np.ones(len(ok), bool), [path.name] * len(ok)), len(rows) - len(ok)


def synth_labelled(per_char: int, seed: int, unknown_fraction: float = 0.1, show: bool = False,
                   config: SynthConfig | None = None) -> Labelled:
    """``per_char`` synthesised samples of every HSK1 character plus about 10 % Unknown samples (``config``: the
    synthesiser's settings, default its own)."""
    from ..data.synth.synthesizer import Synthesizer

    synth = Synthesizer(config=config)
    rng = np.random.default_rng(seed + 1)
    chars = list(hsk1_chars())
    n_unknown = max(1, round(unknown_fraction * per_char * len(chars)))
    xs, labels = [], []
    with progress(per_char * len(chars) + n_unknown, "synthesising samples", show) as advance:
        for c in chars:
            for _ in range(per_char):
                xs.append(preprocess(synth.char(c, rng), allow_blank=True))
                labels.append(c)
                advance(1)
        for _ in range(n_unknown):
            xs.append(preprocess(synth.unknown(rng), allow_blank=True))
            labels.append(UNKNOWN)
            advance(1)
    return Labelled(np.stack(xs), labels, ["synth"] * len(labels))


# ---------------------------------------------------------------- metrics


def roc(genuine_sims: np.ndarray, impostor_sims: np.ndarray) -> dict[str, Any]:
    """ROC (FAR vs TAR over all thresholds), AUC, EER and the FAR at 5 % FRR."""
    g = np.sort(np.asarray(genuine_sims, np.float64))
    i = np.sort(np.asarray(impostor_sims, np.float64))
    if len(g) == 0 or len(i) == 0:
        return {"genuine": len(g), "impostors": len(i)}
    thresholds = np.unique(np.concatenate([g, i, [np.inf]]))
    # accepted = similarity ≥ threshold
    tar = 1.0 - np.searchsorted(g, thresholds, side="left") / len(g)
    far = 1.0 - np.searchsorted(i, thresholds, side="left") / len(i)
    # AUC = P(genuine > impostor) + ½ P(tie) (Mann–Whitney)
    less = np.searchsorted(i, g, side="left")
    leq = np.searchsorted(i, g, side="right")
    auc = float((less + 0.5 * (leq - less)).sum() / (len(g) * len(i)))
    frr = 1.0 - tar
    k = int(np.argmin(np.abs(far - frr)))
    th_5 = float(np.quantile(g, FRR_POINT, method="lower"))
    return {
        "genuine": len(g), "impostors": len(i), "auc": auc,
        "eer": float((far[k] + frr[k]) / 2), "eer_threshold": float(thresholds[k]),
        "far_at_5pct_frr": float((i >= th_5).mean()), "threshold_at_5pct_frr": th_5,
        "curve": _curve(far[::-1], tar[::-1]),
    }


def _curve(far: np.ndarray, tar: np.ndarray, points: int = 400) -> dict[str, list[float]]:
    """The ROC curve, thinned to about ``points`` points (metrics.json stays small on big sets)."""
    if len(far) > points:
        keep = np.unique(np.linspace(0, len(far) - 1, points).round().astype(int))
        far, tar = far[keep], tar[keep]
    return {"far": far.round(5).tolist(), "tar": tar.round(5).tolist()}


def verification_metrics(score: np.ndarray, ok: np.ndarray, genuine: np.ndarray, kinds: np.ndarray,
                         sources: np.ndarray) -> dict[str, Any]:
    """The verify rule on pairs: ROC of its score per impostor kind (and all together), and per source the share
    of correct pairs accepted and of each impostor kind rejected at the model's own thresholds (``ok``)."""
    from .verdict_fit import rates

    out: dict[str, Any] = {"genuine_pairs": int(genuine.sum()),
                           "frr_at_model_threshold": float((~ok[genuine]).mean()) if genuine.any() else None,
                           "kinds": _roc_by_kind(score, ok, genuine, kinds), "per_source": {}}
    for name in dict.fromkeys(sources.tolist()):
        m = sources == name
        out["per_source"][name] = {**rates(ok[m], genuine[m], kinds[m]),
                                   "kinds": _roc_by_kind(score[m], ok[m], genuine[m], kinds[m])}
    return out


def _roc_by_kind(score: np.ndarray, ok: np.ndarray, genuine: np.ndarray, kinds: np.ndarray) -> dict[str, Any]:
    out = {}
    for kind in [*sorted(set(kinds[~genuine].tolist())), "all"]:
        imp = ~genuine & ((kinds == kind) if kind != "all" else True)
        if imp.any():
            out[kind] = {**roc(score[genuine], score[imp]), "far_at_model_threshold": float(ok[imp].mean())}
    return out


def classification_metrics(probs: np.ndarray, labels: list[str], rec, top_k: int = 5) -> dict[str, Any]:
    """Accuracy overall / per character, Unknown rejection, confusions and reliability of the confidences."""
    classes = rec.classes
    known_set = set(hsk1_chars())
    expected = [lab if lab in known_set else UNKNOWN for lab in labels]
    pred: list[str] = []
    hits: list[bool] = []
    for i in range(0, len(expected), CHUNK):  # answers of CHUNK samples at a time: no object per sample is kept
        for r, e in zip(rec.classify_probs(probs[i:i + CHUNK], top_k), expected[i:i + CHUNK], strict=True):
            pred.append(r.char)
            hits.append(e in [c for c, _ in r.top_k])
    is_known = np.array([e != UNKNOWN for e in expected])
    correct = np.array([p == e for p, e in zip(pred, expected, strict=True)])
    in_top = np.array(hits, bool)
    rejected = np.array([p == UNKNOWN for p in pred])
    per_char: dict[str, dict[str, float]] = {}
    for c in sorted(set(e for e in expected if e != UNKNOWN), key=lambda c: hsk1_chars().index(c)):
        m = np.array([e == c for e in expected])
        per_char[c] = {"n": int(m.sum()), "accuracy": float(correct[m].mean()), "unknown": float(rejected[m].mean())}
    errors = Counter((e, p) for e, p in zip(expected, pred, strict=True) if e != p)
    # reliability: the top probability against whether the arg-max class (Unknown included) is right
    idx = {c: i for i, c in enumerate(classes)}
    rel, ece = reliability(probs, np.array([idx.get(e, -1) for e in expected]), RELIABILITY_BINS)
    known = int(is_known.sum())
    unknown = len(expected) - known
    return {
        "samples": len(expected), "known_samples": known, "unknown_samples": unknown,
        "accuracy": float(correct[is_known].mean()) if known else None,
        "top_k_accuracy": float(in_top[is_known].mean()) if known else None,
        "known_rejected": float(rejected[is_known].mean()) if known else None,
        "accuracy_when_accepted": float(correct[is_known & ~rejected].mean()) if (is_known & ~rejected).any() else None,
        "unknown_rejection": float(rejected[~is_known].mean()) if unknown else None,
        "overall_accuracy": float(correct.mean()) if len(correct) else None,
        "per_char": per_char,
        "top_confusions": [{"true": e, "predicted": p, "count": n} for (e, p), n in errors.most_common(20)],
        "reliability": rel, "ece": ece,
    }


# ---------------------------------------------------------------- the whole evaluation


def evaluate_sources(rec, data: list[str | os.PathLike], report_dir: str | os.PathLike, synth_per_char: int = 0,
                     limit: int | None = None, seed: int = 0, progress: bool = False,
                     diagnosis_per_char: int = 0, synth_config: SynthConfig | None = None) -> dict[str, Any]:
    """Evaluate ``rec`` on the sources; writes report_dir/{metrics.json, report.md, *.png}; returns the metrics.

    ``synth_config`` changes how the ``synth_per_char`` samples and pairs are written (a stress test, e.g. more
    slant); the stroke diagnosis keeps its own settings."""
    # Each source is read, preprocessed and run through the model CHUNK samples at a time (score_labelled); only
    # the outputs are kept (probabilities and embeddings), and pairs name the row of their sample's outputs.
    table = OutputTable()
    labelled: list[tuple[int, list[str], str]] = []  # (first row, labels, source name)
    pair_parts: list[PairRows] = []
    sources: list[dict[str, Any]] = []
    for raw in data:
        path = Path(raw)
        try:
            if is_pair_csv(path):
                pairs, bad = read_pair_csv(path)
            else:
                pairs, (out, labels, skipped) = None, score_labelled(rec, path, limit, show=progress)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
            message = str(e)
            raise EvaluationError(message if message.startswith(str(path)) else f"{path}: {message}") from e
        if pairs is not None:
            pair_parts.append(PairRows.of(pairs, table.add(Outputs.of(rec, pairs.x))))
            sources.append({"source": str(path), "kind": "pairs", "pairs": len(pairs), "unreadable": bad})
            continue
        if not labels:
            raise EvaluationError(f"{path}: no usable samples ({skipped} without ink or unreadable)")
        first = table.add(out)
        labelled.append((first, labels, path.name))
        pair_parts.append(data_pair_rows(labels, seed, source=path.name).shifted(first))
        sources.append({"source": str(path), "kind": "samples", "samples": len(labels), "unreadable": skipped})
    if synth_per_char:
        synth = synth_labelled(synth_per_char, seed, show=progress, config=synth_config)
        labelled.append((table.add(Outputs.of(rec, synth.x)), synth.labels, "synth"))
        synth_p = synth_pairs(synth_per_char, seed + 2, chars=rec.artifacts.chars, show=progress, config=synth_config)
        pair_parts.append(PairRows.of(synth_p, table.add(Outputs.of(rec, synth_p.x))))
        del synth, synth_p
        sources.append({"source": "synth", "kind": "synthesised", "samples": len(labelled[-1][1]),
                        **({"synth_config": _changed(synth_config)} if synth_config else {})})
    outputs = table.done(rec)

    metrics: dict[str, Any] = {"model": str(rec.artifacts.path), "sources": sources,
                               "calibrated": rec.artifacts.thresholds is not None}
    if labelled:
        rows = np.concatenate([first + np.arange(len(labels), dtype=np.int64) for first, labels, _ in labelled])
        labels = [lab for _, ls, _ in labelled for lab in ls]
        names = [name for _, ls, name in labelled for _ in ls]
        contiguous = len(rows) and rows[-1] - rows[0] == len(rows) - 1  # one source: a view, not a copy
        probs = outputs.probs[rows[0]:rows[-1] + 1] if contiguous else outputs.probs[rows]
        metrics["classification"] = {"all": classification_metrics(probs, labels, rec)}
        if len(labelled) > 1:
            for name in dict.fromkeys(names):
                m = np.array([n == name for n in names])
                metrics["classification"][name] = classification_metrics(probs[m], [labels[i] for i in np.flatnonzero(m)], rec)
        del probs
    pair_rows = PairRows.concat(pair_parts)
    pair_scores = None
    if len(pair_rows):
        metrics["verification"], pair_scores = _verify_pairs(rec, pair_rows, outputs)
    if diagnosis_per_char:
        from .diagnosis_eval import evaluate_diagnosis

        metrics["diagnosis"] = evaluate_diagnosis(per_char=diagnosis_per_char, seed=seed, keep_failures=0,
                                                recognizer=rec).to_dict()
    metrics["summary"] = summary(metrics)
    write_report(metrics, Path(report_dir), pair_scores)
    return metrics


def _verify_pairs(rec, pairs: PairRows, outputs: Outputs) -> tuple[dict[str, Any], PairScores]:
    """The verify rule at the model's own thresholds on every pair whose target has a template (``outputs``: the
    calibrated model outputs the pairs' rows point into): its metrics, and each pair's score for the report."""
    from ..inference.verdict import accepted, scores

    ev, valid = pair_evidence(rec, pairs, outputs.probs, outputs.emb)
    targets = [t for t, k in zip(pairs.targets, valid, strict=True) if k]
    params = rec.artifacts.verdict
    th = np.array([rec.threshold(t) for t in targets], np.float64)
    score = scores(ev, params)
    ok = accepted(ev, params, th)
    kinds = np.array(pairs.kinds)[valid]
    metrics = verification_metrics(score, ok, pairs.genuine[valid], kinds, np.array(pairs.source)[valid])
    metrics["rule"] = params.to_metadata()
    return metrics, PairScores(score, kinds.tolist())


def _changed(config: SynthConfig) -> dict[str, Any]:
    """The settings that differ from the synthesiser's defaults."""
    default = SynthConfig()
    return {f.name: getattr(config, f.name) for f in fields(config) if getattr(config, f.name) != getattr(default, f.name)}


def summary(metrics: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers (what the CLI prints)."""
    out: dict[str, Any] = {}
    c = metrics.get("classification", {}).get("all")
    if c:
        for k in ("samples", "accuracy", "top_k_accuracy", "known_rejected", "unknown_rejection", "ece"):
            if c.get(k) is not None:
                out[k] = c[k]
    d = metrics.get("diagnosis")
    if d:
        out["diagnosis_top1"] = d["top1"]
        out["diagnosis_false_alarm"] = d["false_alarm"]
    v = metrics.get("verification")
    if v:
        for kind, r in v["kinds"].items():
            if "auc" in r:
                out[f"auc_{kind}"] = r["auc"]
                out[f"far_at_5pct_frr_{kind}"] = r["far_at_5pct_frr"]
        if "all" in v["kinds"] and "eer" in v["kinds"]["all"]:
            out["eer_all"] = v["kinds"]["all"]["eer"]
        if v.get("frr_at_model_threshold") is not None:
            out["frr_at_model_threshold"] = v["frr_at_model_threshold"]
        out["verify"] = {name: {k: r[k] for k in VERIFY_FIGURES if r.get(k) is not None}
                         for name, r in v["per_source"].items()}
    return out
