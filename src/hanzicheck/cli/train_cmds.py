"""CLI verbs: ``train`` (a training run folder) and ``export`` (the spec's file names, the bundled model)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ._common import fail as _fail


def train(
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder: created, or empty (see --resume, --force).")]
    = Path("runs/train"),
    model: Annotated[str, typer.Option(help="Model preset: resnet, resnet-deep, resnet-wide, resnet-tiny.")] = "resnet",
    epochs: Annotated[int, typer.Option(help="Maximum epochs.")] = 40,
    steps: Annotated[int, typer.Option(help="Batches per epoch (every batch freshly synthesised).")] = 300,
    batch_size: Annotated[int, typer.Option(help="Samples per batch per replica (global batch = this × replicas).")]
    = 128,
    lr: Annotated[float, typer.Option(help="Peak learning rate of one replica (AdamW, warm-up then cosine decay); "
                                      "multiplied by the number of replicas (config lr_scaling).")] = 3e-3,
    gnt: Annotated[list[Path], typer.Option(help="CASIA-HWDB .gnt file/folder/zip to mix in.")] = [],
    pot: Annotated[list[Path], typer.Option(help="CASIA-OLHWDB .pot file/folder to mix in.")] = [],
    emnist: Annotated[list[Path], typer.Option(help="EMNIST folder or images file (trains Unknown).")] = [],
    data: Annotated[list[Path], typer.Option(help="Any other labelled source (npz, folder with labels.csv).")] = [],
    file_fraction: Annotated[float, typer.Option(help="Share of each batch drawn from file sources.")] = 0.5,
    dev: Annotated[list[Path], typer.Option(help="Real handwriting evaluated each epoch; picks the best.")] = [],
    fonts: Annotated[bool, typer.Option(help="Also draw characters from the npm handwriting fonts (all but the "
                                                 "dev set's held-out ones); downloaded once and cached.")] = False,
    chars: Annotated[str, typer.Option(help="Train on these characters only (quick experiments).")] = "",
    max_minutes: Annotated[float, typer.Option(help="Train for this many minutes, learning rate decaying by the clock (0 = by epochs).")] = 0.0,
    patience: Annotated[int, typer.Option(help="Early-stopping patience in epochs.")] = 8,
    workers: Annotated[int, typer.Option(help="Processes rendering training batches.")] = 1,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    resume: Annotated[bool, typer.Option(help="Continue the run in OUT from its last completed epoch, with its best "
                                         "score.")] = False,
    force: Annotated[bool, typer.Option(help="Replace the run in OUT (its files are deleted first).")] = False,
    init: Annotated[Path | None, typer.Option(help="Fine-tune: start from this model (run or bundle folder, or "
                                              ".keras file) instead of from scratch.")] = None,
    config: Annotated[Path | None, typer.Option(help="JSON file of TrainConfig fields (flags override).")] = None,
    strategy: Annotated[str, typer.Option(help="tf.distribute strategy: auto (a TF_CONFIG cluster → multi-worker, "
                                          "several GPUs → mirrored, else default), default, mirrored, "
                                          "multi-worker.")] = "auto",
) -> None:
    """Train the recogniser into a run folder OUT/: the model, the run's record, what --resume continues from.

    OUT/ gets model.keras, model.onnx, templates.npz, metadata.json, metrics.json, history.csv, curves.png, config.json, and state.json, best.keras, last.keras for --resume.

    With TF_CONFIG set (scripts/train_local_cluster.sh), every worker runs this command; the chief writes OUT.
    \f
    (Over 80 lines because typer reads the 23 options from the signature; the body is about 50.)"""
    from ..engine.distribute import STRATEGIES, ClusterError, cluster_from_env
    from ..engine.run_folder import RunFolderError, prepare_fresh, resume_state

    if strategy not in STRATEGIES:
        _fail(f"--strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}")
    try:  # the run folder's checks, before TensorFlow loads (train repeats them)
        if resume and force:
            raise RunFolderError("--resume continues the run in OUT and --force replaces it: give one of them")
        if cluster_from_env().chief:
            if resume:
                resume_state(out)
            elif not force:
                prepare_fresh(out, force=False)
    except (RunFolderError, ClusterError) as e:
        _fail(str(e))

    from ..engine.train import TrainConfig, TrainingDataError
    from ..engine.train import train as run_training
    from ._common import read_json
    try:
        base = read_json(config) if config else {}
    except ValueError as e:
        _fail(str(e))
    if not isinstance(base, dict):
        _fail(f"{config}: must be a JSON object of TrainConfig fields")
    for path in [*gnt, *pot, *emnist, *data, *dev, *([init] if init else [])]:
        if not path.exists():
            _fail(f"{path} does not exist")
    flags = {
        "model": model, "epochs": epochs, "steps_per_epoch": steps, "batch_size": batch_size,
        "learning_rate": lr, "files": tuple(str(p) for p in [*gnt, *pot, *emnist, *data]),
        "file_fraction": file_fraction, "dev": tuple(str(p) for p in dev), "chars": chars,
        "max_minutes": max_minutes, "patience": patience, "workers": workers, "seed": seed,
    }
    if init:
        flags["init"] = str(init)
    if fonts:
        from ..data.synth.fonts import TRAIN_FONTS

        flags["synth"] = {**base.get("synth", {}), "fonts": list(TRAIN_FONTS)}
    try:
        cfg = TrainConfig.from_dict({**base, **flags})
    except (ValueError, TypeError) as e:
        _fail(str(e))
    try:
        metrics = run_training(cfg, out, resume=resume, force=force, strategy=strategy)
    except (RunFolderError, ClusterError, TrainingDataError) as e:
        _fail(str(e))
    keys = ("role", "rank", "params", "mflops", "epochs_run", "strategy", "workers", "replicas", "samples_per_second",
            "weights_sha256", "dev")
    typer.echo(json.dumps({"run": str(out), **{k: metrics[k] for k in keys if k in metrics}}, ensure_ascii=False))


def export(
    run: Annotated[Path, typer.Argument(help="A training run (or artifacts) folder.")],
    seed_names: Annotated[Path | None, typer.Option(help="Write the spec's chinese_hsk1_model_v5.keras and "
                                                         "templates_v5.npz into this folder.")] = None,
    bundle: Annotated[Path | None, typer.Option(help="Write model.onnx, templates.npz, metadata.json, model.keras here "
                                                     "(e.g. src/hanzicheck/assets/model).")] = None,
    force: Annotated[bool, typer.Option(help="Replace files already in the --seed-names / --bundle folder.")] = False,
) -> None:
    """Export a run: the spec's file names for its quick-start snippet, and/or the bundled-model files.

    A softmax temperature fitted by `hanzicheck calibrate` is folded into the exported models."""
    from ..engine.run_folder import (
        BUNDLE_FILES,
        SEED_MODEL_NAME,
        SEED_SOURCE_FILES,
        SEED_TEMPLATES_NAME,
        check_export_target,
        require_files,
    )

    if seed_names is None and bundle is None:
        _fail("nothing to do: give --seed-names OUT and/or --bundle DIR")
    if not run.is_dir():
        _fail(f"{run} is not a folder")
    targets = [(flag, out, sources, names) for flag, out, sources, names in (
        ("--seed-names", seed_names, SEED_SOURCE_FILES, (SEED_MODEL_NAME, SEED_TEMPLATES_NAME)),
        ("--bundle", bundle, BUNDLE_FILES, BUNDLE_FILES)) if out is not None]
    for flag, out, sources, names in targets:  # every check before anything is written (or TensorFlow loads)
        try:
            require_files(run, sources)
        except FileNotFoundError as e:
            _fail(str(e))
        if out.exists() and not out.is_dir():
            _fail(f"{flag} {out} is a file, not a folder")
        try:
            check_export_target(run, out, names, force)
        except (FileExistsError, ValueError) as e:
            _fail(f"{flag} {e}")
    from ..engine.export import export_bundle, export_seed_names

    for flag, out, _, _ in targets:
        write = export_seed_names if flag == "--seed-names" else export_bundle
        try:
            paths = write(run, out, force=force)
        except FileNotFoundError as e:
            _fail(str(e))
        for path in paths:
            typer.echo(str(path))


def register(app: typer.Typer) -> None:
    """Add this module's verbs to the app."""
    app.command()(train)
    app.command()(export)
