"""Per-character similarity thresholds for a target false-accept rate (``hanzicheck calibrate``).

Pairs (image, claimed target) are genuine (the image is the target) or impostors: another character, a look-alike,
the target with strokes missing or an extra stroke. Sources: synthesised pairs (default) and labelled real samples.

Method ("pooled-quantile + shrunk mean shift"): characters differ (one with many look-alikes draws higher impostor
similarities), so each character's threshold is a common level plus a shift: how far its impostors' mean lies
from the overall impostor mean, shrunk toward zero by n / (n + PRIOR) when it has few impostor pairs. The common
level is the (1 − FAR) quantile of all impostor similarities minus their character's shift, so the thresholds
accept FAR of the impostor pairs. Means are stable with a dozen samples; per-character 99th percentiles are not.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ..data.charset import UNKNOWN, hsk1_chars
from ..data.preprocess import IMAGE_SIZE, InvalidImageError, preprocess
from ..data.synth_config import SynthConfig

DEFAULT_FAR = 0.05
PRIOR = 20.0  # impostor pairs at which a character's own shift counts half
METHOD = "pooled-quantile+shrunk-mean-shift"
DEFAULT_UNKNOWN_MAX_DROP = 0.01  # Unknown offset: real non-HSK1 rejection may fall this much (see fit_unknown_bias)
UNKNOWN_BIAS_MAX = 4.0
IMPOSTOR_KINDS = ("missing_stroke", "lookalike", "wrong_char", "extra_stroke")


class CalibrationError(ValueError):
    """Not enough pairs to calibrate, or the artifacts cannot be written."""


@dataclass
class Pairs:
    """Preprocessed images with the character each claims to be, and whether that is true."""

    x: np.ndarray  # float32 [N, 40, 40]
    targets: list[str] = field(default_factory=list)
    genuine: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    kinds: list[str] = field(default_factory=list)  # "genuine" or an impostor kind ("unknown" for non-HSK1)
    real: np.ndarray | None = None  # bool [N]: from real handwriting (None: all synthesised)

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
                     np.concatenate([p.is_real() for p in parts]))

    def is_real(self) -> np.ndarray:
        return np.zeros(len(self), bool) if self.real is None else np.asarray(self.real, bool)


@contextmanager
def progress(total: int | None, what: str, enabled: bool = True) -> Iterator[Callable[[int], None]]:
    """``advance(n)`` for a rich progress bar on stderr, shown on a terminal only."""
    try:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    except ImportError:
        enabled = False
    if not enabled or not Console(stderr=True).is_terminal:
        yield lambda n: None
        return
    with Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(what, total=total)
        yield lambda n: bar.advance(task, n)


def synth_pairs(per_char: int, seed: int = 0, chars: Sequence[str] | None = None,
                kinds: Sequence[str] = IMPOSTOR_KINDS, show: bool = False, config: SynthConfig | None = None) -> Pairs:
    """``per_char`` genuine and ``per_char`` impostor pairs per character, impostor kinds in turn.

    The synthesiser falls back to another kind when one is impossible (no look-alike → wrong_char; no droppable
    stroke → extra_stroke); ``kinds`` records what was really drawn."""
    from ..data.synth import Synthesizer

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


def load_labelled(path: str | os.PathLike, limit: int | None = None,
                  show: bool = False) -> tuple[np.ndarray, list[str], int]:
    """Preprocessed images and labels of any reader's source; also how many samples had no usable image."""
    from ..data.sources import iter_samples

    xs, labels, skipped = [], [], 0
    with progress(limit, f"reading {Path(path).name}", show) as advance:  # total unknown without a limit
        for s in iter_samples(path, limit=limit):
            try:
                xs.append(preprocess(s.image))
                labels.append(s.label)
            except InvalidImageError:
                skipped += 1
            advance(1)
    x = np.stack(xs) if xs else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.float32)
    return x, labels, skipped


def data_pairs(x: np.ndarray, labels: Sequence[str], seed: int = 0, chars: Sequence[str] | None = None) -> Pairs:
    """From labelled samples: each HSK1 sample is a genuine pair and, against a random other character, a
    wrong_char impostor; a non-HSK1 sample (a real Unknown) is an impostor against a random character."""
    chars = list(chars or hsk1_chars())
    known = set(chars)
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
        else:
            idx.append(i)
            targets.append(other)
            genuine.append(False)
            kinds.append("unknown")
    return Pairs(x[idx], targets, np.array(genuine, bool), kinds, np.ones(len(idx), bool))


def compute_thresholds(sims: np.ndarray, targets: Sequence[str], genuine: np.ndarray, chars: Sequence[str],
                       far: float = DEFAULT_FAR, prior: float = PRIOR,
                       max_frr: float | None = None,
                       real: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Thresholds float32 [len(chars)] from pair similarities; and a summary of the fit.

    ``max_frr``: lower the common level when needed so that at most this share of genuine pairs is rejected
    (then the FAR target is missed; the summary says by how much). ``real`` marks pairs of real handwriting:
    when any genuine pair is real, the cap counts only those, since synthesised genuine pairs are easier and
    understate how often a learner's correct character is rejected."""
    if not 0 < far < 1:
        raise CalibrationError(f"--far must be between 0 and 1, got {far}")
    if max_frr is not None and not 0 < max_frr < 1:
        raise CalibrationError(f"--max-frr must be between 0 and 1, got {max_frr}")
    genuine = np.asarray(genuine, bool)
    sims = np.asarray(sims, np.float64)
    row = {c: i for i, c in enumerate(chars)}
    t_idx = np.array([row.get(t, -1) for t in targets])
    imp = ~genuine & (t_idx >= 0)
    if imp.sum() < 10:
        raise CalibrationError(f"only {int(imp.sum())} impostor pairs: calibration needs at least 10 "
                               "(use --synth N or more --data)")
    imp_sims = sims[imp]
    mean_all = float(imp_sims.mean())
    n_c = np.bincount(t_idx[imp], minlength=len(chars)).astype(np.float64)
    sum_c = np.bincount(t_idx[imp], weights=imp_sims, minlength=len(chars))
    mean_c = np.divide(sum_c, n_c, out=np.full(len(chars), mean_all), where=n_c > 0)
    shift = (n_c / (n_c + prior)) * (mean_c - mean_all)
    # the level is the (1 − FAR) quantile of the impostors with their character's shift removed, so that the
    # shifted thresholds accept that share of all impostor pairs
    global_th = float(np.quantile(imp_sims - shift[t_idx[imp]], 1.0 - far, method="higher"))
    gen = genuine & (t_idx >= 0)
    real_gen = gen if real is None else gen & np.asarray(real, bool)
    real_gen = real_gen if real is not None and real_gen.any() else None
    cap_on = gen if real_gen is None else real_gen
    capped = False
    if max_frr is not None and cap_on.any():
        frr_level = float(np.quantile(sims[cap_on] - shift[t_idx[cap_on]], max_frr, method="lower"))
        capped = frr_level < global_th
        global_th = min(global_th, frr_level)
    thresholds = np.clip(global_th + shift, -1.0, 1.0).astype(np.float32)
    th_pair = thresholds[np.maximum(t_idx, 0)]
    known = t_idx >= 0
    accepted = sims >= th_pair
    n_gen = int((genuine & known).sum())
    info = {
        "far": far, "max_frr": max_frr, "capped_by_max_frr": capped, "method": METHOD, "prior": prior,
        "global_threshold": global_th,
        "genuine_pairs": n_gen, "impostor_pairs": int(imp.sum()),
        "chars_calibrated": int((n_c > 0).sum()),
        "far_measured": float(accepted[imp].mean()),
        "frr_measured": float((~accepted[genuine & known]).mean()) if n_gen else None,
        "frr_real_measured": None if real_gen is None else float((~accepted[real_gen]).mean()),
        "max_frr_counts": "all genuine pairs" if real_gen is None else "real genuine pairs",
        "min": float(thresholds.min()), "median": float(np.median(thresholds)), "max": float(thresholds.max()),
    }
    return thresholds, info


def pair_similarities(rec, pairs: Pairs) -> np.ndarray:
    """Cosine similarity of each pair's image to its target's template (NaN for a target without template)."""
    _, emb = rec.run(pairs.x)
    sims = rec.similarities(emb)
    rows = rec.artifacts.char_index()
    out = np.full(len(pairs), np.nan, np.float32)
    for i, t in enumerate(pairs.targets):
        r = rows.get(t)
        if r is not None:
            out[i] = sims[i, r]
    return out


def calibrate_artifacts(rec, data: Iterable[str | os.PathLike] = (), far: float = DEFAULT_FAR,
                        synth_per_char: int = 12, seed: int = 0, write: bool = True, progress: bool = False,
                        limit: int | None = None, max_frr: float | None = None,
                        class_data: Iterable[str | os.PathLike] = (),
                        unknown_max_drop: float | None = DEFAULT_UNKNOWN_MAX_DROP) -> dict[str, Any]:
    """Calibrate ``rec``'s artifacts folder; writes thresholds into templates.npz and metadata.json.

    Labelled samples (``data``, and ``class_data``, which adds no verification pairs) also fit the classifier:
    the softmax temperature and, unless ``unknown_max_drop`` is None, the Unknown offset (``fit_unknown_bias``)."""
    art = rec.artifacts
    parts, sources, labelled = [], [], []
    for path in data:
        x, labels, skipped = load_labelled(path, limit, show=progress)
        parts.append(data_pairs(x, labels, seed))
        labelled.append((x, labels))
        sources.append({"data": str(path), "samples": len(labels), "skipped": skipped})
    for path in class_data:
        x, labels, skipped = load_labelled(path, limit, show=progress)
        labelled.append((x, labels))
        sources.append({"class_data": str(path), "samples": len(labels), "skipped": skipped})
    if synth_per_char:
        parts.append(synth_pairs(synth_per_char, seed, chars=art.chars, show=progress))
        sources.append({"synth_per_char": synth_per_char, "seed": seed})
    pairs = Pairs.concat(parts)
    if not len(pairs):
        raise CalibrationError("no pairs: the data sources held no usable images")
    sims = pair_similarities(rec, pairs)
    ok = ~np.isnan(sims)
    thresholds, info = compute_thresholds(sims[ok], [t for t, k in zip(pairs.targets, ok, strict=True) if k],
                                          pairs.genuine[ok], art.chars, far, max_frr=max_frr,
                                          real=pairs.is_real()[ok])
    if labelled:  # real labelled samples: fit the softmax temperature too (synthesised ones are too easy)
        x = np.concatenate([x for x, _ in labelled])
        index = {c: i for i, c in enumerate(art.classes)}
        y = np.array([index.get(label, index[UNKNOWN]) for _, labels in labelled for label in labels])
        probs, _ = rec.run(x, calibrated=False)
        info.update(fit_temperature(probs, y))
        if unknown_max_drop is not None:
            from ..inference.recognizer import apply_temperature

            info.update(fit_unknown_bias(apply_temperature(probs, info["temperature"]), y, index[UNKNOWN],
                                         art.confidence_threshold, unknown_max_drop))
    info["sources"] = sources
    info["written"] = str(art.templates_path) if write else ""
    if write:
        write_calibration(art, thresholds, info)
    return info


def fit_temperature(probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """The softmax temperature T minimising the negative log-likelihood of ``labels`` (classes; Unknown included)
    under softmax(logits / T), found on a log grid then refined; with the expected calibration error before and
    after. Label smoothing leaves the network underconfident (T < 1 sharpens)."""
    from ..inference.recognizer import apply_temperature

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
    from ..inference.recognizer import answers, apply_unknown_bias

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


def write_calibration(art, thresholds: np.ndarray, info: dict[str, Any]) -> None:
    """Store thresholds (+ far, method) in templates.npz and the summary in metadata.json (atomically)."""
    with np.load(art.templates_path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays.update(thresholds=thresholds.astype(np.float32), far=np.float32(info["far"]), method=np.str_(METHOD))
    tmp = art.templates_path.with_name("templates.tmp.npz")
    np.savez(tmp, **arrays)
    meta = json.loads(art.metadata_path.read_text(encoding="utf-8"))
    meta["calibration"] = {**info, "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    if "temperature" in info:
        meta["temperature"] = info["temperature"]
    if "unknown_bias" in info:
        meta["unknown_bias"] = info["unknown_bias"]
    meta_tmp = art.metadata_path.with_name("metadata.tmp.json")
    meta_tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, art.templates_path)
    os.replace(meta_tmp, art.metadata_path)
    art.thresholds = thresholds.astype(np.float32)
    art.metadata = meta
