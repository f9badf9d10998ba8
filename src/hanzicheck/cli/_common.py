"""What every verb module of the CLI shares: the one-line error exit and reading a JSON option file.

Nothing here imports typer at module level: ``hanzicheck.cli`` imports this module, and the core install (without
the cli extra) must still reach ``main``'s hint.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

MAX_JSON_BYTES = 16 * 1024 * 1024  # option files larger than this are refused before reading


def fail(message: str, prefix: str = "hanzicheck") -> NoReturn:
    """Print ``prefix: message`` on stderr as one line and exit with status 2 (a usage or input error)."""
    import typer

    print(f"{prefix}: {message}", file=sys.stderr)
    raise typer.Exit(2)


def read_json(path: Path) -> Any:
    """A JSON option file's content; ValueError with the file name and the problem (not a regular file, over
    16 MiB, unreadable, not JSON)."""
    from ..data.preprocess import read_regular_file

    raw = read_regular_file(path, MAX_JSON_BYTES)  # ValueError naming the file
    try:
        return json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from None
