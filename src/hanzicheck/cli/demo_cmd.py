"""CLI verb ``demo``: the main job in one command (what ``make demo`` runs).

With a model (the bundled one by default): classify and verify real sample handwriting, and a synthesised
character with one stroke missing. When the package holds no bundled model (a checkout before the first training
run): draw a preview sheet of the synthesised training data. A ``--model`` folder that does not load is an error.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Annotated

import typer

from ._common import fail

DEMO_CHAR = "我"  # synthesised in full and with its last stroke left out


def _preview(out: Path) -> None:
    from ..data.preview import make_sheet

    sheet = make_sheet("synth", out / "preview.png", n=60, seed=0, model_view=True)
    typer.echo(f"No model found yet: wrote a preview of the synthesised training data to {sheet}")


def _cases(examples: Path) -> list[tuple[str, object, str]]:
    """(name, image, expected label) for the example files and for synthesised complete/incomplete 我."""
    import numpy as np

    from ..data.synth.synthesizer import Synthesizer

    cases: list[tuple[str, object, str]] = []
    labels = examples / "labels.csv"
    if labels.is_file():
        with open(labels, newline="", encoding="utf-8") as f:
            cases += [(row["file"], examples / row["file"], row["label"]) for row in csv.DictReader(f)]
    synth = Synthesizer()
    rng = np.random.default_rng(7)
    full = synth.char(DEMO_CHAR, rng)
    medians = synth.db.get(DEMO_CHAR).medians  # leave out its longest stroke, as a hurried learner might
    longest = int(np.argmax([np.hypot(*np.diff(np.asarray(m, float), axis=0).T).sum() for m in medians]))
    cases.append((f"synth {DEMO_CHAR}", full, DEMO_CHAR))
    # named as a learner counts (stroke 1 = the first), like verify's reasons; diagnose's list below is 0-based
    cases.append((f"synth {DEMO_CHAR} without stroke {longest + 1}", synth.char(DEMO_CHAR, rng, drop=[longest]),
                  DEMO_CHAR))
    return cases


def demo(
    examples: Annotated[Path, typer.Option(help="Folder with images and labels.csv (file,label).")] = Path("examples"),
    model: Annotated[Path | None, typer.Option(help="Artifacts folder (default: the bundled model).")] = None,
    out: Annotated[Path, typer.Option(help="Folder for the training-data preview (preview.png), written only "
                                           "when the package holds no bundled model.")] = Path("demo_out"),
) -> None:
    """Classify and verify sample handwriting with the bundled model (or preview the training data)."""
    from rich.console import Console
    from rich.table import Table

    from ..data.charset import is_hsk1
    from ..inference.artifacts import ArtifactsError
    from ..inference.recognizer import Recognizer

    try:
        recognizer = Recognizer.load(model)
    except ArtifactsError as e:
        if model is not None:  # a folder the user named: say what is wrong with it, draw nothing
            fail(str(e))
        _preview(out)
        return
    table = Table(title="hanzicheck demo: which character is it, and is it the one asked for?")
    for col in ("input", "expected", "classified (top-3)", "verify target", "verdict", "score / threshold", "why"):
        table.add_column(col)
    correct = total = 0
    for name, image, label in _cases(examples):
        result = recognizer.classify(image, top_k=3)
        expected = label if is_hsk1(label) else "Unknown"
        total += 1
        correct += result.char == expected
        target = label if is_hsk1(label) else "八"
        check = recognizer.verify(image, target)
        top = ", ".join(f"{c} {p:.2f}" for c, p in result.top_k)
        mark = "[green]✓[/]" if result.char == expected else "[red]✗[/]"
        table.add_row(name, expected, f"{mark} {result.char} ({top})", target, check.verdict,
                      f"{check.score:.3f} / {check.threshold:.3f}", check.explanation())
    console = Console() if sys.stdout.isatty() else Console(width=150)  # pipes and CI logs: one line per row
    console.print(table)
    console.print(f"{correct}/{total} classified as expected. Try: hanzicheck classify examples/ --json")
    name, image, label = _cases(examples)[-1]  # the character with its longest stroke left out
    found = recognizer.diagnose(image, label)
    missing = ", ".join(str(i + 1) for i in found.missing_strokes) or "none"  # counted from 1, as its name counts
    console.print(f"Which stroke is missing? hanzicheck diagnose on '{name}': {found.verdict}, missing strokes "
                  f"(in standard order): {missing}.")


def register(app: typer.Typer) -> None:
    """Add this module's verbs to the app."""
    app.command()(demo)
