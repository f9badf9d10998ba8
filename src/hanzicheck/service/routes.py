"""HTTP routes: ``/v1/classify``, ``/v1/verify``, ``/v1/diagnose``, ``/v1/chars``, ``/healthz``, ``/version`` and the
model files the web page runs in the browser (``/model/model.onnx``, ``/model/templates.json``)."""

from __future__ import annotations

import base64
import platform
import time
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from .. import __version__
from ..data.preprocess import InvalidImageError
from .errors import ApiError, invalid_image
from .inputs import model_input, read_request
from .limits import START
from .schemas import (
    MAX_TOP_K,
    CharInfo,
    ClassifyRequest,
    ClassifyResponse,
    DiagnoseRequest,
    DiagnoseResponse,
    ErrorResponse,
    Health,
    VerifyRequest,
    VerifyResponse,
    VersionInfo,
    request_body,
)
from .settings import Settings

T = TypeVar("T")
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": what} for code, what in (
        (400, "the drawing cannot be read (bad base64, not an image, no ink, bad form)"),
        (408, "the request body arrived too slowly"),
        (413, "too large (bytes, pixels, strokes or points)"),
        (415, "unsupported content type"),
        (422, "the request does not match the schema"),
        (503, "busy (too many requests in progress: refused before any work, with Retry-After) or past the "
              "request deadline; retry"),
    )}
DIAGNOSE_ERRORS = {**ERRORS,
                   422: {**ERRORS[422], "description": "the request does not match the schema, or the target has "
                         "no stroke data (error invalid_target)"},
                   503: {**ERRORS[503], "description": ERRORS[503]["description"] + "; also when the stroke data "
                         "cannot be opened"}}
TOP_K_FIELD = {"type": "integer", "minimum": 1, "maximum": MAX_TOP_K, "default": 5}
TARGET_FIELD = {"type": "string", "minLength": 1, "maxLength": 8, "required": True}

api_router = APIRouter()
model_router = APIRouter(prefix="/model", tags=["model files (for in-browser inference)"])


def deadline(request: Request) -> float:
    """The request's end-to-end deadline (``time.monotonic()``): its arrival plus ``request_timeout_s``."""
    return request.scope.get(START, time.monotonic()) + request.app.state.settings.request_timeout_s


def _timeout(settings: Settings) -> ApiError:
    return ApiError(503, "timeout", f"the request took longer than {settings.request_timeout_s:g} s; retry later",
                    headers={"Retry-After": "1"})


async def run_off_loop(request: Request, fn: Callable[[], T], limiter: anyio.CapacityLimiter | None = None) -> T:
    """Run blocking work (decoding, rendering, inference) in the worker threads, within the request's end-to-end
    deadline. Waiting for a thread (``limiter`` first, then the shared one) ends at the deadline, before any work.
    At the deadline the answer is 503 at once; the thread is left to finish, which is soon: its work is short and
    bounded (classify, verify) or checks the same deadline itself (diagnose), so no work outlives its request by
    more than one step (milliseconds)."""
    settings: Settings = request.app.state.settings
    remaining = deadline(request) - time.monotonic()
    if remaining <= 0:
        raise _timeout(settings)
    with anyio.move_on_after(remaining):
        if limiter is None:
            return await anyio.to_thread.run_sync(fn, limiter=request.app.state.limiter, abandon_on_cancel=True)
        async with limiter:
            return await anyio.to_thread.run_sync(fn, limiter=request.app.state.limiter, abandon_on_cancel=True)
    raise _timeout(settings)


@api_router.post("/v1/classify", response_model=ClassifyResponse, responses=ERRORS, tags=["recognition"],
                 openapi_extra=request_body(ClassifyRequest, {"top_k": dict(TOP_K_FIELD)}),
                 summary="Which HSK1 character is this drawing?")
async def classify(request: Request) -> dict:
    req, drawing = await read_request(request, ClassifyRequest, request.app.state.settings)

    def work() -> dict:
        try:
            x = model_input(drawing, request.app.state.settings)
            return request.app.state.recognizer.classify(x, top_k=req.top_k).to_dict()
        except InvalidImageError as e:
            raise invalid_image(e, drawing.name) from None

    return await run_off_loop(request, work)


@api_router.post("/v1/verify", response_model=VerifyResponse, responses=ERRORS, tags=["recognition"],
                 openapi_extra=request_body(VerifyRequest, {"target": dict(TARGET_FIELD)}),
                 summary="Is this drawing the target character?")
async def verify(request: Request) -> dict:
    req, drawing = await read_request(request, VerifyRequest, request.app.state.settings)

    def work() -> dict:
        try:
            x = model_input(drawing, request.app.state.settings)
            return request.app.state.recognizer.verify(x, req.target).to_dict()
        except InvalidImageError as e:
            raise invalid_image(e, drawing.name) from None

    return await run_off_loop(request, work)


@api_router.post("/v1/diagnose", response_model=DiagnoseResponse, responses=DIAGNOSE_ERRORS, tags=["recognition"],
                 openapi_extra=request_body(DiagnoseRequest, {"target": dict(TARGET_FIELD)}),
                 summary="Verify, and say which strokes of the target are missing")
async def diagnose(request: Request) -> dict:
    from .diagnosis import run_diagnosis

    req, drawing = await read_request(request, DiagnoseRequest, request.app.state.settings)
    end = deadline(request)
    return await run_off_loop(request, lambda: run_diagnosis(request.app, drawing, req.target, end),
                              limiter=request.app.state.diagnose_limiter)


@api_router.get("/v1/chars", response_model=list[CharInfo], tags=["recognition"],
                summary="The 178 HSK1 characters with their pinyin")
def chars() -> list[dict]:
    from ..data.pinyin import pinyin

    return [{"char": c, "pinyin": p} for c, p in pinyin().items()]


@api_router.get("/healthz", response_model=Health, tags=["service"])
def healthz(request: Request) -> dict:
    return {"status": "ok", "model": request.app.state.recognizer.artifacts.path.name}


@api_router.get("/version", response_model=VersionInfo, tags=["service"])
def version(request: Request) -> dict:
    import onnxruntime

    art = request.app.state.recognizer.artifacts
    meta = art.metadata
    return {"hanzicheck": __version__, "onnxruntime": onnxruntime.__version__,
            "model": {"name": art.path.name, "hanzicheck_version": meta.get("hanzicheck_version"),
                      "classes": len(art.classes), "embedding_dim": art.embedding_dim,
                      "calibrated": art.thresholds is not None, "python": platform.python_version()}}


@model_router.get("/model.onnx", response_class=FileResponse, summary="The ONNX model (for onnxruntime-web)")
def model_file(request: Request) -> FileResponse:
    return FileResponse(request.app.state.recognizer.artifacts.model_path, media_type="application/octet-stream",
                        headers={"Cache-Control": "no-cache"})


@model_router.get("/templates.json", summary="Templates, thresholds and classes (embeddings: base64 float32 LE)")
def templates(request: Request) -> JSONResponse:
    cached = getattr(request.app.state, "templates_json", None)
    if cached is None:
        rec = request.app.state.recognizer
        art = rec.artifacts
        emb = np.ascontiguousarray(art.templates, dtype="<f4")
        cached = {
            "classes": list(art.classes), "chars": list(art.chars), "dim": int(emb.shape[1]),
            "embeddings": base64.b64encode(emb.tobytes()).decode("ascii"),
            "thresholds": [rec.threshold(c) for c in art.chars],
            "confidence_threshold": art.confidence_threshold,
            # what the page still applies (temperature, unknown_bias) and what the model already has folded in
            "calibration": art.calibration.to_metadata(),
            "image_size": int(art.metadata.get("image_size", 40)),
            "verdict": art.verdict.to_metadata(),  # the verify rule's weights (inference/verdict.py)
        }
        if art.drops is not None:  # stroke-drop templates: base64 float16 LE rows, offsets per template row
            cached["drop_templates"] = base64.b64encode(np.ascontiguousarray(art.drops.rows, "<f2").tobytes()
                                                        ).decode("ascii")
            cached["drop_offsets"] = art.drops.offsets.tolist()
        request.app.state.templates_json = cached
    return JSONResponse(cached, headers={"Cache-Control": "no-cache"})
