"""One JSON error shape for every failure: ``{"error": code, "message": what is wrong, "details": [...]}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("hanzicheck.service")


class ApiError(Exception):
    """A request the service refuses, with the HTTP status and a message that says how to fix it."""

    def __init__(self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details
        self.headers = headers


def error_response(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse(body, status_code=status, headers=headers)


def validation_details(e: ValidationError | RequestValidationError) -> list[dict[str, Any]]:
    errors = e.errors(include_url=False, include_context=False, include_input=False) \
        if isinstance(e, ValidationError) else e.errors()
    return [{"loc": [str(p) for p in err.get("loc", ())], "msg": str(err.get("msg", "")),
             "type": str(err.get("type", ""))} for err in errors]


def validation_error(e: ValidationError | RequestValidationError) -> ApiError:
    details = validation_details(e)
    first = details[0] if details else {"loc": [], "msg": "invalid request"}
    where = ".".join(first["loc"]) or "body"
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return ApiError(422, "invalid_request", f"{where}: {first['msg']}{more}", details)


def invalid_image(e: Exception, name: str) -> ApiError:
    """400 ``invalid_image`` for a drawing that cannot be read or holds no ink, its message naming the drawing
    (``name``: "the base64 image", "the uploaded file 'x.png'" …): the decoder names it already; the ink check,
    which sees the decoded pixels only, does not."""
    message = str(e)
    return ApiError(400, "invalid_image", message if message.startswith(name) else f"{name}: {message}")


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, e: ApiError) -> JSONResponse:
        return error_response(e.status, e.code, e.message, e.details, e.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, e: RequestValidationError) -> JSONResponse:
        err = validation_error(e)
        return error_response(err.status, err.code, err.message, err.details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, e: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(e.status_code, "http_error")
        return error_response(e.status_code, code, str(e.detail), headers=getattr(e, "headers", None))

    @app.exception_handler(Exception)
    async def _internal(request: Request, e: Exception) -> JSONResponse:  # a bug, never user input
        log.exception("internal error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "internal error; see the server log")
