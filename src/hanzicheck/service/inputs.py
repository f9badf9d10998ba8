"""Turning a request body (JSON with a base64 image or strokes, or a multipart upload) into a drawing.

Every check that can fail on user input lives here and raises ``ApiError`` (4xx) naming the problem.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from fastapi import Request
from PIL import Image
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from .errors import ApiError, validation_error
from .schemas import DrawingInput
from .settings import Settings

M = TypeVar("M", bound=DrawingInput)
FILE_FIELDS = ("image", "file")
# files a multipart form may hold before parsing stops: more than the one drawing, so that a second file is refused
# by name (422) rather than by the parser's limit
MAX_FORM_FILES = 8
PARSE_IN_THREAD_BYTES = 64 * 1024  # larger JSON bodies are parsed in a worker thread: the event loop stays free


@dataclass
class Submission:
    """Exactly one of ``image`` (encoded bytes) or ``strokes`` (float arrays (n, 2), y down)."""

    image: bytes | None = None
    strokes: list[np.ndarray] | None = None
    name: str = "the drawing"  # what error messages call it: "the base64 image", "the uploaded file 'x.png'"


async def read_request(request: Request, model: type[M], settings: Settings) -> tuple[M, Submission]:
    """Parse and check the body (JSON or multipart) into the route's model and the drawing it holds."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json" or ctype.endswith("+json"):
        body = await request.body()
        if len(body) > PARSE_IN_THREAD_BYTES:  # e.g. 20,000 stroke points: tens of ms of validation
            import anyio

            return await anyio.to_thread.run_sync(_parse_json, model, body, settings)
        return _parse_json(model, body, settings)
    if ctype == "multipart/form-data":
        return await _read_multipart(request, model)
    raise ApiError(415, "unsupported_media_type",
                   f"content type {ctype or '(none)'!r} is not accepted: send application/json "
                   "({\"image\": base64} or {\"strokes\": [[[x, y], ...]]}) or multipart/form-data with an 'image' file")


def _parse_json(model: type[M], body: bytes, settings: Settings) -> tuple[M, Submission]:
    try:
        req = model.model_validate_json(body or b"null")
    except ValidationError as e:
        raise validation_error(e) from None
    if req.image is not None:
        return req, Submission(image=decode_base64(req.image), name="the base64 image")
    return req, Submission(strokes=check_strokes(req.strokes or [], settings), name="the strokes")


async def _read_multipart(request: Request, model: type[M]) -> tuple[M, Submission]:
    try:
        form = await request.form(max_files=MAX_FORM_FILES, max_fields=16)
    except Exception as e:  # starlette raises MultiPartException / HTTPException / assertion errors on bad forms
        raise ApiError(400, "invalid_multipart", f"cannot parse the multipart form: {e}") from None
    try:
        files = [k for k, v in form.multi_items() if isinstance(v, UploadFile)]
        if len(files) > 1:
            raise ApiError(422, "invalid_request", f"multipart form: {len(files)} files "
                           f"({', '.join(repr(k) for k in files)}); send one drawing, as a file field named 'image'")
        uploads = [form[k] for k in FILE_FIELDS if isinstance(form.get(k), UploadFile)]
        if not uploads:
            raise ApiError(422, "invalid_request", "multipart form: attach the drawing as a file field named 'image'")
        data = await uploads[0].read()
        fields: dict[str, Any] = {k: v for k, v in form.multi_items() if isinstance(v, str) and k not in FILE_FIELDS}
    finally:
        await form.close()
    try:
        req = model.model_validate({**fields, "image": ""})
    except ValidationError as e:
        raise validation_error(e) from None
    filename = uploads[0].filename
    name = f"the uploaded file {filename[:100]!r}" if filename else "the uploaded file"
    return req, Submission(image=check_bytes(data, name), name=name)


def decode_base64(text: str) -> bytes:
    """base64 (standard or URL-safe alphabet, whitespace allowed, optional ``data:...;base64,`` prefix) → bytes."""
    payload = text.strip()
    if payload.startswith("data:"):
        head, sep, payload = payload.partition(",")
        if not sep or not head.endswith(";base64"):
            raise ApiError(400, "invalid_base64", "image: a data: URL must be of the form data:<type>;base64,<data>")
    payload = "".join(payload.split()).replace("-", "+").replace("_", "/")
    payload += "=" * (-len(payload) % 4)
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ApiError(400, "invalid_base64", f"image is not valid base64 ({e}); send the encoded file's bytes "
                       "in base64") from None
    return check_bytes(data, "the base64 image")


def check_bytes(data: bytes, what: str) -> bytes:
    if not data:
        raise ApiError(400, "invalid_image", f"{what} is empty; send a PNG/JPEG/BMP/WebP image")
    return data


def check_pixels(data: bytes, max_pixels: int) -> None:
    """Refuse images over the pixel limit from their header, before anything is decoded."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with Image.open(io.BytesIO(data)) as im:
                width, height = im.size
        except Image.DecompressionBombError as e:
            raise ApiError(413, "too_many_pixels", f"the image is far too large: {e}") from None
        except Exception:  # not an image: preprocess() says so with a precise message
            return
    if width * height > max_pixels:
        raise ApiError(413, "too_many_pixels", f"the image is {width}×{height} = {width * height:,} pixels; the "
                       f"limit is {max_pixels:,}: scale it down (the model sees 40×40 anyway)")


def check_strokes(strokes: list[list[list[float]]], settings: Settings) -> list[np.ndarray]:
    if len(strokes) > settings.max_strokes:
        raise ApiError(413, "too_many_strokes", f"{len(strokes)} strokes; the limit is {settings.max_strokes}")
    points = sum(len(s) for s in strokes)
    if points > settings.max_points:
        raise ApiError(413, "too_many_points", f"{points} points over all strokes; the limit is "
                       f"{settings.max_points}: thin the pen trajectory out")
    return [np.asarray(s, np.float64).reshape(-1, 2) for s in strokes]


def model_input(drawing: Submission, settings: Settings) -> Any:
    """What the recogniser takes: the image decoded once (``preprocess.to_gray``, errors naming the upload), or
    the strokes rendered; a uint8 gray array either way."""
    if drawing.image is not None:
        from ..data.preprocess import to_gray

        check_pixels(drawing.image, settings.max_pixels)
        return to_gray(drawing.image, drawing.name)
    from ..data.render import render_strokes

    try:
        return render_strokes(drawing.strokes or [], size=settings.render_size)
    except ValueError as e:
        raise ApiError(400, "invalid_strokes", f"strokes: {e}") from None
