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
    try:
        # usage errors come back here (not typer's boxed panel), to be said in one line naming the option
        code = app(standalone_mode=False, prog_name="hanzicheck")
    except Exception as e:
        kinds = {c.__name__ for c in type(e).__mro__}  # click's own classes, or the copy a newer typer vendors
        if "NoArgsIsHelpError" in kinds:
            app(prog_name="hanzicheck")  # a bare verb group: typer prints its help (exit 2)
        if "Abort" in kinds:
            print("hanzicheck: aborted", file=sys.stderr)
            raise SystemExit(1) from None
        if "UsageError" not in kinds:
            raise
        ctx = getattr(e, "ctx", None)
        where = ctx.command_path if ctx is not None else "hanzicheck"
        print(f"{where}: {e.format_message()} (see {where} --help)", file=sys.stderr)
        raise SystemExit(e.exit_code) from None
    raise SystemExit(code if isinstance(code, int) else 0)
