"""CLI verb ``serve``: the HTTP API and the web practice page (FastAPI on uvicorn)."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ._common import fail


class LogLevel(str, Enum):
    """uvicorn's log levels (``uvicorn.config.LOG_LEVELS``): another value is a usage error, not uvicorn's KeyError."""

    critical = "critical"
    error = "error"
    warning = "warning"
    info = "info"
    debug = "debug"
    trace = "trace"


def check_address(host: str, port: int) -> None:
    """Fail (one line naming ``host:port``, exit 2) unless a listening socket can be bound there: bound the way
    uvicorn binds it (SO_REUSEADDR), then closed, before uvicorn starts and logs its own error."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except OSError as e:  # in use, not an address of this machine, a name that does not resolve, a privileged port
        fail(f"cannot listen on {host}:{port}: {e.strerror or e}")


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
    header_timeout: Annotated[float, typer.Option(help="Seconds a connection has to send a request's headers "
                                                       "before it is closed (slow clients).", min=0.1)] = 10.0,
    cors_origin: Annotated[list[str], typer.Option("--cors-origin", help="An origin allowed to call the API "
                                                   "from a browser page, e.g. https://app.example.org "
                                                   "(repeatable; default: none).")] = [],
    workers: Annotated[int, typer.Option(help="Server processes, each with its own copy of the model (memory "
                                           "per process: see the README).", min=1)] = 1,
    log_level: Annotated[LogLevel, typer.Option(help="uvicorn log level.")] = LogLevel.info,
) -> None:
    """Serve the API (/v1/classify, /v1/verify, /v1/diagnose, /docs) and the practice page at /."""
    try:
        from ..inference.artifacts import ArtifactsError
        from ..service.app import create_app
        from ..service.server import run
        from ..service.settings import Settings
    except ModuleNotFoundError as e:
        print(f"hanzicheck: serve needs {e.name!r}: pip install 'hanzicheck[serve]'", file=sys.stderr)
        raise typer.Exit(2) from e
    settings = Settings(model_dir=model, request_timeout_s=timeout,
                        max_upload_bytes=int(max_upload_mb * 1024 * 1024), inference_threads=threads,
                        header_timeout_s=header_timeout,
                        cors_origins=tuple(o.strip() for o in cors_origin if o.strip()))
    try:
        api = create_app(settings)
    except ArtifactsError as e:
        print(f"hanzicheck: {e}", file=sys.stderr)
        raise typer.Exit(2) from e
    check_address(host, port)
    print(f"hanzicheck: serving {api.state.recognizer.artifacts.path} on http://{host}:{port}/ "
          f"(API docs at /docs)" + (f" with {workers} processes" if workers > 1 else ""), file=sys.stderr)
    if workers > 1:  # the model loaded above only checked the folder; each process loads its own
        from ..service.workers import run_workers

        del api
        run_workers(settings, host, port, workers, log_level.value)
    else:
        run(api, host, port, settings.header_timeout_s, log_level.value)


def register(app: typer.Typer) -> None:
    """Add this module's verbs to the app."""
    app.command()(serve)
