"""Stroke order and stroke direction of a pen-stroke drawing, read off the diagnosis' alignment.

Pen strokes carry time: their ink points (``align.drawing_from_strokes``) follow the pen, stroke after stroke, and
each knows its drawn stroke (``InkPoints.stroke_ids``). The reference strokes are already where the diagnosis'
alignment put them (``Analysis``); nothing is aligned again.

* Ink *lies along* a reference stroke when its nearest median point, among those whose direction is within 60° of
  the pen's (either way: ``MIN_PARALLEL``), is that stroke's and within ``MATCH_DIST`` working pixels (of the
  character's 64). The direction keeps a horizontal's ink from being taken for a crossing vertical's.
* A drawn stroke *covers* reference stroke ``k`` when it has the most ink along ``k``, at least ``MIN_USE`` of
  ``k``'s length and ``CLEAR_OWNER`` times any other drawn stroke's, reaching ``MIN_MATCHED`` of ``k``'s median.
  ``drawn_as[i]``: the reference strokes drawn stroke ``i`` covers, ascending: several when a writer joins strokes
  into one pen-down stroke (not an error), none for extra ink (ignored). A stroke that is missing, that the
  diagnosis scores under ``MIN_SCORE`` (little ink of its own) or that no drawn stroke clearly covers is in no
  list: it is not judged.
* ``out_of_order``: the strokes ``k`` covered by an earlier drawn stroke than some stroke ``j < k`` (both
  covered). Swapping strokes 2 and 3 names 3 ("stroke 3 drawn before stroke 2"); drawing stroke 0 last names every
  other stroke (each was drawn before stroke 0). Within one joined stroke the order is not judged.
* ``reversed``: strokes whose ink in their covering drawn stroke runs against the median for at least
  ``MIN_REVERSE_SHARE`` of its length, and with it for at most ``MAX_FORWARD`` of that (a fluent writer's pen
  travelling back along a stroke to the next is not a reversal). Strokes shorter than ``MIN_REVERSE_LENGTH``
  working pixels (dots, ticks) are never called reversed.
* Nothing is judged when the alignment explains the ink badly (``Analysis.fit`` under ``MIN_FIT``): the drawing
  is then not where the reference strokes were put, and its order says nothing. A drawing sent y-up (against the
  documented y-down) is the common case: 171 of the 178 characters fit under 0.5 upside down, against none written
  right stroke by stroke and 12 of 178 in the synthesiser's fluent handwriting (whose notes it silences).

Order and direction are advice for practice apps: they never change the verdict. Images have no order: None.
The work is one distance matrix (reference points × ink points, both bounded: ``inference/budget.py``) and a
loop over the reference strokes, which checks the deadline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .align import REF_SPACING, sqdist
from .budget import NO_DEADLINE, Deadline

__all__ = ["StrokeOrder", "read_order"]

MATCH_DIST = 6.0  # working pixels (of 64): ink farther than this from a median point does not lie along it
MIN_PARALLEL = 0.5  # |cos| of the angle between the pen's and the median's directions for ink to lie along it
MIN_FIT = 0.5  # an alignment fitting worse than this (``Analysis.fit``, 0..1) judges no stroke
MIN_SCORE = 0.5  # a stroke the diagnosis scores under this (little ink of its own) is not judged
MIN_USE = 0.4  # the covering drawn stroke's ink along a stroke: at least this share of the stroke's length ...
CLEAR_OWNER = 2.0  # ... and this many times any other drawn stroke's ink along it
MIN_MATCHED = 0.5  # ... and within MATCH_DIST of at least this share of the stroke's median points
MIN_REVERSE_LENGTH = 16.0  # working pixels (¼ of the character): a shorter stroke (dot, tick) is never reversed
MIN_REVERSE_SHARE = 0.5  # reversed: ink running against the stroke at least this share of its length ...
MAX_FORWARD = 0.2  # ... and ink running with it at most this share of that


@dataclass
class StrokeOrder:
    """How a pen-stroke drawing was written, against the target's standard stroke order (all indices from 0).

    ``drawn_as[i]``: the reference strokes drawn stroke ``i`` covers, ascending (empty strokes are left out, as
    everywhere); ``out_of_order``: strokes drawn (in an earlier drawn stroke) before a stroke that comes earlier
    in standard order;
    ``reversed``: strokes drawn against their direction. Missing strokes are in none of them."""

    drawn_as: list[list[int]]
    out_of_order: list[int]
    reversed: list[int]

    @classmethod
    def from_drawn(cls, drawn_as: list[list[int]], reversed_: list[int]) -> StrokeOrder:
        """``out_of_order`` follows from ``drawn_as`` (:meth:`drawn_before`, the one definition of it)."""
        order = cls(drawn_as, [], sorted(reversed_))
        order.out_of_order = [k for k in sorted(_drawn_index(drawn_as)) if order.drawn_before(k) is not None]
        return order

    def drawn_before(self, k: int) -> int | None:
        """The first stroke in standard order that stroke ``k`` was drawn before (in an earlier drawn stroke);
        None when there is none (``k`` is in order, or missing, or not covered)."""
        at = _drawn_index(self.drawn_as)
        return next((j for j in range(k) if k in at and j in at and at[j] > at[k]), None)

    def notes(self) -> list[str]:
        """Learner's phrases (strokes counted from 1): ``stroke 4 drawn before stroke 3``, ``stroke 5 drawn
        backwards``; empty when order and direction are right."""
        early: dict[int, list[int]] = {}
        for k in self.out_of_order:
            early.setdefault(self.drawn_before(k), []).append(k + 1)
        out = [f"{_strokes(ks)} drawn before stroke {j + 1}" for j, ks in sorted(early.items())]
        if self.reversed:
            out.append(f"{_strokes([k + 1 for k in self.reversed])} drawn backwards")
        return out

    def to_dict(self) -> dict:
        return {"drawn_as": [list(ks) for ks in self.drawn_as], "out_of_order": list(self.out_of_order),
                "reversed": list(self.reversed)}


def _drawn_index(drawn_as: list[list[int]]) -> dict[int, int]:
    """Reference stroke → the drawn stroke covering it."""
    return {k: i for i, ks in enumerate(drawn_as) for k in ks}


def _strokes(numbers: list[int]) -> str:
    return f"stroke {numbers[0]}" if len(numbers) == 1 else "strokes " + ", ".join(map(str, numbers))


def _directions(analysis) -> np.ndarray:
    """The reference strokes' unit tangents, turned as the alignment turns them."""
    ref, al = analysis.reference, analysis.alignment
    d = np.einsum("nij,nj->ni", al.A[ref.labels], ref.directions)
    return (d / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-6)[:, None]).astype(np.float32)


def _matches(analysis) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Squared distances (reference points × ink points), inf where the directions are not parallel enough
    (either way) or the stroke is missing; each ink point's nearest such reference point (−1: none within
    ``MATCH_DIST``), and the cosine between their directions (signed: −1 is the pen going against the median)."""
    ref, drawing = analysis.reference, analysis.drawing
    D = sqdist(analysis.alignment.apply(ref), drawing.points)
    cos = _directions(analysis) @ drawing.directions.T
    D[np.abs(cos) < MIN_PARALLEL] = np.inf
    D[np.isin(ref.labels, analysis.missing)] = np.inf
    cols = np.arange(D.shape[1])
    nearest = D.argmin(axis=0)
    nearest[D[nearest, cols] > MATCH_DIST**2] = -1
    return D, nearest, cos[nearest, cols]


def _covering(Dk: np.ndarray, along: np.ndarray, ids: np.ndarray, weights: np.ndarray) -> int | None:
    """The drawn stroke that covers a reference stroke (``Dk``: its median points' rows of the distances;
    ``along``: the ink points lying along it), or None: the drawn stroke with the most ink along it, when that
    ink is long enough (``MIN_USE``), clearly more than any other's (``CLEAR_OWNER``) and reaches enough of the
    median (``MIN_MATCHED``)."""
    use = np.bincount(ids[along], weights=weights[along], minlength=int(ids.max()) + 2)
    i = int(use.argmax())
    second = float(np.partition(use, -2)[-2])
    if use[i] < MIN_USE * len(Dk) * REF_SPACING or use[i] < CLEAR_OWNER * second:
        return None
    reach = float((Dk[:, ids == i].min(axis=1) <= MATCH_DIST**2).mean())
    return i if reach >= MIN_MATCHED else None


def _reversed(cos: np.ndarray, weights: np.ndarray, length: float) -> bool:
    """Whether a reference stroke ``length`` working pixels long was drawn backwards, given, for each ink point of
    its drawn stroke lying along it, the cosine between the pen's direction and the median's (``cos``) and the
    length it stands for (``weights``). Its ink must run mostly against it and hardly with it: a fluent writer's
    pen may travel back along a stroke on its way to the next, and that stroke is not reversed."""
    if length < MIN_REVERSE_LENGTH:
        return False
    back, forth = float(weights[cos <= -MIN_PARALLEL].sum()), float(weights[cos >= MIN_PARALLEL].sum())
    return back >= MIN_REVERSE_SHARE * length and forth <= MAX_FORWARD * back


def read_order(analysis, deadline: Deadline = NO_DEADLINE) -> StrokeOrder | None:
    """Order and direction (see the module doc) of the drawing in ``analysis`` (``diagnose.Analysis``, its missing
    strokes final); None for an image."""
    drawing, ref = analysis.drawing, analysis.reference
    if drawing.stroke_ids is None:
        return None
    ids = drawing.stroke_ids
    drawn_as: list[list[int]] = [[] for _ in range(int(ids.max()) + 1)]
    if analysis.fit < MIN_FIT:
        return StrokeOrder(drawn_as, [], [])
    D, nearest, cos = _matches(analysis)
    ink_of = np.where(nearest >= 0, ref.labels[nearest], -1)  # the reference stroke each ink point lies along
    reversed_ = []
    for k in range(ref.n_strokes):
        deadline.check()
        sel = np.flatnonzero(ref.labels == k)
        if k in analysis.missing or analysis.scores[k] < MIN_SCORE:
            continue
        i = _covering(D[sel], ink_of == k, ids, drawing.weights)
        if i is None:
            continue
        drawn_as[i].append(k)
        mine = (ink_of == k) & (ids == i)
        if _reversed(cos[mine], drawing.weights[mine], (len(sel) - 1) * REF_SPACING):
            reversed_.append(k)
    return StrokeOrder.from_drawn(drawn_as, reversed_)
