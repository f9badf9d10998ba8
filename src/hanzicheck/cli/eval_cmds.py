"""CLI verbs ``calibrate`` (fit the verify rule, the temperature and the Unknown offset into an artifacts folder)
and ``evaluate`` (a report on labelled sources): the recogniser judged on data, engine/calibrate.py and
engine/evaluate.py behind them.

JSON on stdout with ``--json``, else tables; errors: one line on stderr and exit status 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ._common import fail as _fail
from ._model_opts import JsonOpt, ModelOpt, ThreadsOpt, load_recognizer


def calibrate(
    model: Annotated[Path | None, typer.Option("--model", help="Artifacts folder to calibrate in place: its "
                                               "templates.npz and metadata.json are rewritten. Required (copy the "
                                               "bundled model to recalibrate it); with --dry-run, default the "
                                               "bundled model.")] = None,
    data: Annotated[list[Path], typer.Option("--data", help="Labelled samples (any reader's format): genuine, "
                                                            "wrong-character and look-alike pairs. Repeatable; "
                                                            "every source is held to --accept.")] = [],
    accept: Annotated[float, typer.Option("--accept", min=0.5, max=0.999, help="The operating point: accept at "
                                          "least this share of the correct pairs of every source.")] = 0.95,
    synth: Annotated[int, typer.Option("--synth", min=0, help="Synthesised genuine samples per character "
                                                              "(plus as many impostors of every kind); 0 = none.")] = 12,
    synth_config: Annotated[Path | None, typer.Option(
        "--synth-config", help="JSON object of synthesiser settings for --synth (e.g. scripts/stress_synth.json: "
                               "messier writing, closer to real cursive).")] = None,
    class_data: Annotated[list[Path], typer.Option("--class-data", help="More labelled real samples that only "
                                                   "fit the classifier (temperature, Unknown offset), e.g. Latin "
                                                   "letters that must come out Unknown.")] = [],
    unknown_max_drop: Annotated[float, typer.Option("--unknown-max-drop", min=0.0, max=1.0, help="Unknown "
                                                    "offset: the most HSK1 samples right while real non-HSK1 "
                                                    "rejection falls at most this much.")] = 0.01,
    no_unknown_offset: Annotated[bool, typer.Option("--no-unknown-offset", help="Leave the Unknown offset as it "
                                                    "is (fit only the temperature).")] = False,
    no_drop_templates: Annotated[bool, typer.Option("--no-drop-templates", help="Leave out the stroke-drop "
                                                    "templates (faster; verify then has no missing-stroke gate).")
                                 ] = False,
    seed: Annotated[int, typer.Option(help="Random seed of the synthesised pairs.")] = 0,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Compute and print, do not write.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Fit the verify rule (weights, per-character thresholds, stroke-drop templates) at an operating point.

    Labelled samples (--data, --class-data) also fit the softmax temperature and the Unknown offset."""
    from ..data.download import DownloadError
    from ..engine.calibrate import CalibrationError, calibrate_artifacts

    if model is None and not dry_run:  # never the installed bundle by default: the user names what is rewritten
        _fail("--model DIR is required: calibrate rewrites that artifacts folder in place (to recalibrate the "
              "bundled model, copy it and give the copy; --dry-run computes without writing)")
    _check_sources(data, class_data)
    if not data and synth == 0:
        _fail("nothing to calibrate on: give --data SRC and/or --synth N > 0")
    config = _synth_settings(synth_config, synth)
    rec = load_recognizer(model)
    try:
        summary = calibrate_artifacts(rec, data=data, accept=accept, synth_per_char=synth, seed=seed,
                                      write=not dry_run, progress=not json_out, class_data=class_data,
                                      unknown_max_drop=None if no_unknown_offset else unknown_max_drop,
                                      synth_config=config, drop_templates=not no_drop_templates)
    except (CalibrationError, ValueError, OSError, DownloadError) as e:
        _fail(str(e))
    if json_out:
        typer.echo(json.dumps(summary, ensure_ascii=False))
        return
    _print_calibration(summary)


def _check_sources(data: list[Path], others: list[Path] = ()) -> None:
    """Every source exists, and no two --data sources share a file name: the name is what the results call a
    source (per-source rates, thresholds held per source), so two of them would be silently merged into one."""
    for p in [*data, *others]:
        if not p.exists():
            _fail(f"{p}: no such file or folder")
    seen: dict[str, Path] = {}
    for p in data:
        if p.name in seen:
            _fail(f"--data {seen[p.name]} and {p} share the name {p.name}, which names a source in the results: "
                  "rename or link one of them")
        seen[p.name] = p


def _print_calibration(summary: dict[str, Any]) -> None:
    from rich.console import Console

    c = Console()
    v = summary["verdict"]
    margin = "any" if v["max_drop_margin"] is None else f"≤ {v['max_drop_margin']:.3f}"
    c.print(f"[bold]verify rule[/] score = similarity + {v['prob_weight']:g}·max(ln p, {v['log_p_floor']:g}); "
            f"stroke-drop margin {margin}; target rank ≤ {v['max_rank']}")
    c.print(f"per-character thresholds for {summary['accept']:.0%} correct accepted on every source: global "
            f"{summary['global_threshold']:.3f}, min {summary['min']:.3f}, median {summary['median']:.3f}, max "
            f"{summary['max']:.3f} ({summary['genuine_pairs']:,} genuine pairs of "
            f"{summary['chars_with_genuine_pairs']} characters, {summary['impostor_pairs']:,} impostors)")
    _rates_table(c, "on the calibration pairs", summary["per_source"])
    if "temperature" in summary:
        c.print(f"softmax temperature {summary['temperature']:.3f} on {summary['temperature_samples']:,} labelled "
                f"samples: calibration error (ECE) {summary['ece_before']:.3f} → {summary['ece_after']:.3f}")
    if "hsk1_accuracy_after" in summary:
        c.print(f"Unknown offset {summary['unknown_bias']:.2f}: real HSK1 right "
                f"{summary['hsk1_accuracy_before']:.2%} → {summary['hsk1_accuracy_after']:.2%}, real non-HSK1 "
                f"rejected {summary['unknown_rejection_before']:.2%} → {summary['unknown_rejection_after']:.2%}")
    c.print("written to " + (summary["written"] or "nothing (dry run)"))


def _rates_table(console, title: str, per_source: dict[str, dict[str, float]]) -> None:
    """Per source: correct pairs accepted and impostors rejected per kind (the issue's four figures)."""
    from rich.table import Table

    from ..engine.report import VERIFY_FIGURES

    table = Table(title=f"verify {title}")
    table.add_column("source", no_wrap=True)
    for col in VERIFY_FIGURES:
        table.add_column(col.replace("_", " "), justify="right")
    for name, r in per_source.items():
        table.add_row(name, *("—" if r.get(col) is None else f"{r[col]:.3f}" for col in VERIFY_FIGURES))
    console.print(table)


def _synth_settings(path: Path | None, synth: int):
    """--synth-config's file → SynthConfig (None without one); a clear CLI error for any problem with it."""
    if path is None:
        return None
    if synth == 0:
        _fail("--synth-config changes the synthesised samples: give --synth N too")
    from ..data.synth.config import SynthConfig
    from ._common import read_json

    try:
        overrides = read_json(path)
    except ValueError as e:
        _fail(str(e))
    try:
        return SynthConfig.from_overrides(overrides)
    except (ValueError, TypeError) as e:
        _fail(f"{path}: {e}")


def evaluate(
    data: Annotated[list[Path], typer.Option("--data", help="Labelled source: image folder with labels.csv, pair "
                                                            "CSV (file,target,kind: 'genuine' or the impostor's "
                                                            "kind; or file,target,label: the true character), npz, "
                                                            "or any reader's format. Repeatable.")] = [],
    report: Annotated[Path, typer.Option("--report", help="Folder for report.md, metrics.json and plots: created, "
                                                          "or without a report (see --force).")] = Path("report"),
    synth: Annotated[int, typer.Option("--synth", min=0, help="Also synthesise N samples per HSK1 character "
                                                              "(with negatives of every kind).")] = 0,
    limit: Annotated[int, typer.Option(min=0, help="At most this many samples per source (0 = all).")] = 0,
    diagnosis: Annotated[int, typer.Option("--diagnosis", min=0, help="Also test stroke diagnosis on N "
                                                                      "synthesised samples per character with a "
                                                                      "stroke left out (and N complete).")] = 0,
    model: ModelOpt = None,
    threads: ThreadsOpt = 1,
    seed: Annotated[int, typer.Option(help="Random seed of the synthesised samples.")] = 0,
    synth_config: Annotated[Path | None, typer.Option(
        "--synth-config", help='JSON object of synthesiser settings for --synth, e.g. {"stroke_rotation_deg": 20} '
                               "(a stress test).")] = None,
    json_out: JsonOpt = False,
    force: Annotated[bool, typer.Option(help="Replace the report already in --report (only its files; others "
                                             "stay).")] = False,
) -> None:
    """Accuracy, Unknown rejection, verification ROC per negative kind, confusions, calibration: a report."""
    from ..data.download import DownloadError
    from ..engine.evaluate import EvaluationError, evaluate_sources
    from ..engine.report import ReportFolderError, previous_report

    if not data and synth == 0 and diagnosis == 0:
        _fail("nothing to evaluate: give --data SRC, --synth N and/or --diagnosis N")
    _check_sources(data)
    try:
        existing = previous_report(report)
    except ReportFolderError as e:
        _fail(str(e))
    if existing and not force:
        _fail(f"--report {report} already holds a report ({', '.join(existing)}): replace it with --force, or give "
              "another folder")
    config = _synth_settings(synth_config, synth)
    rec = load_recognizer(model, threads)
    try:
        metrics = evaluate_sources(rec, data, report, synth_per_char=synth, limit=limit or None, seed=seed,
                                   progress=not json_out, diagnosis_per_char=diagnosis, synth_config=config)
    except (EvaluationError, ValueError, OSError, DownloadError) as e:
        _fail(str(e))
    if json_out:
        typer.echo(json.dumps(metrics["summary"], ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="evaluation")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in metrics["summary"].items():
        if k != "verify":
            table.add_row(k, f"{v:.4f}" if isinstance(v, float) else f"{v:,}")
    c = Console()
    c.print(table)
    if metrics["summary"].get("verify"):
        _rates_table(c, "at the model's thresholds", metrics["summary"]["verify"])
    c.print(f"report: {report / 'report.md'}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this module's verbs to the app."""
    app.command()(calibrate)
    app.command()(evaluate)
