"""CLI verb ``serve``: the HTTP API and the web practice page (FastAPI on uvicorn)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add this module's verbs to the app."""

    @app.command("serve")
    def serve(
        host: Annotated[str, typer.Option(help="Interface to listen on (0.0.0.0 to expose it on the network).")]
        = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.", min=0, max=65535)] = 8000,
        model: Annotated[Path | None, typer.Option("--model", help="Artifacts folder (default: the bundled model).")]
        = None,
        timeout: Annotated[float, typer.Option(help="Seconds a request may take before it gets 503.", min=0.1)]
        = 10.0,
        max_upload_mb: Annotated[float, typer.Option(help="Largest request body, in MiB.", min=0.01)] = 4.0,
        threads: Annotated[int, typer.Option(help="Inferences running at once.", min=1)] = 4,
        log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    ) -> None:
        """Serve the API (/v1/classify, /v1/verify, /v1/diagnose, /docs) and the practice page at /."""
        try:
            import uvicorn

            from ..inference.artifacts import ArtifactsError
            from ..service.app import create_app
            from ..service.settings import Settings
        except ModuleNotFoundError as e:
            print(f"hanzicheck: serve needs {e.name!r}: pip install 'hanzicheck[serve]'", file=sys.stderr)
            raise typer.Exit(2) from e
        settings = Settings(model_dir=model, request_timeout_s=timeout,
                            max_upload_bytes=int(max_upload_mb * 1024 * 1024), inference_threads=threads)
        try:
            api = create_app(settings)
        except ArtifactsError as e:
            print(f"hanzicheck: {e}", file=sys.stderr)
            raise typer.Exit(2) from e
        print(f"hanzicheck: serving {api.state.recognizer.artifacts.path} on http://{host}:{port}/ "
              f"(API docs at /docs)", file=sys.stderr)
        uvicorn.run(api, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=5)
