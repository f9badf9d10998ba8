"""The one progress bar (the CLI's verbs and the engine's calibration, evaluation, drop templates): rich on
stderr, on a terminal only. It lives in engine/ because the engine needs it and must not import cli/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress(total: int | None, what: str, enabled: bool = True, minimum: int = 0) -> Iterator[Callable[[int], None]]:
    """``advance(n)`` for a rich progress bar on stderr, shown on a terminal only and for jobs of at least
    ``minimum`` steps (``total`` None: a count of unknown end, always shown)."""
    try:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    except ImportError:
        enabled = False
    if not enabled or (total is not None and total < minimum) or not Console(stderr=True).is_terminal:
        yield lambda n: None
        return
    with Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(what, total=total)
        yield lambda n: bar.advance(task, n)
