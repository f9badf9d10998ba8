"""CLI verb ``diagnose``: which strokes of the target are missing from a drawing (image or pen-stroke JSON)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn

import typer

from ._common import fail
from ._model_opts import ModelOpt, check_target, load_recognizer


def _fail(message: str) -> NoReturn:
    fail(message, prefix="hanzicheck diagnose")


MAX_STROKES_JSON_BYTES = 16 * 1024 * 1024  # a pen-stroke file larger than this is refused before reading


def load_strokes_json(path: Path) -> list:
    """A pen-stroke file: ``[[[x, y], ...], ...]`` or ``{"strokes": [...]}`` (x, y with y down)."""
    from ..data.preprocess import read_regular_file

    raw = read_regular_file(path, MAX_STROKES_JSON_BYTES)  # ValueError naming the file
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ValueError(f"cannot read strokes from {path}: {e}") from e
    strokes = data.get("strokes") if isinstance(data, dict) else data
    if not isinstance(strokes, list) or not strokes:
        raise ValueError(f"{path}: expected a list of strokes, each a list of [x, y] points (or {{'strokes': ...}})")
    return strokes


def diagnose(
    path: Path = typer.Argument(..., help="Image of the drawing (PNG/JPEG/...), or a .json file of pen "
                               "strokes ([[[x, y], ...], ...], y down)."),
    target: str = typer.Option(..., "--target", "-t", help="The character the learner meant to write (one of "
                               "the model's characters)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    overlay: Path | None = typer.Option(None, "--overlay", help="Write a PNG (the name must end in .png): "
                                        "drawing + reference strokes coloured by score (missing in red)."),
    model: ModelOpt = None,
) -> None:
    """Say which strokes of TARGET are missing (standard stroke order) and score every stroke; for pen strokes,
    also which were drawn out of order or backwards (a second line). Strokes are counted from 1 in these lines,
    from 0 in --json, as verify --explain counts them.

    The verdict and similarity are the model's verify (the bundled model unless --model), as in the Python API
    and the service; a stroke found missing makes the verdict incomplete_or_unclear. Stroke order and direction
    are advice: they never change the verdict."""
    from ..data.strokes import default_db
    from ..inference.align import decode
    from ..inference.diagnose import DiagnosisTimeout, InkError, diagnose_analysis

    target = target.strip()
    if overlay is not None and overlay.is_dir():
        _fail(f"--overlay {overlay}: a folder; give the PNG file to write (e.g. {overlay / 'overlay.png'})")
    if overlay is not None and overlay.suffix.lower() != ".png":
        _fail(f"--overlay {overlay}: the overlay is a PNG; give a file name ending in .png")
    recognizer = load_recognizer(model)
    check_target(recognizer, target)  # verify's line for a target the model does not know
    db = default_db()
    try:  # a model of characters the stroke data lacks: StrokeDB's own line, as the API and the service give it
        db.get(target)
    except KeyError as e:
        _fail(str(e.args[0]) if e.args else str(e))
    if path.is_dir():
        _fail(f"{path}: a folder; give one image or a .json file of pen strokes")
    if not path.exists():
        _fail(f"{path}: no such file")
    try:  # read and decode once (regular files only, size and pixel caps): the overlay reuses it
        drawing = load_strokes_json(path) if path.suffix.lower() == ".json" else decode(path)
    except ValueError as e:  # InkError (preprocess's InvalidImageError) is one
        _fail(str(e))
    try:  # strokes are checked here (align.stroke_arrays): a malformed point is named
        result, analysis = diagnose_analysis(drawing, target, recognizer=recognizer, db=db, name=str(path))
    except (InkError, KeyError, DiagnosisTimeout) as e:
        message = str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)
        _fail(message if message.startswith(str(path)) else f"{path}: {message}")
    result.file = str(path)
    if overlay is not None:
        from ..inference.diagnose_overlay import save_overlay

        try:
            save_overlay(drawing, analysis, overlay)
        except OSError as e:
            _fail(f"--overlay {overlay}: cannot write it ({e.strerror or e})")
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    missing = ", ".join(str(k + 1) for k in result.missing_strokes) or "none"
    scores = " ".join(f"{s:.2f}" for s in result.stroke_scores)
    print(f"{path}: {target} {result.verdict} (similarity {result.similarity:.3f}); missing strokes: "
          f"{missing}; stroke scores: {scores}"
          + (f"; extra ink at {result.extra_ink}" if result.extra_ink else ""))
    notes = result.stroke_order.notes() if result.stroke_order is not None else []
    if notes:
        print("stroke order: " + "; ".join(notes))


def register(app: typer.Typer) -> None:
    """Add this module's verbs to the app."""
    app.command()(diagnose)
