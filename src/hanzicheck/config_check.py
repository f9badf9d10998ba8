"""Checks shared by the configuration dataclasses whose values come from JSON files and flags (``SynthConfig``,
``TrainConfig``): unknown keys and unknown names are refused with the closest known one as a hint."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import fields


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the known name closest to ``name``, or ``""`` when none is close."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_fields(cls: type, data: dict, what: str) -> None:
    """ValueError naming the keys of ``data`` that are no field of the dataclass ``cls``, each with the closest
    field name as a hint."""
    known = {f.name for f in fields(cls)}
    unknown = set(data) - known
    if unknown:
        hints = {k: difflib.get_close_matches(k, known, n=1) for k in sorted(unknown)}
        raise ValueError(f"unknown {what} {sorted(unknown)}; did you mean {hints}?")
