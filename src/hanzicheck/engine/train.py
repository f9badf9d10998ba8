"""Training runs: config in, run folder out (config.json, history.csv, curves.png, metrics.json, artifacts).

Every batch is freshly synthesised (plus optional file sources). Real handwriting given with ``dev`` is
evaluated after every epoch and picks the best checkpoint: synthetic validation is ~1.00 and says nothing.
"""

from __future__ import annotations

import itertools
import json
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..config_check import check_fields, did_you_mean
from ..data.charset import NUM_CLASSES, UNKNOWN_INDEX
from ..data.dataset import (
    BatchStream,
    LabeledArrays,
    UnknownCap,
    brightness_ratio,
    check_brightness,
    class_balance,
    load_source,
    load_training_sources,
    synth_arrays,
    writer_split,
)
from ..data.synth.config import SynthConfig
from .callbacks import (
    BatchNormRecalibration,
    DevEval,
    RichProgress,
    TimeBudget,
    TimeCosineLR,
    plot_history,
    recalibrate_batch_norm,
)

BRIGHTNESS_UNKNOWN = 500  # Unknown samples behind the brightness check (its mean ink is noisy below that)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run; saved as config.json in the run folder."""

    model: str = "resnet"
    model_overrides: dict = field(default_factory=dict)
    epochs: int = 40
    steps_per_epoch: int = 300
    batch_size: int = 128
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    label_smoothing: float = 0.1
    warmup_epochs: int = 1
    unknown_fraction: float = 0.08
    chars: str = ""  # train on these HSK1 characters only (quick experiments, test models); "" = all 178
    synth: dict = field(default_factory=dict)  # SynthConfig overrides
    files: tuple[str, ...] = ()  # GNT/POT/EMNIST/npz/folder sources mixed into every batch
    file_fraction: float = 0.5
    # file sources holding HSK1 characters keep every HSK1 sample, at most this many of each other label and at
    # most this share of Unknown (CASIA-HWDB's 3,700 other classes; see data.dataset.UnknownCap) ...
    file_unknown_per_class: int = 16
    file_unknown_share: float = 0.5
    file_unknown_fraction: float | None = None  # ... and batches draw Unknown from them this often (None: unknown_fraction)
    file_val_fraction: float = 0.1  # share of file-source writers held out for validation
    dev: tuple[str, ...] = ()  # real handwriting evaluated each epoch (selects the best checkpoint)
    val_per_class: int = 4
    template_per_class: int = 40
    bn_recalibration: int = 40  # fresh batches that re-estimate batch norm after every epoch and at the end
    patience: int = 8
    max_minutes: float = 0.0  # stop after this long, decaying the learning rate by the clock (0 = by steps)
    workers: int = 1
    seed: int = 0
    init: str = ""  # fine-tune: start from this model (a run or bundle folder, or a .keras file); "" = from scratch
    # batch_size is per replica; "linear": the peak learning rate is multiplied by the number of replicas
    lr_scaling: str = "linear"

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.steps_per_epoch < 1 or self.batch_size < 2:
            raise ValueError("epochs, steps_per_epoch must be ≥ 1 and batch_size ≥ 2")
        if self.lr_scaling not in ("linear", "none"):
            raise ValueError(f"lr_scaling must be 'linear' or 'none', not {self.lr_scaling!r}")
        if not 0 <= self.unknown_fraction < 1 or not 0 <= self.file_fraction <= 1:
            raise ValueError("unknown_fraction must be in [0, 1) and file_fraction in [0, 1]")
        _synth_config(self.synth)  # a misspelt synthesiser knob fails here, not an hour into the run
        _model_config(self.model, self.model_overrides)  # ... and so does a misspelt --model preset

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        check_fields(cls, data, "config keys")
        data = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**data)


def _synth_config(overrides: dict):
    return SynthConfig.from_overrides(overrides) if overrides else None


def _model_overrides(overrides: dict) -> dict:
    """``model_overrides`` as ``create_model`` takes them (JSON lists of widths and depths become tuples)."""
    return {k: tuple(v) if k in ("widths", "depths") and isinstance(v, list) else v for k, v in overrides.items()}


def _model_config(name: str, overrides: dict):
    """The architecture a run trains: preset ``name`` of the models registry with ``overrides`` applied;
    ValueError for an unknown preset (with the closest name) or override key, or overrides the model refuses."""
    from ..models import PRESETS, ModelConfig

    if name not in PRESETS:
        raise ValueError(f"unknown model preset {name!r}{did_you_mean(name, PRESETS)} (choose one of "
                         f"{', '.join(sorted(PRESETS))})")
    check_fields(ModelConfig, overrides, "model_overrides keys")
    return ModelConfig(**{**PRESETS[name].to_dict(), **_model_overrides(overrides)})


def init_model(path: str):
    """The model a fine-tune starts from: a .keras file, or the model.keras of a run or bundle folder. A softmax
    temperature and Unknown offset that ``hanzicheck export`` folded into the classifier are taken out again:
    training needs the network's own logits."""
    import keras

    from .export import unfold_calibration

    where = Path(path)
    file = where / "model.keras" if where.is_dir() else where
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no model to start from")
    model = keras.models.load_model(file, compile=False)
    meta = file.with_name("metadata.json")
    return unfold_calibration(model, json.loads(meta.read_text()) if meta.is_file() else {})


def _class_pool(chars: str) -> np.ndarray | None:
    from ..data.charset import class_index

    return np.array([class_index(c) for c in dict.fromkeys(chars)], np.int32) if chars else None


def _one_hot(stream, smoothing_classes: int = NUM_CLASSES):
    eye = np.eye(smoothing_classes, dtype=np.float32)
    for x, y in stream:
        yield x, eye[y]


def load_labelled(paths: tuple[str, ...]) -> LabeledArrays | None:
    """Any labelled sources read with ``load_source`` (float32, as evaluation sees them) and joined into one set;
    None when there are none. Training reads the dev sources with it."""
    if not paths:
        return None
    parts = [load_source(p) for p in paths]
    return LabeledArrays(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("x", "y", "writers")))


class TrainingDataError(ValueError):
    """A file or dev source that cannot be read; the message names it."""


def _load_data(config: TrainConfig) -> tuple[LabeledArrays | None, LabeledArrays | None]:
    """The file sources (uint8, Unknown capped) and the dev sources, with the stroke data every run synthesises from
    fetched; TrainingDataError for one that cannot be read or fetched."""
    from ..data.download import DownloadError
    from ..data.strokes import default_db

    try:
        default_db()
        files = load_training_sources(config.files, UnknownCap(config.file_unknown_per_class,
                                                               config.file_unknown_share, config.seed))
        return files, load_labelled(config.dev)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, DownloadError) as e:
        raise TrainingDataError(str(e)) from e


def _numbers(row: dict[str, str]) -> dict[str, int | float | None]:
    """A history.csv row (strings) as metrics.json numbers: the epoch an int, the rest floats (None where empty)."""
    return {k: int(v) if k == "epoch" else float(v) if v else None for k, v in row.items()}


def _print_data_report(files: LabeledArrays | None, val: LabeledArrays, dev: LabeledArrays | None,
                       ratio: float, balance: dict) -> None:
    from rich.console import Console

    console = Console()
    console.print("[bold]data[/]: every training batch freshly synthesised"
                  + (f" + {len(files):,} file samples of {len(set(files.writers.tolist()))} writers" if files else ""))
    console.print(f"validation: {balance['samples']:,} samples, per class {balance['per_class_min']}–"
                  f"{balance['per_class_max']}, Unknown {balance['unknown_fraction']:.1%}; brightness ratio "
                  f"Chinese/Unknown {ratio:.2f}× (limit 1.2×)")
    if dev is not None:
        console.print(f"real dev data: {len(dev):,} samples, checked after every epoch")


def _print_distribution(name: str, cluster, replicas: int, config: TrainConfig, learning_rate: float) -> None:
    from rich.console import Console

    scaling = f"{config.learning_rate:g} × {replicas} replicas" if config.lr_scaling == "linear" and replicas > 1 \
        else f"{config.learning_rate:g}, not scaled"
    role = f", this is {'the chief' if cluster.chief else f'worker {cluster.rank}'}" if cluster.configured else ""
    Console(stderr=True).print(
        f"strategy {name}: {cluster.workers} worker(s), {replicas} replica(s){role}; batch {config.batch_size} per "
        f"replica = {config.batch_size * replicas} global; peak learning rate {learning_rate:g} ({scaling})")


def _new_model(config: TrainConfig):
    """The configured architecture with fresh weights: a preset by name, then the config's overrides."""
    from ..models import create_model

    return create_model(config.model, **_model_overrides(config.model_overrides))  # TrainConfig checked both


def _compile(model, config: TrainConfig, total_steps: int, learning_rate: float | None = None) -> None:
    """AdamW with the run's schedule peaking at ``learning_rate`` (default: the config's, one replica)."""
    import keras

    rate = config.learning_rate if learning_rate is None else learning_rate
    if config.max_minutes:  # TimeCosineLR sets the rate from the clock
        schedule = rate / 10
    else:
        schedule = _step_schedule(config, total_steps, rate)
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=config.weight_decay),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
    )


def _step_schedule(config: TrainConfig, total_steps: int, rate: float | None = None):
    import keras

    rate = config.learning_rate if rate is None else rate
    warmup = min(config.warmup_epochs * config.steps_per_epoch, total_steps // 2)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=rate / 10,
        decay_steps=max(total_steps - warmup, 1),
        alpha=0.02,
        warmup_target=rate,
        warmup_steps=warmup,
    )


def _final_model(last, best_path: Path, batches: list[np.ndarray], dev: LabeledArrays | None,
                 val: LabeledArrays) -> tuple[object, dict]:
    """Recalibrate batch norm in the last and the best checkpoint; keep whichever scores higher on real dev
    data (or on synthetic validation without dev data)."""
    import keras

    candidates = {"last": last}
    if best_path.is_file():
        candidates["best"] = keras.models.load_model(best_path)
    scores = {}
    for name, model in candidates.items():
        recalibrate_batch_norm(model, batches)
        if dev is not None:
            scores[name] = DevEval.evaluate(model, dev)
        else:
            probs = model.predict(val.x[..., None], verbose=0)
            scores[name] = {"val_accuracy": float((probs.argmax(1) == val.y).mean())}
    key = "dev_score" if dev is not None else "val_accuracy"
    chosen = max(scores, key=lambda n: scores[n][key])
    return candidates[chosen], {"chosen": chosen, "bn_recalibrated_on": sum(len(b) for b in batches),
                                "scores": scores}


def _brightness_probe(val: LabeledArrays, config: TrainConfig, synth_config) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of the validation set, topped up to BRIGHTNESS_UNKNOWN Unknown samples for the brightness check.

    Why: a default validation set holds ~57 Unknown samples, whose mean ink swings by ±20 % between seeds (a
    config that changed only a stroke-scale knob read 1.31× once and 1.07× with another seed)."""
    have = int((val.y == UNKNOWN_INDEX).sum())
    if have >= BRIGHTNESS_UNKNOWN:
        return val.x, val.y
    extra = synth_arrays(0, seed=config.seed + 40_000, unknown=BRIGHTNESS_UNKNOWN - have, synth_config=synth_config)
    return np.concatenate([val.x, extra.x]), np.concatenate([val.y, extra.y])


def train(config: TrainConfig, run_dir: str | Path, resume: bool = False, progress: bool = True,
          force: bool = False, strategy: str = "auto") -> dict:
    """Train a model, write the run folder and its artifacts; returns the metrics dict.

    A fresh run refuses a folder that holds files unless ``force`` (then the previous run's files are deleted);
    ``resume`` continues the run in the folder from its last committed epoch, with its best score, and refuses when
    there is nothing consistent to continue (``RunFolderError`` either way, before anything is written).

    ``strategy`` (engine/distribute.py): ``auto`` trains across the workers of a ``TF_CONFIG`` cluster, or the GPUs
    of this machine, or plainly in this process. In a cluster the chief writes the run folder and returns the
    metrics; every other worker writes nothing and returns a short summary (``role`` "worker").

    Its length (about 180 lines): one run's steps in order (cluster, run folder, strategy, data, model, fit,
    selection, export), sharing a dozen locals; the helpers above hold the parts that stand alone."""
    from .distribute import ClusterError, cluster_from_env
    from .run_folder import RunFolderError, peek_state, prepare_fresh, resume_state

    run = Path(run_dir)
    if resume and force:
        raise RunFolderError("--resume continues the run in the folder and --force replaces it: give one of them")
    cluster = cluster_from_env()
    if config.max_minutes and cluster.workers > 1 and strategy in ("auto", "multi-worker"):
        raise ClusterError("--max-minutes decays the learning rate by each worker's own clock, which would differ "
                           "between workers: give a cluster run --epochs instead")
    files, dev = _load_data(config)  # before the run folder is touched: a bad source leaves it as it was
    if cluster.chief:
        state = resume_state(run) if resume else None
        if state is None:
            prepare_fresh(run, force)
    else:  # the chief owns the folder; the others only read where to continue (a folder shared with the chief)
        state = peek_state(run) if resume else None

    import keras

    from ..models import count_flops, embedding_model
    from .callbacks import RunCheckpoint
    from .distribute import (
        barrier,
        distributed_batches,
        fingerprint,
        make_strategy,
        plain_copy,
        prepare_model,
    )
    from .export import compute_templates, write_artifacts
    from .run_folder import best_so_far

    strategy_name, strat = make_strategy(strategy, cluster)  # before TensorFlow runs any op
    distributed = strategy_name != "default"
    replicas = int(strat.num_replicas_in_sync)
    local_replicas = len(strat.extended.worker_devices) if distributed else 1
    learning_rate = config.learning_rate * (replicas if config.lr_scaling == "linear" else 1)
    if progress:
        _print_distribution(strategy_name, cluster, replicas, config, learning_rate)
    if cluster.chief:
        run.mkdir(parents=True, exist_ok=True)
        (run / "config.json").write_text(json.dumps(asdict(config), ensure_ascii=False, indent=2))
    keras.utils.set_random_seed(config.seed)
    synth_config = _synth_config(config.synth)

    pool = _class_pool(config.chars)
    n_classes = 178 if pool is None else len(pool)
    val = synth_arrays(config.val_per_class, seed=config.seed + 10_000, synth_config=synth_config, pool=pool,
                       unknown=max(1, round(config.val_per_class * n_classes * config.unknown_fraction)))
    if files is not None:  # file sources: hold out whole writers for validation
        train_mask, val_mask = writer_split(files.writers, config.file_val_fraction, config.seed)
        held = files.subset(val_mask).as_float32()
        val = LabeledArrays(*(np.concatenate([getattr(val, k), getattr(held, k)])
                              for k in ("x", "y", "writers")))
        files = files.compacted(train_mask)  # in place: the images are not copied a second time
    # The spec's brightness check is about the whole class set; a few hand-picked characters may differ.
    if pool is None:
        ratio = check_brightness(*_brightness_probe(val, config, synth_config))
    else:
        ratio = brightness_ratio(val.x, val.y)
    balance = class_balance(val.y)
    if progress:
        _print_data_report(files, val, dev, ratio, balance)

    last, best = run / "last.keras", run / "best.keras"
    initial_epoch = 0
    eye = np.eye(NUM_CLASSES, dtype=np.float32)
    with strat.scope():
        if state is not None:
            model = keras.models.load_model(last)
            initial_epoch = state["epoch"]
        else:  # a fresh optimiser either way; resumed runs keep theirs
            model = init_model(config.init) if config.init else _new_model(config)
            _compile(model, config, config.epochs * config.steps_per_epoch, learning_rate)
        if distributed:
            prepare_model(model, strat, (val.x[:2, ..., None], eye[val.y[:2]]))

    def stream_for(pipeline: int, pipelines: int) -> BatchStream:
        """The batches of one input pipeline (one per worker; its replicas take them in turn)."""
        return BatchStream(config.batch_size, config.seed, config.unknown_fraction, synth_config, files,
                           config.file_fraction, workers=config.workers,
                           start_batch=initial_epoch * config.steps_per_epoch * local_replicas, pool=pool,
                           file_unknown_fraction=config.file_unknown_fraction, shard=pipeline, shards=pipelines)

    streams: list[BatchStream] = []
    if distributed:
        data = distributed_batches(strat, stream_for, config.batch_size, NUM_CLASSES, streams)
    else:
        streams.append(stream_for(0, 1))
        data = _one_hot(streams[0])
    # fresh batches (their own seed) that re-estimate batch norm after every epoch and once more at the end
    recal = BatchStream(config.batch_size, config.seed + 30_000, config.unknown_fraction, synth_config, files,
                        config.file_fraction, workers=0, pool=pool,
                        file_unknown_fraction=config.file_unknown_fraction)
    batches = [x for x, _ in itertools.islice(iter(recal), config.bn_recalibration)]
    monitor = "dev_score" if dev is not None else "val_accuracy"
    callbacks = [
        BatchNormRecalibration(batches, config.steps_per_epoch) if batches else keras.callbacks.Callback(),
        DevEval(dev) if dev is not None else keras.callbacks.Callback(),
        keras.callbacks.EarlyStopping(monitor=monitor, mode="max", patience=config.patience),
        TimeBudget(config.max_minutes),
    ]
    if cluster.chief:  # the run folder: history before the checkpoint (a kill between them leaves a row resume trims)
        callbacks[2:2] = [
            keras.callbacks.CSVLogger(run / "history.csv", append=state is not None),
            RunCheckpoint(run, monitor, best_so_far(state, monitor) if state else float("-inf"),
                          state.get("best_epoch") if state else None),
        ]
    if config.max_minutes:
        callbacks.append(TimeCosineLR(learning_rate, config.max_minutes))
    if progress:
        callbacks.append(RichProgress(config.epochs, config.steps_per_epoch, initial_epoch))
    started = time.time()
    try:
        fitted = model.fit(
            data,
            steps_per_epoch=config.steps_per_epoch,
            epochs=config.epochs,
            initial_epoch=initial_epoch,
            validation_data=(val.x[..., None], eye[val.y]),
            callbacks=callbacks,
            verbose=0,
        )
    finally:
        for stream in streams:
            stream.close()
    train_seconds = time.time() - started
    global_batch = config.batch_size * replicas
    distribution = {
        "strategy": strategy_name, "workers": cluster.workers, "replicas": replicas,
        "global_batch_size": global_batch, "learning_rate": learning_rate,
        "samples_per_second": round(len(fitted.epoch) * config.steps_per_epoch * global_batch
                                    / max(train_seconds, 1e-9), 1),
        "weights_sha256": fingerprint(model),  # the trained weights, equal on every worker
    }
    if not cluster.chief:
        barrier(strat)  # stay up until the chief has written the run folder
        return {"role": "worker", "rank": cluster.rank, "epochs_run": initial_epoch + len(fitted.epoch),
                **distribution}
    if distributed:  # selection, templates and export run on the chief alone, outside the strategy
        model = plain_copy(model)

    model, selection = _final_model(model, best, batches, DevEval.cap_unknown(dev, 3000) if dev else None, val)
    tpl = synth_arrays(config.template_per_class, seed=config.seed + 20_000, synth_config=synth_config)
    embed = embedding_model(model)
    templates = compute_templates(lambda b: embed.predict(b, verbose=0), tpl.x, tpl.y)
    history = plot_history(run / "history.csv", run / "curves.png")
    metrics = {
        "params": int(model.count_params()),
        "mflops": count_flops(model) / 1e6,
        "train_seconds": round(train_seconds, 1),
        "epochs_run": len(history),
        "samples_seen": len(history) * config.steps_per_epoch * global_batch,
        **distribution,
        "brightness_ratio": round(ratio, 3),
        "val_class_balance": balance,
        "best": _numbers(max(history, key=lambda r: float(r.get(monitor, 0)))) if history else {},
        "monitor": monitor,
        "final_selection": selection,
    }
    if dev is not None:
        metrics["dev"] = DevEval.evaluate(model, dev)
    write_artifacts(model, run, templates, {"training": {"config": asdict(config), "run": str(run)},
                                            "metrics": metrics}, parity_images=val.x[:16][..., None])
    (run / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2, default=float))
    barrier(strat)  # the other workers exit only now
    return metrics

