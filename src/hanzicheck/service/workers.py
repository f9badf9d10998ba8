"""``hanzicheck serve --workers N``: N server processes on one listening socket (uvicorn's process supervisor).

Each process loads the model and serves requests on its own, so throughput scales with the cores while one slow
request holds one process's threads only. The settings travel to the processes as ``HANZICHECK_*`` environment
variables (``Settings.from_env``), the same ones ``uvicorn --factory hanzicheck.service.workers:app_for_worker``
reads when the service is run by another process manager.
"""

from __future__ import annotations

import os
from dataclasses import fields
from typing import Any

from .settings import ENV_PREFIX, Settings


def settings_env(settings: Settings) -> dict[str, str]:
    """``HANZICHECK_*`` variables that ``Settings.from_env`` turns back into ``settings``."""
    env = {}
    for f in fields(settings):
        value = getattr(settings, f.name)
        if f.name == "model_dir":
            env[ENV_PREFIX + "MODEL_DIR"] = "" if value is None else str(value)
        elif f.name == "cors_origins":
            env[ENV_PREFIX + "CORS_ORIGINS"] = ",".join(value)
        else:
            env[ENV_PREFIX + f.name.upper()] = str(value)
    return env


def app_for_worker() -> Any:
    """App factory run in each worker process: settings from the environment, the header deadline applied."""
    from .app import create_app
    from .server import HeaderTimeoutH11Protocol

    settings = Settings.from_env()
    HeaderTimeoutH11Protocol.header_timeout_s = settings.header_timeout_s
    return create_app(settings)


def run_workers(settings: Settings, host: str, port: int, workers: int, log_level: str = "info") -> None:
    """Serve with ``workers`` processes (uvicorn's supervisor restarts one that dies)."""
    import uvicorn

    from .server import HeaderTimeoutH11Protocol

    os.environ.update(settings_env(settings))
    uvicorn.run("hanzicheck.service.workers:app_for_worker", factory=True, host=host, port=port, workers=workers,
                log_level=log_level, timeout_graceful_shutdown=5, timeout_keep_alive=5, http=HeaderTimeoutH11Protocol)
