"""Stroke diagnosis: which of the target's strokes are missing from a drawing, and where there is extra ink.

Method (works on plain images and on pen strokes):

1. The drawing becomes weighted ink points, the target's reference medians evenly spaced points (``align``).
2. The reference is aligned to the ink: robust two-way ICP for an affine transform, then a small shift per stroke.
3. Each reference stroke ``k`` is judged by what it explains. Its *cost* of being absent: the ink that only ``k``
   accounts for (ink that would be far from every other stroke); its *cost* of being present: its median points
   with no ink near. ``evidence_k`` = (absent-cost − present-cost) / its length, in −1..1. The stroke score is
   ``(1 + evidence) / 2``: 1 = clearly drawn, 0.5 = cannot tell (e.g. it lies on other strokes' ink), 0 = no ink.
4. Leave-one-out: the reference is re-aligned without each of the ``CANDIDATES`` lowest-scoring strokes and
   each stroke on the character's edge (the missing stroke may have pulled the first alignment askew) and that stroke's evidence measured again. Among
   those with no ink of their own so aligned, the one whose removal lowers the two-way alignment cost most is
   named missing when the saving is large enough (``RULES``); then the next one, up to
   ``MAX_MISSING``. A drawing that fits badly anyway is "unclear" without a stroke named.

Ink far from every reference stroke is reported as ``extra_ink`` boxes (input pixel coordinates).
Pen strokes also get their stroke order and direction (``stroke_order.py``: which reference strokes each drawn
stroke covers, which were drawn early or backwards), read off the same alignment; advice that never changes the
verdict.

5. With a recogniser, its stroke-drop templates (``stroke_templates``: the model's embedding of the character
   written without each stroke) add a second opinion that does not depend on where ink lies: the named stroke is
   the one that is both poorly covered and whose drop-template the drawing resembles most (:func:`combine`).
   On synthesised drops this raised top-1 from ~0.60 to ~0.80 at the same ~5% false alarms.

Budget (``inference/budget.py``): the work is bounded by construction (strokes, points and iterations capped),
and a deadline (``timeout_s``, 10 s by default) is checked in every loop: past it, ``DiagnosisTimeout``.
An image is decoded once, by ``data/preprocess.py``; errors are its ``InvalidImageError`` (``InkError``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..data.preprocess import preprocess
from .align import (
    FRAME,
    REF_SPACING,
    Alignment,
    InkError,
    InkPoints,
    Reference,
    align,
    decode,
    drawing_from_image,
    drawing_from_strokes,
    reference_points,
    sqdist,
    stroke_arrays,
)
from .budget import DEFAULT_TIMEOUT_S, NO_DEADLINE, Deadline, DiagnosisTimeout
from .results import Verification
from .stroke_order import StrokeOrder, read_order

__all__ = ["Diagnosis", "InkError", "DiagnosisTimeout", "StrokeOrder", "diagnose", "diagnose_analysis", "analyse",
           "MISSING_SCORE"]


MISSING_SCORE = 0.35  # a stroke scoring under this may be named missing
MAX_MISSING = 3
CANDIDATES = 4  # at most this many strokes get a leave-one-out re-alignment: the lowest-scoring ones
CANDIDATE_SCORE = 0.6  # ... that score under this (95% of dropped strokes in synthesised tests)
# A stroke is named missing when leaving it out of the alignment saves at least ``gain`` of the two-way cost
# (0..1) and ``share_gain`` × the stroke's own share of it, and its evidence so aligned is under ``evidence``.
# Two rules: a clear saving, or (short strokes: dots) a smaller saving with no ink of its own at all. Tuned on
# synthesised drops (engine/diagnosis_eval.py, seeds 5 and 6): ~6% false alarms on complete characters.
RULES = ({"gain": 0.03, "share_gain": 0.1, "evidence": -0.4},
         {"gain": 0.01, "share_gain": 0.6, "evidence": -0.8})
# a drawing smaller than this (input pixels, longest side) has strokes a pixel or two wide, scans blur them:
# only a clear saving names a stroke
SMALL_SIDE = 28
SMALL_RULES = ({"gain": 0.05, "share_gain": 0.3, "evidence": -0.6},)
TAU = 6.0  # working pixels (of 64): distance beyond which ink and strokes do not explain each other
EXTRA_DIST = 9.0  # ink this far (beyond the pen's half width) from every stroke is extra
EXTRA_MIN_LENGTH = 6.0  # working pixels of stroke length for an extra-ink region to count


# Combining the alignment with the recogniser's stroke-drop templates. Tuned on synthesised drops (all HSK1
# characters, seed 7), checked on other seeds and on canvas-style drawings (engine/diagnosis_eval.py).
EMBED_WEIGHT = 5.0  # how much the drop-templates' ranking counts next to (1 − stroke score)
EMBED_CLEAR = 0.10  # a drop-template this much closer than the complete one names its stroke on its own
EMBED_SOME = 0.01  # ... this much closer names it when the alignment also finds little ink there:
EMBED_SCORE = 0.4  # ... a stroke score under this


@dataclass
class Diagnosis:
    """Result of :func:`diagnose`. ``stroke_scores[k]`` is in 0..1 for reference stroke ``k`` (standard order);
    ``extra_ink``: (x0, y0, x1, y1) boxes in input pixels (image) or input units (strokes). Verdict
    ``invalid_target`` (a target the recogniser does not know): similarity None, no strokes, no boxes.
    ``verification``: with a recogniser, the ``Verification`` the verdict comes from (score, probability, rank,
    reason …, as ``verify`` gives them; a stroke found missing where verify passed the drawing makes it refused
    with reason ``missing_stroke`` and that stroke); not part of ``to_dict()``. ``stroke_order``: for pen strokes,
    how they were written (:class:`~.stroke_order.StrokeOrder`: ``drawn_as``, ``out_of_order``, ``reversed``);
    None for an image (no order) and an ``invalid_target`` answer. It never changes the verdict."""

    target: str
    verdict: str
    similarity: float | None
    missing_strokes: list[int]
    stroke_scores: list[float]
    extra_ink: list[tuple[int, int, int, int]] = field(default_factory=list)
    file: str | None = None
    verification: Verification | None = None
    stroke_order: StrokeOrder | None = None

    def to_dict(self) -> dict:
        out: dict = {"file": self.file} if self.file is not None else {}
        similarity = None if self.similarity is None else round(float(self.similarity), 4)
        out.update(target=self.target, verdict=self.verdict, similarity=similarity,
                   missing_strokes=list(self.missing_strokes),
                   stroke_scores=[round(float(s), 3) for s in self.stroke_scores],
                   extra_ink=[list(b) for b in self.extra_ink],
                   stroke_order=None if self.stroke_order is None else self.stroke_order.to_dict())
        return out


@dataclass
class Analysis:
    """Everything the diagnosis saw (for overlays and evaluation)."""

    drawing: InkPoints
    reference: Reference
    alignment: Alignment
    scores: np.ndarray
    missing: list[int]
    fit: float  # 0..1, how well the kept strokes and the ink explain each other
    extra_ink: list[tuple[int, int, int, int]]


def _clip(d: np.ndarray) -> np.ndarray:
    return np.minimum(d, TAU) / TAU


def _per_stroke_min(Pt: np.ndarray, labels: np.ndarray, n: int, Q: np.ndarray) -> np.ndarray:
    """(len(Q), n) distance from each ink point to the nearest point of each stroke."""
    D = np.sqrt(sqdist(Q, Pt))
    out = np.full((len(Q), n), np.inf, np.float64)
    for k in range(n):
        sel = labels == k
        if sel.any():
            out[:, k] = D[:, sel].min(axis=1)
    return out


def _evidence(ref: Reference, drawing: InkPoints, alignment: Alignment,
              present: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Per-stroke evidence (−1..1, NaN for strokes not in ``present``), the fit cost, ink→stroke distances."""
    Pt = alignment.apply(ref)
    Q = drawing.points
    w = drawing.weights.astype(np.float64)
    h = drawing.half_width
    n = ref.n_strokes
    Dq = np.maximum(_per_stroke_min(Pt, ref.labels, n, Q) - h, 0.0)
    Dq[:, ~present] = np.inf
    dp = np.sqrt(sqdist(Pt, Q).min(axis=1))
    cp = _clip(dp)
    order = np.sort(Dq, axis=1)
    best = _clip(order[:, 0])
    second = _clip(order[:, 1]) if n > 1 else np.ones(len(Q))
    owner = Dq.argmin(axis=1)
    ev = np.full(n, np.nan)
    for k in np.flatnonzero(present):
        sel = ref.labels == k
        length = max(float(sel.sum()) * REF_SPACING, 1.0)
        mine = owner == k
        absent_cost = float((w[mine] * (second[mine] - best[mine])).sum())
        present_cost = float(cp[sel].sum()) * REF_SPACING
        ev[k] = np.clip((absent_cost - present_cost) / length, -1.0, 1.0)
    keep_pts = present[ref.labels]
    cost = (float(cp[keep_pts].sum()) * REF_SPACING + float((w * best).sum())) / max(
        keep_pts.sum() * REF_SPACING + w.sum(), 1.0)
    return ev, cost, Dq.min(axis=1)


def _extra_boxes(drawing: InkPoints, dist: np.ndarray,
                 deadline: Deadline = NO_DEADLINE) -> list[tuple[int, int, int, int]]:
    """Clusters of ink far from every kept stroke → boxes in input coordinates."""
    far = dist > EXTRA_DIST
    if not far.any():
        return []
    pts = drawing.points[far]
    wts = drawing.weights[far]
    # single-link clusters of far points (a few hundred at most)
    near = sqdist(pts, pts) <= 3.0**2
    label = -np.ones(len(pts), int)
    cur = 0
    for i in range(len(pts)):
        if label[i] >= 0:
            continue
        deadline.check()
        stack = [i]
        label[i] = cur
        while stack:
            j = stack.pop()
            for m in np.flatnonzero(near[j] & (label < 0)):
                label[m] = cur
                stack.append(m)
        cur += 1
    sx, ox, oy = drawing.to_input
    boxes = []
    for c in range(cur):
        sel = label == c
        if wts[sel].sum() < EXTRA_MIN_LENGTH:
            continue
        lo, hi = pts[sel].min(axis=0), pts[sel].max(axis=0)
        boxes.append((int(np.floor(lo[0] * sx + ox)), int(np.floor(lo[1] * sx + oy)),
                      int(np.ceil(hi[0] * sx + ox)), int(np.ceil(hi[1] * sx + oy))))
    return boxes


def is_strokes(obj) -> bool:
    """True for pen strokes: any list or tuple (an image is an array, a PIL image, a path or bytes), whose
    structure ``align.stroke_arrays`` then checks."""
    return isinstance(obj, (list, tuple))


def analyse(image_or_strokes, medians: Sequence[np.ndarray], rad_strokes: Sequence[int] = (),
            deadline: Deadline = NO_DEADLINE, name: str | None = None) -> Analysis:
    """Align the drawing to the reference medians and score each stroke (see the module doc). ``deadline`` is
    checked throughout (``DiagnosisTimeout``); ``name``: what error messages call the image."""
    if is_strokes(image_or_strokes):
        drawing = drawing_from_strokes(image_or_strokes)
    else:
        drawing = drawing_from_image(image_or_strokes, name)
    ref = reference_points(medians, rad_strokes)
    n = ref.n_strokes
    present = np.ones(n, bool)
    alignment = full = align(ref, drawing, deadline=deadline)
    ev, cost, dist = _evidence(ref, drawing, alignment, present)
    scores = (1.0 + ev) / 2.0
    lengths = np.bincount(ref.labels, minlength=n) * REF_SPACING
    extremes = sorted({int(ref.labels[np.argmin(ref.points[:, 0])]), int(ref.labels[np.argmax(ref.points[:, 0])]),
                       int(ref.labels[np.argmin(ref.points[:, 1])]), int(ref.labels[np.argmax(ref.points[:, 1])])})
    total = float(lengths.sum() + drawing.weights.sum())
    rules = SMALL_RULES if FRAME * drawing.to_input[0] < SMALL_SIDE else RULES
    missing: list[int] = []
    while len(missing) < min(MAX_MISSING, n - 1):
        # leave-one-out: re-align without each doubtful stroke; a stroke is missing when the drawing is explained
        # better without it (lower two-way cost) and, so aligned, its own ink is not there
        cands = [int(k) for k in np.argsort(scores) if present[k] and scores[k] < CANDIDATE_SCORE][:CANDIDATES]
        # a missing stroke on the character's edge skews the first alignment (the rest is stretched over its
        # place), so it may not look doubtful there: the edge strokes are always re-aligned
        cands += [k for k in extremes if present[k] and k not in cands]
        best = None
        for k in cands:
            keep = present.copy()
            keep[k] = False
            al = align(ref, drawing, keep=keep, near=full, deadline=deadline)
            trial_ev, _, _ = _evidence(ref, drawing, al, present)
            _, trial_cost, trial_dist = _evidence(ref, drawing, al, keep)
            gain = cost - trial_cost
            share_gain = gain / (lengths[k] / total)
            named = any(gain > r["gain"] and share_gain > r["share_gain"] and trial_ev[k] < r["evidence"]
                        for r in rules)
            if named and (best is None or gain > best[1]):
                best = (k, gain, trial_cost, keep, al, trial_dist, (1.0 + trial_ev[k]) / 2.0)
        if best is None:
            break
        k, _, cost, present, alignment, dist, loo_score = best
        scores[k] = min(scores[k], loo_score)
        missing.append(k)
    fit = float(np.clip(1.0 - 2.0 * cost, 0.0, 1.0))
    return Analysis(drawing, ref, alignment, np.clip(scores, 0, 1), missing, fit,
                    _extra_boxes(drawing, dist, deadline))


def combine(analysis: Analysis, sims: np.ndarray) -> list[int]:
    """The missing strokes, given the drawing's cosine similarity to the stroke-drop templates
    (``sims[0]``: complete character, ``sims[k + 1]``: without stroke ``k``)."""
    n = analysis.reference.n_strokes
    if len(sims) != n + 1 or n < 2:
        return list(analysis.missing)
    drop = np.asarray(sims[1:], np.float64)
    gain = drop - float(sims[0])
    k = int(np.argmax((1.0 - analysis.scores) + EMBED_WEIGHT * (drop - drop.mean())))
    named = ((analysis.missing and gain[k] > 0) or gain[k] > EMBED_CLEAR
             or (gain[k] > EMBED_SOME and analysis.scores[k] < EMBED_SCORE))
    return [k] + [m for m in analysis.missing if m != k] if named else []


def diagnose(image_or_strokes, target: str, recognizer=None, db=None,
             timeout_s: float | None = DEFAULT_TIMEOUT_S) -> Diagnosis:
    """Which strokes of ``target`` are missing from a drawing (image: array/PIL/path/bytes; or pen strokes: a list
    of strokes, each a list of [x, y] points or an (n, 2) array, y down). With a ``recognizer``, verdict and
    similarity are its ``verify``'s (the verdict is ``incomplete_or_unclear`` whenever a stroke is named
    missing), and a target it does not know gets verify's answer: verdict ``invalid_target``, similarity None,
    no strokes. Without one (stroke alignment only, which does not judge which character was written: a
    lone dot or another character can pass), the verdict is ``correct`` when no stroke is missing and no extra
    ink was found, else ``incomplete_or_unclear``, and similarity is the alignment fit (0..1).

    Raises KeyError for a target without stroke data, InkError (preprocess's ``InvalidImageError``, a ValueError)
    for an unreadable, blank or too large drawing or malformed strokes (naming the bad point), ``DiagnosisTimeout``
    past ``timeout_s`` seconds (None: no deadline; the work is bounded anyway, see ``inference/budget.py``)."""
    return diagnose_analysis(image_or_strokes, target, recognizer, db, timeout_s=timeout_s)[0]


def diagnose_analysis(image_or_strokes, target: str, recognizer=None, db=None,
                      timeout_s: float | None = DEFAULT_TIMEOUT_S, deadline: Deadline | None = None,
                      name: str | None = None) -> tuple[Diagnosis, Analysis | None]:
    """:func:`diagnose` and the :class:`Analysis` behind it (for overlays; None with an ``invalid_target``
    answer, which aligns nothing but still reads the drawing as verify does: an unreadable or blank one raises
    whatever the target). ``deadline`` (instead of ``timeout_s``): an end-to-end one set by the caller (the
    service); ``name``: what errors call the image."""
    deadline = deadline or Deadline(timeout_s)
    if not isinstance(target, str):
        raise KeyError(f"target must be one character, got {target!r}")
    file = str(image_or_strokes) if isinstance(image_or_strokes, (str, Path)) else None
    strokes = is_strokes(image_or_strokes)
    # the drawing first, as verify reads its image before it looks at the target: an unreadable drawing is that
    # error whatever the target. An image is decoded once (preprocess's decoder and guards), strokes checked once
    # (stroke_arrays); the recogniser takes the same gray array, or the same strokes rendered
    subject = stroke_arrays(image_or_strokes) if strokes else decode(image_or_strokes, name)
    image = None  # what the recogniser reads: the gray array, or the strokes rendered
    if recognizer is not None:
        image = subject
        if strokes:
            from ..data.render import render_strokes

            image = render_strokes(subject, size=64)
        if target not in recognizer.artifacts.char_index():  # verify's answer, once the drawing reads as its does
            preprocess(image, name=name or file)  # InkError (a blank drawing, ...) as verify raises it
            return Diagnosis(target, "invalid_target", None, [], [], [], file,
                             Verification(target, "invalid_target", None, None)), None
    if db is None:
        from ..data.strokes import default_db

        db = default_db()
    if len(target) != 1:
        raise KeyError(f"target must be one character, got {target!r}")
    chars = db.get(target)  # KeyError naming the target
    result = analyse(subject, chars.medians, chars.rad_strokes, deadline=deadline, name=name)
    scores = [float(s) for s in result.scores]
    ver = None
    if recognizer is not None:
        deadline.check()
        # the one verify rule (inference/verdict.py) and the embedding, from one preprocessing and one model run ...
        ver, emb = recognizer.verify_embedded(preprocess(image), target)
        result.missing = combine(result, recognizer.drop_templates(db).get(target) @ emb)
        if result.missing and ver.correct:  # ... unless the strokes show one missing: never "correct" beside it
            ver = replace(ver, verdict="incomplete_or_unclear", reason="missing_stroke",
                          missing_stroke=result.missing[0])
        similarity = float(ver.similarity)
        verdict = ver.verdict
    else:
        verdict = "correct" if not result.missing and not result.extra_ink else "incomplete_or_unclear"
        similarity = result.fit
    order = read_order(result, deadline)  # with the final missing strokes; None for an image
    return Diagnosis(target, verdict, similarity, list(result.missing), scores, result.extra_ink, file,
                     ver, order), result
