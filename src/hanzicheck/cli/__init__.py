"""The ``hanzicheck`` command: one verb per job. Each area registers its verbs from its own module."""

from __future__ import annotations

import sys


def build_app():
    """Build the typer app (imported lazily so the core install can print a clear hint without typer)."""
    import typer

    from . import data_cmds, demo_cmd, diagnose_cmd, eval_cmds, predict_cmds, serve_cmd, train_cmds

    app = typer.Typer(
        name="hanzicheck",
        help="Recognise and check handwritten Chinese characters (HSK1) offline.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    for module in (demo_cmd, data_cmds, train_cmds, predict_cmds, eval_cmds, diagnose_cmd, serve_cmd):
        module.register(app)
    return app


def main() -> None:
    try:
        app = build_app()
    except ModuleNotFoundError as e:  # core install without the cli extra
        print(f"hanzicheck: the command line needs {e.name!r}: pip install 'hanzicheck[cli]'", file=sys.stderr)
        raise SystemExit(2) from e
    app()
