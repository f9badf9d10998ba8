"""CLI verbs ``classify`` and ``verify``: the recogniser on image files (calibrate and evaluate: eval_cmds.py).

JSON lines on stdout with ``--json``; errors: one line on stderr and exit status 2. A bad image inside a folder gets
its own ``{"file", "error"}`` line and the rest carries on; a bad file named on the command line also makes the
exit status 2 (after the others are done).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ..engine.progress import progress
from ._common import fail as _fail
from ._model_opts import JsonOpt, ModelOpt, ThreadsOpt, check_target, load_recognizer

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff")  # preprocess' ALLOWED_FORMATS
IMAGE_TYPES = "/".join(e.lstrip(".") for e in IMAGE_EXTS)  # for the help
PROGRESS_MIN = 50  # show a progress bar from this many images on


def collect_images(paths: list[Path]) -> list[tuple[Path, bool]]:
    """(image file, named explicitly) for each PATH: a file, or a folder's images (sorted by name)."""
    out: list[tuple[Path, bool]] = []
    for p in paths:
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_EXTS)
            if not files:
                _fail(f"{p}: no images ({', '.join(IMAGE_EXTS)}) in this folder")
            out += [(f, False) for f in files]
        elif p.exists():
            out.append((p, True))
        else:
            _fail(f"{p}: no such file or folder")
    return out


def _answers(results: list, files: list[Path], extra: list[dict[str, Any]] | None = None
             ) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """One row per file from a ``*_many`` answer (``extra[i]``: fields an unreadable file's row also gets), and
    {index: error} of the unreadable ones."""
    from ..inference.results import ItemError

    rows, errors = [], {}
    for i, (f, r) in enumerate(zip(files, results, strict=True)):
        if isinstance(r, ItemError):
            errors[i] = r.error
            rows.append({"file": str(f), **(extra[i] if extra else {}), "error": r.error})
        else:
            rows.append({"file": str(f), **r.to_dict()})
    return rows, errors


def _emit(rows: list[dict[str, Any]], json_out: bool, columns: list[str], title: str) -> None:
    """JSON lines, or a table followed by the unreadable files' errors; no table when no image could be read
    (``_finish``'s one line on stderr then says it all)."""
    if json_out:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    if all("error" in row for row in rows):
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for c in columns:
        table.add_column(c, justify="right" if c in ("confidence", "similarity", "score", "threshold") else "left",
                         overflow="fold")
    names = [Path(r["file"]).name for r in rows]
    short = len(set(names)) == len(names)  # file names alone when they are unambiguous: the table stays narrow
    failed = []
    for row in rows:
        if "error" in row:
            failed.append(row)
            continue
        cells = []
        for c in columns:
            v = row.get(c)
            if c == "file" and short:
                v = Path(v).name
            elif c == "top_k":
                v = "  ".join(f"{ch} {p:.2f}" for ch, p in v)
            elif isinstance(v, float):
                v = f"{v:.3f}"
            elif c == "verdict":
                v = {"correct": "[green]correct[/]", "invalid_target": "[yellow]invalid_target[/]"}.get(v, f"[red]{v}[/]")
            cells.append("—" if v is None else str(v))
        table.add_row(*cells)
    console = Console()
    console.print(table)
    for row in failed:
        console.print(f"[red]{row['error']}[/]", highlight=False)


def classify(
    paths: Annotated[list[Path], typer.Argument(help=f"Image files or folders ({IMAGE_TYPES}).")],
    top_k: Annotated[int, typer.Option("--top-k", min=1, help="Most likely classes to list.")] = 5,
    json_out: JsonOpt = False,
    model: ModelOpt = None,
    threads: ThreadsOpt = 1,
) -> None:
    """Recognise the handwritten character in each image (Unknown when unsure)."""
    items = collect_images(paths)
    rec = load_recognizer(model, threads)
    files = [f for f, _ in items]
    with progress(len(files), "reading images", not json_out, minimum=PROGRESS_MIN) as advance:
        rows, errors = _answers(rec.classify_many(files, top_k, on_read=advance), files)
    _emit(rows, json_out, ["file", "char", "confidence", "top_k"], "classify")
    _finish(items, errors)


def _finish(items: list[tuple[Path, bool]], errors: dict[int, str]) -> None:
    """Exit 2 when an image named on the command line failed, or when no image at all could be read."""
    if items and len(errors) == len(items):
        first = min(errors)
        _fail(f"no image could be read: {errors[first]}"
              + (f" (and {len(errors) - 1} more unreadable images)" if len(errors) > 1 else ""))
    named = [i for i in errors if items[i][1]]
    if named:
        first = named[0]
        _fail(errors[first] + (f" (and {len(named) - 1} more unreadable images)" if len(named) > 1 else ""))


def read_pairs(csv_path: Path) -> list[tuple[Path, str]]:
    """(image path, target) rows of a ``file,target`` CSV; files relative to the CSV's folder."""
    try:
        with csv_path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            fields = [f.strip() for f in reader.fieldnames or []]
            if "file" not in fields or "target" not in fields:
                _fail(f"{csv_path}: needs columns 'file' and 'target', has {fields}")
            rows = [{(k or "").strip(): (v or "").strip() for k, v in r.items()} for r in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        _fail(f"{csv_path}: cannot read the CSV ({e})")
    if not rows:
        _fail(f"{csv_path}: no pairs")
    return [(csv_path.parent / r["file"], r["target"]) for r in rows]


def verify(
    paths: Annotated[list[Path] | None, typer.Argument(help="Image files or folders, all with --target.")] = None,
    target: Annotated[str | None, typer.Option("--target", "-t", help="The character the images should be (one of "
                                                                      "the model's HSK1 characters).")] = None,
    pairs: Annotated[Path | None, typer.Option("--pairs", help="CSV with columns file,target (paths relative "
                                                               "to the CSV) instead of PATH/--target; a row whose "
                                                               "target the model does not know gets the verdict "
                                                               "invalid_target.")] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Say why each image was refused (a likelier "
                                                            "character, a missing stroke, too far from the "
                                                            "template); refused images also get the stroke "
                                                            "diagnosis (~50 ms each).")] = False,
    json_out: JsonOpt = False,
    model: ModelOpt = None,
    threads: ThreadsOpt = 1,
) -> None:
    """Check that each image is the target character: correct or incomplete_or_unclear (with --pairs, a row whose
    target the model does not know: invalid_target).

    The verdict is one rule (inference/verdict.py): the similarity to the target's template, moved by the
    classifier's probability of the target and by any stroke that looks missing, against a calibrated threshold."""
    if pairs is not None:
        if paths or target is not None:
            _fail("give either --pairs CSV or PATH... --target CHAR, not both")
        if not pairs.is_file():
            _fail(f"{pairs}: " + ("not a regular file" if pairs.exists() else "no such file"))
        named = read_pairs(pairs)
        items = [(f, True) for f, _ in named]
        targets = [t for _, t in named]
    else:
        if not paths:
            _fail("give PATH... --target CHAR, or --pairs CSV")
        target = (target or "").strip()
        if not target:
            _fail("--target CHAR is required with PATH (the character the images should be)")
        items = collect_images(paths)
        targets = [target] * len(items)
    rec = load_recognizer(model, threads)
    if pairs is None:  # a pairs row gets invalid_target instead
        check_target(rec, target)
    files = [f for f, _ in items]
    with progress(len(files), "reading images", not json_out, minimum=PROGRESS_MIN) as advance:
        results = rec.verify_many(files, targets, on_read=advance)
    rows, errors = _answers(results, files, [{"target": t} for t in targets])
    if explain:
        for i, row in enumerate(rows):
            if i not in errors:
                row.update(_explain(rec, files[i], results[i]))
    _emit(rows, json_out, ["file", "target", "verdict", "score", "threshold"] + (["why"] if explain else []),
          "verify")
    _finish(items, errors)


def _explain(rec, file: Path, result) -> dict[str, Any]:
    """``why``: the verdict in a sentence (strokes counted from 1, as a learner counts them); a refused image not put
    down to another character also gets the stroke diagnosis, whose missing strokes (``diagnosis_missing_strokes``,
    0-based like ``missing_stroke``) are added after the verdict's own reason, which they never replace."""
    why = result.explanation()
    if result.verdict != "incomplete_or_unclear" or result.reason == "other_character":
        return {"why": why}
    try:
        missing = list(rec.diagnose(file, result.target).missing_strokes)
    except (KeyError, ValueError, OSError):  # no stroke data for the target, or a drawing it cannot align
        return {"why": why}
    if missing:
        names = ", ".join(str(k + 1) for k in missing)
        why = f"{why}; the stroke diagnosis finds stroke{'s' if len(missing) > 1 else ''} {names} missing"
    return {"why": why, "diagnosis_missing_strokes": missing}


def register(app: typer.Typer) -> None:
    """Add this module's verbs to the app."""
    app.command()(classify)
    app.command()(verify)
