"""CLI verbs ``data inspect`` (what a source holds) and ``data preview`` (a contact sheet to look at)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ._common import fail as _fail


def _named(path: str, e: Exception) -> str:
    """One line naming the source: readers' messages already start with it; others get it in front."""
    message = str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)
    return message if str(path) in message else f"{path}: {message}"


def _summarize_with_progress(path: str, json_out: bool) -> dict:
    """Summarise with a running count on stderr (shown only on a terminal)."""
    from ..data.formats.registry import summarize
    from ..engine.progress import progress

    with progress(None, f"reading {path}", not json_out) as advance:
        done = [0]

        def read(n: int) -> None:  # summarize reports the samples read so far; the bar takes steps
            advance(n - done[0])
            done[0] = n

        return summarize(path, on_progress=read)


def _print_summary(summary: dict, top: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]format[/] {summary['format']}   [bold]samples[/] {summary['samples']:,}   "
                  f"[bold]classes[/] {summary['classes']:,}   [bold]writers[/] {summary['writers']:,}")
    counts = list(summary["counts"].items())
    console.print(f"samples per class ({'all' if len(counts) <= top else f'top {top} of {len(counts):,}'}):")
    table = Table()
    table.add_column("label")
    table.add_column("code point")
    table.add_column("samples", justify="right")
    for label, count in counts[:top]:
        table.add_row(label, " ".join(f"U+{ord(c):04X}" for c in label), f"{count:,}")
    console.print(table)
    if counts:
        values = [c for _, c in counts]
        console.print(f"per class: min {min(values):,}, max {max(values):,}, mean {sum(values) / len(values):,.1f}")


def inspect(
    path: Annotated[str, typer.Argument(help="A .gnt/.pot file, folder or .zip; EMNIST folder or images file; "
                                             ".npz; a folder with labels.csv; or 'strokes'.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
    top: Annotated[int, typer.Option(min=0, help="Classes listed in the table (JSON always has all).")] = 50,
) -> None:
    """Format, samples, classes, writers and per-class counts of a data source."""
    import zipfile

    try:
        summary = _summarize_with_progress(path, json_out)
    except (OSError, ValueError, KeyError, RuntimeError, EOFError, zipfile.BadZipFile) as e:
        _fail(_named(path, e))  # missing path, bad or corrupt format, no stroke data
    if json_out:
        typer.echo(json.dumps(summary, ensure_ascii=False))
    else:
        _print_summary(summary, top)


def preview(
    source: Annotated[str, typer.Argument(help="'synth' (the synthesiser), 'strokes', or a path any reader "
                                               "takes.")] = "synth",
    out: Annotated[Path, typer.Option("--out", "-o", help="Image file to write: .png (or .jpg, .webp, .gif, .bmp, "
                                                          ".tiff).")] = Path("sheet.png"),
    n: Annotated[int, typer.Option("--n", help="Number of samples.")] = 100,
    chars: Annotated[str, typer.Option(help="Only these characters (e.g. 我你好).")] = "",
    seed: Annotated[int, typer.Option(help="Random seed (which samples; synth variation).")] = 0,
    model_view: Annotated[bool, typer.Option("--model-view", help="Also draw each sample's 40x40 model "
                                                                  "input beside it.")] = False,
    cols: Annotated[int, typer.Option(min=0, help="Columns (0 = about square).")] = 0,
    force: Annotated[bool, typer.Option(help="Replace the image file already at --out.")] = False,
) -> None:
    """Draw a contact sheet (samples with their labels) of any source into a PNG (or another image file)."""
    from ..data.preview import SheetWriteError, make_sheet

    if n < 1:
        _fail(f"--n must be at least 1, got {n}")
    _check_sheet_path(out)
    if out.exists() and not force:
        _fail(f"--out {out} already exists: replace it with --force, or give another file")
    import zipfile

    try:
        path = make_sheet(source, out, n=n, chars=chars, seed=seed, model_view=model_view, cols=cols)
    except SheetWriteError as e:
        _fail(f"--out {e}")
    except (OSError, ValueError, KeyError, RuntimeError, EOFError, zipfile.BadZipFile) as e:
        _fail(_named(source, e))
    typer.echo(str(path))


def _check_sheet_path(out: Path) -> None:
    """--out must name an image file (an extension in SHEET_FORMATS) in a folder, or where one can be made."""
    from ..data.preview import sheet_format
    from ..engine.run_folder import file_in_the_way

    if out.is_dir():
        _fail(f"--out {out}: a folder; give an image file, e.g. {out / 'sheet.png'}")
    blocker = file_in_the_way(out.parent)
    if blocker is not None:
        _fail(f"--out {out}: {blocker} is a file, not a folder")
    if sheet_format(out) is None:
        _fail(f"--out {out}: not an image file name; give a .png (or .jpg, .webp, .gif, .bmp, .tiff) path")


def register(app: typer.Typer) -> None:
    """Add this module's verbs to the app: the ``data`` group with its own verbs (a new group per app)."""
    data_app = typer.Typer(no_args_is_help=True, add_completion=False,
                           help="Look at data sources: CASIA .gnt/.pot, EMNIST, npz, image folders, strokes, synth.")
    data_app.command()(inspect)
    data_app.command()(preview)
    app.add_typer(data_app, name="data", help="Inspect data sources and draw contact sheets of them.")
