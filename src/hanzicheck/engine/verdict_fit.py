"""Fitting the verify rule (inference/verdict.py) for ``hanzicheck calibrate``: stroke-drop templates, the rule's
weights and per-character thresholds at a stated operating point.

Operating point: ``accept`` (default 0.95) of the correct (genuine) pairs of *every* source are accepted. Sources are
what calibrate is given (each ``--data`` file, the synthesised pairs); each with at least ``MIN_SOURCE_PAIRS`` genuine
pairs sets a level, and the lowest level wins, so that the hardest source (cursive writing, real writers) is held
to the target rather than averaged away by easy ones.

Per-character thresholds: ``threshold[c] = level + shift[c]`` with ``shift[c] = n_c / (n_c + PRIOR) · (mean_c −
mean)``, where ``mean_c`` is the mean score of ``c``'s genuine pairs (clipped to the pooled 5–95 % range) and ``n_c``
their number. A character written far from its template (a cursive 了) gets a lower threshold, one drawn close to it
a higher one; with few genuine pairs it stays near the global level. The level is the ``1 − accept`` quantile of
``score − shift`` over each source's genuine pairs.

Stroke-drop gate: ``max_drop_margin`` lets a share ``b`` of genuine pairs be refused as "stroke missing": it is the
``1 − b`` quantile of the genuine pairs' drop margins, the most lenient over the sources (``b = 0``: no gate). The
thresholds are then fitted with those refusals counted, so the total stays at ``accept``.

The grid: (prob_weight, b, max_rank); each is fitted as above and scored by the mean share of impostors rejected
over the kinds present among wrong_char, lookalike and missing_stroke; the best wins (ties: the first, i.e. the
smaller weight and budget).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..inference.verdict import DropTable, Evidence, VerdictParams, accepted, gate, scores

ACCEPT = 0.95
PRIOR = 30.0  # genuine pairs at which a character's own shift counts half
MIN_SOURCE_PAIRS = 100  # genuine pairs a source needs to set the level on its own
LOG_P_FLOOR = -10.0
PROB_WEIGHTS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
DROP_BUDGETS = (0.0, 0.005, 0.01, 0.02, 0.03)  # share of genuine pairs the stroke-drop gate may refuse
MAX_RANKS = (5, 20, 1000)
SCORED_KINDS = ("wrong_char", "lookalike", "missing_stroke")


class CalibrationError(ValueError):
    """Not enough pairs to calibrate, or the artifacts cannot be written."""


def build_drop_table(rec, chars: Sequence[str], show: bool = False) -> DropTable:
    """Stroke-drop templates of every character with stroke data (``stroke_templates``: synthesised with a seed
    fixed per character, so the table depends only on the model and the synthesiser)."""
    from ..inference.stroke_templates import DropTemplates
    from .progress import progress

    table = DropTemplates(rec)
    blocks, offsets = [], [0]
    with progress(len(chars), "stroke-drop templates", show) as advance:
        for c in chars:
            try:
                block = table.get(c)
            except KeyError:  # no stroke data: no drop templates, the rule's drop term is 0 for it
                block = np.zeros((0, rec.artifacts.embedding_dim), np.float32)
            blocks.append(block)
            offsets.append(offsets[-1] + len(block))
            advance(1)
    return DropTable(np.concatenate(blocks).astype(np.float32), np.array(offsets, np.int64))


def fit_thresholds(score: np.ndarray, gate: np.ndarray, rows: np.ndarray, genuine: np.ndarray,
                   sources: np.ndarray, n_chars: int, accept: float = ACCEPT,
                   prior: float = PRIOR) -> tuple[np.ndarray, dict[str, Any]] | None:
    """Per-character thresholds at ``accept`` of every source's genuine pairs (module docstring); None when the
    gate alone refuses more genuine pairs than the target allows."""
    gen = genuine & gate
    if not gen.any():
        return None
    lo, hi = np.quantile(score[gen], [0.05, 0.95])
    clipped = np.clip(score, lo, hi)
    n_c = np.bincount(rows[gen], minlength=n_chars).astype(np.float64)
    mean_all = float(clipped[gen].mean())
    sum_c = np.bincount(rows[gen], weights=clipped[gen], minlength=n_chars)
    mean_c = np.divide(sum_c, n_c, out=np.full(n_chars, mean_all), where=n_c > 0)
    shift = n_c / (n_c + prior) * (mean_c - mean_all)
    adjusted = np.where(gate, score - shift[rows], -np.inf)
    names = list(dict.fromkeys(sources[genuine].tolist()))
    big = [s for s in names if (genuine & (sources == s)).sum() >= MIN_SOURCE_PAIRS]
    groups = [genuine & (sources == s) for s in big] or [genuine]
    levels = {s: float(np.quantile(adjusted[m], 1.0 - accept, method="lower"))
              for s, m in zip(big or ["all"], groups, strict=True)}
    level = min(levels.values())
    if not np.isfinite(level):
        return None
    return (level + shift).astype(np.float32), {"level": level, "levels": levels, "shift_min": float(shift.min()),
                                                "shift_max": float(shift.max())}


def drop_margin_limit(margin: np.ndarray, genuine: np.ndarray, sources: np.ndarray, budget: float) -> float:
    """The stroke-drop gate that refuses at most ``budget`` of any big source's genuine pairs (inf: no gate)."""
    if budget <= 0:
        return float("inf")
    names = [s for s in dict.fromkeys(sources[genuine].tolist())
             if (genuine & (sources == s)).sum() >= MIN_SOURCE_PAIRS] or [None]
    known = genuine & np.isfinite(margin)  # characters without drop templates never meet the gate
    limits = [float(np.quantile(margin[known & ((sources == s) if s is not None else True)], 1.0 - budget))
              for s in names if (known & ((sources == s) if s is not None else True)).any()]
    return max(limits) if limits else float("inf")


def rates(ok: np.ndarray, genuine: np.ndarray, kinds: np.ndarray) -> dict[str, float | None]:
    """Share of genuine pairs accepted and of each impostor kind rejected."""
    out: dict[str, float | None] = {"correct_accepted": float(ok[genuine].mean()) if genuine.any() else None}
    for k in sorted(set(kinds[~genuine].tolist())):
        out[f"{k}_rejected"] = float((~ok[kinds == k]).mean())
    return out


def fit_rule(ev: Evidence, rows: np.ndarray, genuine: np.ndarray, kinds: Sequence[str], sources: Sequence[str],
             n_chars: int, accept: float = ACCEPT, prior: float = PRIOR,
             drops: bool = True) -> tuple[np.ndarray, VerdictParams, dict[str, Any]]:
    """The grid's best rule (module docstring): per-character thresholds, its params, and a summary."""
    kinds_a, sources_a = np.asarray(kinds), np.asarray(sources)
    genuine = np.asarray(genuine, bool)
    scored = [k for k in SCORED_KINDS if (kinds_a == k).any()]
    if not genuine.any() or not scored:
        raise CalibrationError(f"calibration needs genuine pairs and impostors of {', '.join(SCORED_KINDS)}: "
                               f"got {int(genuine.sum())} genuine, kinds {sorted(set(kinds_a.tolist()))}")
    best: tuple[float, np.ndarray, VerdictParams, dict] | None = None
    for budget in DROP_BUDGETS if drops else (0.0,):
        margin = drop_margin_limit(ev.drop_margin, genuine, sources_a, budget)
        for w_p in PROB_WEIGHTS:
            for max_rank in MAX_RANKS:
                params = VerdictParams(w_p, LOG_P_FLOOR, margin, max_rank)
                fit = fit_thresholds(scores(ev, params), gate(ev, params), rows, genuine, sources_a, n_chars,
                                     accept, prior)
                if fit is None:
                    continue
                th, info = fit
                r = rates(accepted(ev, params, th[rows]), genuine, kinds_a)
                objective = float(np.mean([r[f"{k}_rejected"] for k in scored]))
                if best is None or objective > best[0] + 1e-9:
                    best = (objective, th, params, {**info, "measured": r, "drop_budget": budget})
    assert best is not None  # max_rank 1000 never refuses: its fit always exists
    objective, th, params, info = best
    ok = accepted(ev, params, th[rows])
    per_source = {s: rates(ok[sources_a == s], genuine[sources_a == s], kinds_a[sources_a == s])
                  for s in dict.fromkeys(sources_a.tolist())}
    return th, params, {
        "method": "verdict-rule grid + shrunk per-character genuine mean shift", "accept": accept, "prior": prior,
        "verdict": params.to_metadata(), "objective": objective, "scored_kinds": scored,
        "genuine_pairs": int(genuine.sum()), "impostor_pairs": int((~genuine).sum()),
        "chars_with_genuine_pairs": int(len(set(rows[genuine].tolist()))),
        "global_threshold": info["level"], "levels": info["levels"], "drop_budget": info["drop_budget"],
        "min": float(th.min()), "median": float(np.median(th)), "max": float(th.max()),
        "measured": info["measured"], "per_source": per_source,
    }
