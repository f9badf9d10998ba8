"""The verify verdict: one rule, used by ``Recognizer.verify``, the CLI, the service and (ported line for line in
``service/static/verdict.js``) the web page. ``hanzicheck calibrate`` fits its numbers (engine/verdict_fit.py).

For an image and a target character ``t`` the model gives three pieces of evidence:

- ``similarity`` s: cosine of the image's embedding to ``t``'s template (the spec's verification);
- ``probability`` p and ``rank`` r: ``t``'s calibrated probability and its place among the 179 classes (1 = most
  likely);
- ``drop margin`` m: how much closer the embedding lies to ``t`` written without one of its strokes than to ``t``
  written complete (the stroke-drop templates that calibrate stores; −∞ when there are none).

    score = s + prob_weight · max(ln p, log_p_floor)
    correct  ⇔  r ≤ max_rank  and  m ≤ max_drop_margin  and  score ≥ threshold[t]

``score`` equals the similarity when the classifier is sure (p = 1). A refusal says why, the first that applies:

1. ``missing_stroke``: the drawing passes on score and rank, but lies closer to ``t`` without one stroke than the
   margin allows; names the stroke (0-based, standard order);
2. ``other_character``: another HSK1 character is the most likely class; names it;
3. ``far_from_template``: neither; the drawing is too far from the target's template (or unclear).

An artifacts folder calibrated before this rule has no ``verdict`` metadata: the weight is 0 and the margin and
rank admit everything, which is the earlier similarity-only rule.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

RULE = "similarity+logp, drop-margin gate/v1"
REASONS = ("missing_stroke", "other_character", "far_from_template")


@dataclass(frozen=True)
class VerdictParams:
    """The rule's global numbers (the per-character thresholds live in templates.npz)."""

    prob_weight: float = 0.0
    log_p_floor: float = -10.0
    max_drop_margin: float = float("inf")  # admits every drawing
    max_rank: int = 1000  # admits every class

    @staticmethod
    def from_metadata(meta: dict[str, Any]) -> VerdictParams:
        v = meta.get("verdict") or {}
        margin = v.get("max_drop_margin")
        return VerdictParams(float(v.get("prob_weight", 0.0)), float(v.get("log_p_floor", -10.0)),
                             float("inf") if margin is None else float(margin), int(v.get("max_rank", 1000)))

    def to_metadata(self) -> dict[str, Any]:
        out = {"rule": RULE, **asdict(self)}
        if not np.isfinite(self.max_drop_margin):
            out["max_drop_margin"] = None  # JSON has no infinity
        return out


@dataclass
class DropTable:
    """Stroke-drop templates of every template character, stacked: rows ``offsets[i]:offsets[i + 1]`` belong to
    template row ``i``; the first is the character written complete, row ``1 + k`` without stroke ``k``."""

    rows: np.ndarray  # float32 [R, dim], L2-normalised (stored as float16)
    offsets: np.ndarray  # int [n_chars + 1]

    def margin(self, emb_unit: np.ndarray, row: int) -> tuple[float, int]:
        """(best drop template's cosine − the complete one's, its stroke) for one normalised embedding; (−∞, -1)
        for a character without drop templates."""
        a, b = int(self.offsets[row]), int(self.offsets[row + 1])
        if b - a < 2:  # no stroke data, or one stroke: nothing can be missing
            return float("-inf"), -1
        s = self.rows[a:b] @ emb_unit
        k = int(np.argmax(s[1:]))
        return float(s[1 + k] - s[0]), k


@dataclass
class Evidence:
    """What the model says about (image, target) pairs, arrays [N]; ``top`` is the most likely class other than
    the target (a class index) and ``drop_stroke`` the stroke whose drop template fits best (-1: none)."""

    similarity: np.ndarray
    probability: np.ndarray
    rank: np.ndarray
    top: np.ndarray
    drop_margin: np.ndarray
    drop_stroke: np.ndarray

    def __len__(self) -> int:
        return len(self.similarity)

    def take(self, mask: np.ndarray) -> Evidence:
        return Evidence(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))


def evidence(probs: np.ndarray, emb_unit: np.ndarray, classes: np.ndarray, rows: np.ndarray,
             templates: np.ndarray, drops: DropTable | None) -> Evidence:
    """Evidence for pairs: calibrated ``probs`` [N, C], L2-normalised embeddings [N, dim], each pair's target as a
    class index and as a template row."""
    n = len(classes)
    idx = np.arange(n)
    sim = np.einsum("nd,nd->n", emb_unit, templates[rows]) if n else np.zeros(0, np.float32)
    p = probs[idx, classes]
    rank = (probs > p[:, None]).sum(axis=1) + 1
    others = probs.copy()
    others[idx, classes] = -1.0
    margin, stroke = np.full(n, -np.inf), np.full(n, -1)
    if drops is not None:
        for i in range(n):
            margin[i], stroke[i] = drops.margin(emb_unit[i], int(rows[i]))
    return Evidence(sim.astype(np.float64), p.astype(np.float64), rank, others.argmax(axis=1), margin, stroke)


def scores(ev: Evidence, params: VerdictParams) -> np.ndarray:
    """The rule's score of each pair (see the module docstring)."""
    logp = np.log(np.maximum(ev.probability, 1e-30))
    return ev.similarity + params.prob_weight * np.maximum(logp, params.log_p_floor)


def accepted(ev: Evidence, params: VerdictParams, thresholds: np.ndarray) -> np.ndarray:
    """bool [N]: the rule's ``correct``; ``thresholds`` holds each pair's own target threshold."""
    return gate(ev, params) & (scores(ev, params) >= thresholds)


def gate(ev: Evidence, params: VerdictParams) -> np.ndarray:
    """bool [N]: the rank and stroke-drop conditions (the rule without its threshold)."""
    return (ev.rank <= params.max_rank) & (ev.drop_margin <= params.max_drop_margin)


def reasons(ev: Evidence, params: VerdictParams, thresholds: np.ndarray, unknown: int,
            score: np.ndarray | None = None) -> list[str | None]:
    """Why each pair is refused (None when accepted): the first of ``REASONS`` that applies. ``score``: the pairs'
    ``scores``, when the caller has them already."""
    over = (scores(ev, params) if score is None else score) >= thresholds
    passes = (ev.rank <= params.max_rank) & over  # all but the stroke-drop gate
    ok = gate(ev, params) & over  # = accepted()
    out: list[str | None] = []
    for i in range(len(ev)):
        if ok[i]:
            out.append(None)
        elif passes[i] and ev.drop_stroke[i] >= 0:  # only the stroke-drop gate refused it
            out.append("missing_stroke")
        elif ev.rank[i] > 1 and ev.top[i] != unknown:
            out.append("other_character")
        else:
            out.append("far_from_template")
    return out
