"""``/v1/diagnose``: the recogniser's verdict plus which strokes are missing (``inference.diagnose``).

The stroke data is opened on the first diagnosis (it may need the cached hanzi-writer-data download); when it is
not available the route answers 503 and the rest of the service carries on.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from fastapi import FastAPI

from ..data.preprocess import InvalidImageError
from .errors import ApiError, invalid_image
from .inputs import Submission, model_input

_lock = threading.Lock()


def stroke_db(app: FastAPI) -> Any:
    with _lock:
        if app.state.stroke_db is None:
            from ..data.strokes import StrokeDB

            try:
                app.state.stroke_db = StrokeDB.open()
            except Exception as e:  # download refused, cache unreadable: the feature is unavailable, not the request bad
                raise ApiError(503, "stroke_data_unavailable", f"stroke data cannot be opened: {e}") from None
        return app.state.stroke_db


def run_diagnosis(app: FastAPI, drawing: Submission, target: str, end: float | None = None) -> dict:
    """The diagnosis (in a worker thread), stopped at ``end`` (``time.monotonic()``; the request's deadline).

    The drawing is read first (an unreadable one is a 400 whatever the target, as ``/v1/verify``), then the Python
    API judges the target: ``invalid_target`` for one the model does not know (``diagnose_analysis``'s check, the
    one ``Recognizer.diagnose`` makes), KeyError naming a target without stroke data (422)."""
    from ..inference.budget import Deadline, DiagnosisTimeout
    from ..inference.diagnose import diagnose_analysis

    deadline = Deadline(None) if end is None else Deadline.at(end)
    try:
        subject = drawing.strokes if drawing.strokes is not None else model_input(drawing, app.state.settings)
        result, analysis = diagnose_analysis(subject, target, app.state.recognizer, stroke_db(app), deadline=deadline,
                                             name=drawing.name)
    except InvalidImageError as e:  # the one error type of unreadable, blank or too large drawings
        raise invalid_image(e, drawing.name) from None
    except KeyError as e:  # documented: a target without stroke data (StrokeDB.get's message)
        raise ApiError(422, "invalid_target", str(e.args[0]) if e.args else str(e)) from None
    except DiagnosisTimeout:
        settings = app.state.settings
        raise ApiError(503, "timeout", f"the request took longer than {settings.request_timeout_s:g} s; retry "
                       "later", headers={"Retry-After": "1"}) from None
    except ValueError as e:  # degenerate drawings the alignment cannot fit
        raise ApiError(400, "invalid_drawing", f"cannot diagnose this drawing: {e}") from None
    # /v1/verify's fields (threshold, score, probability, rank, reason …) from the verify the verdict came from,
    # then the diagnosis' own
    out = {**result.verification.to_dict(), **result.to_dict()}
    out.pop("file", None)
    out["reference_strokes"] = [] if analysis is None else _aligned_strokes(analysis)  # None: invalid_target
    return out


def _aligned_strokes(analysis: Any) -> list[list[list[float]]]:
    """The reference strokes where the alignment put them, in the drawing's own coordinates."""
    pts = analysis.alignment.apply(analysis.reference)
    sx, ox, oy = analysis.drawing.to_input
    xy = pts.astype(np.float64) * sx + np.array([ox, oy])
    labels = analysis.reference.labels
    return [(np.round(xy[labels == k], 1) + 0.0).tolist() for k in range(analysis.reference.n_strokes)]
