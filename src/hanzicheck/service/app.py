"""The app factory: ``create_app(settings)`` loads the model once and wires routes, limits and the web page.

Run it with ``hanzicheck serve`` or any ASGI server (``uvicorn --factory hanzicheck.service.app:app_from_env``).
"""

from __future__ import annotations

import mimetypes
from importlib import resources
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from .. import __version__
from .errors import install_handlers
from .limits import AdmissionMiddleware, BodyLimitMiddleware
from .routes import api_router, model_router
from .settings import Settings


def static_dir() -> Path:
    """The web page's files, shipped inside the package."""
    return Path(str(resources.files("hanzicheck.service") / "static"))


def create_app(settings: Settings | None = None, recognizer: Any = None) -> FastAPI:
    """Build the service. ``recognizer``: an already loaded ``Recognizer`` (else loaded from ``settings.model_dir``;
    ``ArtifactsError`` if the folder is not usable)."""
    settings = settings or Settings()
    # Module scripts and WebAssembly need their MIME types; some systems' tables lack them.
    mimetypes.add_type("text/javascript", ".mjs")
    mimetypes.add_type("application/wasm", ".wasm")
    if recognizer is None:
        from ..inference.recognizer import Recognizer

        recognizer = Recognizer.load(settings.model_dir, threads=settings.onnx_threads)
    app = FastAPI(
        title="hanzicheck",
        version=__version__,
        description="Recognise and verify handwritten HSK1 Chinese characters. The practice page is at `/`.",
        docs_url=None,  # served below from the package's own copy of Swagger UI, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.recognizer = recognizer
    # Inference threads: enough to keep the cores busy, few enough that a flood queues instead of piling up.
    app.state.limiter = anyio.CapacityLimiter(settings.inference_threads)
    # diagnoses (the costly requests) take at most this many of those threads; classify/verify keep the rest
    app.state.diagnose_limiter = anyio.CapacityLimiter(min(settings.diagnose_threads, settings.inference_threads))
    app.state.stroke_db = None
    install_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_upload_bytes,
                       timeout_s=settings.request_timeout_s)
    every = ("inference requests", settings.max_queue)
    app.add_middleware(AdmissionMiddleware, limits={
        "/v1/classify": [every], "/v1/verify": [every],
        "/v1/diagnose": [every, ("diagnoses", settings.max_diagnose_queue)]})
    if settings.cors_origins:  # outermost: refusals (413, 503) carry the CORS headers too
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["content-type"], max_age=600)
    app.include_router(api_router)
    app.include_router(model_router)
    static = static_dir()
    app.mount("/static", StaticFiles(directory=static), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(static / "index.html", media_type="text/html")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="hanzicheck API",
                                   swagger_js_url="static/docs/swagger-ui-bundle.js",
                                   swagger_css_url="static/docs/swagger-ui.css", swagger_favicon_url="data:,")

    return app


def app_from_env() -> FastAPI:
    """Factory for ASGI servers: settings from ``HANZICHECK_*`` environment variables."""
    return create_app(Settings.from_env())
