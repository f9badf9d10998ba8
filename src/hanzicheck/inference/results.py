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
    """Is the image the target character? ``similarity`` and ``threshold`` are None for an invalid target."""

    target: str
    verdict: Verdict
    similarity: float | None
    threshold: float | None

    @property
    def correct(self) -> bool:
        return self.verdict == "correct"

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "verdict": self.verdict, "similarity": _r(self.similarity),
                "threshold": _r(self.threshold)}
