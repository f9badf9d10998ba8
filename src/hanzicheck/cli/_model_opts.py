"""The options the recogniser verbs share (``--model``, ``--threads``, ``--json``) and loading the recogniser
they name (an artifacts problem: one line on stderr, exit 2): predict_cmds.py, eval_cmds.py and diagnose_cmd.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import fail

ModelOpt = Annotated[Path | None, typer.Option("--model", help="Artifacts folder (default: the bundled model).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON object per line instead of a table.")]
ThreadsOpt = Annotated[int, typer.Option(help="ONNX Runtime threads.", min=1)]


def load_recognizer(model: Path | None, threads: int = 1):
    from ..inference.artifacts import ArtifactsError
    from ..inference.recognizer import Recognizer

    try:
        return Recognizer.load(model, threads=threads)
    except ArtifactsError as e:
        fail(str(e))


def check_target(recognizer, target: str) -> None:
    """One line on stderr and exit 2 unless ``target`` is one of the characters ``recognizer`` checks (verify's
    and diagnose's ``--target``)."""
    known = recognizer.artifacts.char_index()
    if target not in known:
        fail(f"unknown target {target!r}: it must be one of the model's {len(known)} HSK1 characters (e.g. 我)")
