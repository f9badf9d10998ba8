"""The work budget of one stroke diagnosis: what bounds its memory and time, wherever it is called from.

By construction (``inference/align.py``): at most ``MAX_STROKES`` pen strokes and ``MAX_INPUT_POINTS`` pen points
are accepted; pen strokes are resampled to at most ``MAX_INK_POINTS`` ink points (1 working pixel apart, or
farther when the path is longer: HSK1 characters drawn as their reference medians need 66–387), images to about
450; the alignment runs a fixed number of starts and ICP iterations, and the leave-one-out search a fixed
number of candidates and rounds. So one diagnosis costs at most a few thousand point-to-point distance matrices of
(reference points × ink points), whatever the input.

In time: a :class:`Deadline` is checked inside those loops (between ICP iterations, alignments, candidates), so
a diagnosis past its deadline stops within one iteration (milliseconds) and raises :class:`DiagnosisTimeout`,
in the Python API (``Recognizer.diagnose(..., timeout_s=)``) as in the service, whose worker threads are not left
running after the answer.
"""

from __future__ import annotations

import time

MAX_STROKES = 200  # pen strokes in one drawing (the service's own limit is the same)
MAX_INPUT_POINTS = 100_000  # pen points over all strokes, before resampling
MAX_INK_POINTS = 600  # ink points after resampling pen strokes (the spacing grows past 1 working pixel)
assert MAX_INK_POINTS > 2 * MAX_STROKES  # each stroke may add 2 points to its share (align.drawing_from_strokes)
DEFAULT_TIMEOUT_S = 10.0  # a diagnosis (Python API) stops after this many seconds unless told otherwise


class DiagnosisTimeout(TimeoutError):
    """The diagnosis ran past its deadline and was stopped."""


class Deadline:
    """A point in time (``time.monotonic``) after which :meth:`check` raises :class:`DiagnosisTimeout`.

    ``Deadline(None)`` never expires; ``Deadline.at(t)`` ends at monotonic time ``t``."""

    __slots__ = ("end", "seconds")

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.end = None if seconds is None else time.monotonic() + seconds

    @classmethod
    def at(cls, end: float) -> Deadline:
        d = cls(None)
        d.end = end
        d.seconds = max(0.0, end - time.monotonic())
        return d

    def remaining(self) -> float | None:
        return None if self.end is None else self.end - time.monotonic()

    def check(self) -> None:
        if self.end is not None and time.monotonic() > self.end:
            limit = "its deadline" if self.seconds is None else f"{self.seconds:.3g} s"
            raise DiagnosisTimeout(f"the diagnosis took longer than {limit} and was stopped")


NO_DEADLINE = Deadline(None)
