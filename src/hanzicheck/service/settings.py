"""Service settings: model folder and the limits that keep one request from hurting the others.

Built explicitly (``Settings(...)`` or ``Settings.from_env()``) and handed to ``create_app``; nothing is read at
import time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

ENV_PREFIX = "HANZICHECK_"


@dataclass(frozen=True)
class Settings:
    """``model_dir``: an artifacts folder (None = the bundled model). Limits apply per request."""

    model_dir: Path | None = None
    max_upload_bytes: int = 4 * 1024 * 1024  # whole request body (multipart or JSON)
    max_pixels: int = 16_000_000  # width × height of an uploaded image, checked before decoding
    max_strokes: int = 200  # strokes in a JSON ``strokes`` drawing
    max_points: int = 20_000  # points over all strokes
    request_timeout_s: float = 10.0  # end to end, from the request's arrival: past it the request gets 503
    render_size: int = 64  # side of the image strokes are rendered to (render_strokes)
    onnx_threads: int = 1  # ONNX Runtime intra-op threads per inference
    inference_threads: int = 4  # inferences running at once (the rest wait their turn)
    diagnose_threads: int = 2  # diagnoses running at once (within inference_threads: classify keeps the rest)
    max_queue: int = 1000  # inference requests admitted at once (running or waiting); more get 503 at once
    max_diagnose_queue: int = 64  # diagnoses admitted at once (running or waiting); more get 503 at once
    header_timeout_s: float = 10.0  # a connection must send a request's headers within this (hanzicheck serve)
    cors_origins: tuple[str, ...] = ()  # origins allowed to call the API from a browser (CORS); none by default

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        """Defaults, then ``HANZICHECK_<FIELD>`` environment variables (e.g. HANZICHECK_MODEL_DIR), then overrides."""
        values: dict = {}
        for f in fields(cls):
            raw = os.environ.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            try:
                values[f.name] = _parse(f.name, raw)
            except ValueError as e:
                raise ValueError(f"{ENV_PREFIX}{f.name.upper()}={raw!r}: {e}") from e
        return replace(cls(**values), **overrides)


def _parse(name: str, raw: str):
    if name == "model_dir":
        return Path(raw) if raw else None
    if name == "cors_origins":  # comma-separated; "*" allows every origin
        return tuple(o.strip() for o in raw.split(",") if o.strip())
    if name in ("request_timeout_s", "header_timeout_s"):
        value = float(raw)
    else:
        value = int(raw)
    if value <= 0:
        raise ValueError("must be positive")
    return value
