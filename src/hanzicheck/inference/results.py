"""Inference results: dataclasses whose ``to_dict()`` gives the CLI's and the service's JSON fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Verdict = Literal["correct", "incomplete_or_unclear", "invalid_target"]
DIGITS = 4  # rounding in JSON: probabilities and similarities are not meaningful beyond this


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), DIGITS)


@dataclass(frozen=True)
class Classification:
    """The recognised character (``Unknown`` when unsure), its probability, and the k most likely classes."""

    char: str
    confidence: float
    top_k: list[tuple[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"char": self.char, "confidence": _r(self.confidence),
                "top_k": [[c, _r(p)] for c, p in self.top_k]}


@dataclass(frozen=True)
class Verification:
    """Is the image the target character? The verdict is inference/verdict.py's rule: ``score`` (the similarity,
    moved by the classifier's ``probability`` and by any stroke that looks missing) against ``threshold``, and the
    target's ``rank`` among the classes. When refused, ``reason`` says why (``missing_stroke`` with the stroke's
    index in standard order, ``other_character`` naming the likelier character, or ``far_from_template``).
    The numbers are None for an invalid target."""

    target: str
    verdict: Verdict
    similarity: float | None
    threshold: float | None
    score: float | None = None
    probability: float | None = None
    rank: int | None = None
    reason: str | None = None
    other: str | None = None  # the likelier character (reason ``other_character``)
    missing_stroke: int | None = None  # 0-based, standard stroke order (reason ``missing_stroke``)

    @property
    def correct(self) -> bool:
        return self.verdict == "correct"

    def explanation(self) -> str:
        """One sentence for a learner: what the verdict rests on."""
        t = self.target
        if self.verdict == "invalid_target":
            return f"{t} is not one of the HSK1 characters"
        if self.verdict == "correct":
            return f"this is {t}"
        if self.reason == "missing_stroke" and self.missing_stroke is not None:
            return f"stroke {self.missing_stroke + 1} of {t} looks missing"
        if self.reason == "other_character" and self.other:
            return f"this looks more like {self.other} than {t}"
        return f"too far from {t} (score {self.score:.3f}, needs {self.threshold:.3f})" \
            if self.score is not None and self.threshold is not None else f"too far from {t}"

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "verdict": self.verdict, "similarity": _r(self.similarity),
                "threshold": _r(self.threshold), "score": _r(self.score), "probability": _r(self.probability),
                "rank": self.rank, "reason": self.reason, "other": self.other, "missing_stroke": self.missing_stroke}


@dataclass(frozen=True)
class ItemError:
    """One input of a batch call (``Recognizer.classify_many`` …) that got no answer: its position, its name (the
    path, a name given by the caller, or ``item N``) and why (the decoder's message); the other inputs are
    answered."""

    index: int
    item: str
    error: str

    def to_dict(self) -> dict[str, Any]:
        return {"item": self.item, "error": self.error}
