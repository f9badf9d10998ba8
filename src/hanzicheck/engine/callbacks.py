"""Keras callbacks for training runs: real-handwriting evaluation, a rich progress bar, a time budget, plots."""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path

import keras
import numpy as np

from ..data.charset import NUM_CHARS, UNKNOWN_INDEX
from ..data.dataset import LabeledArrays
from ..inference.artifacts import DEFAULT_CONFIDENCE_THRESHOLD
from ..inference.recognizer import answers


class DevEval(keras.callbacks.Callback):
    """After each epoch: accuracy on real HSK1 handwriting, rejection of real Unknown, and their blend.

    ``dev_score`` = 0.7 × HSK1 accuracy + 0.3 × Unknown rejection (the checkpoint selector). A prediction
    counts as Unknown when the Unknown class wins or the top confidence is below the spec's 0.3.
    """

    def __init__(self, dev: LabeledArrays, batch_size: int = 512, max_unknown: int = 3000) -> None:
        super().__init__()
        self.dev, self.batch_size = self.cap_unknown(dev, max_unknown), batch_size

    @staticmethod
    def cap_unknown(dev: LabeledArrays, max_unknown: int, seed: int = 0) -> LabeledArrays:
        """Keep every HSK1 sample but at most ``max_unknown`` Unknown ones (a fixed random subset), so the
        per-epoch check stays quick when a large Latin set is given."""
        unknown = np.flatnonzero(dev.y == UNKNOWN_INDEX)
        if len(unknown) <= max_unknown:
            return dev
        drop = np.random.default_rng(seed).choice(unknown, len(unknown) - max_unknown, replace=False)
        keep = np.ones(len(dev), bool)
        keep[drop] = False
        return dev.subset(keep)

    @staticmethod
    def evaluate(model: keras.Model, dev: LabeledArrays, batch_size: int = 512) -> dict[str, float]:
        probs = model.predict(dev.x[..., None], batch_size=batch_size, verbose=0)
        pred = answers(probs, UNKNOWN_INDEX, DEFAULT_CONFIDENCE_THRESHOLD)
        chinese, unknown = dev.y < NUM_CHARS, dev.y == UNKNOWN_INDEX
        acc = float((pred[chinese] == dev.y[chinese]).mean()) if chinese.any() else 0.0
        top1 = float((probs[chinese].argmax(axis=1) == dev.y[chinese]).mean()) if chinese.any() else 0.0
        reject = float((pred[unknown] == UNKNOWN_INDEX).mean()) if unknown.any() else 0.0
        return {"dev_acc": acc, "dev_top1": top1, "dev_reject": reject, "dev_score": 0.7 * acc + 0.3 * reject}

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs.update(self.evaluate(self.model, self.dev, self.batch_size))


def recalibrate_batch_norm(model, batches: list[np.ndarray]) -> None:
    """Re-estimate every BatchNormalization layer's moving mean and variance as the plain average over
    ``batches``, computed with the final weights.

    Why: the running averages trail the weights by ~1/(1 − momentum) steps; while the weights still move fast
    (high learning rate, weight decay shrinking them under batch norm) inference-mode accuracy swings far below
    training-mode accuracy. An exact average over a few thousand fresh samples removes that lag.
    """
    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    saved = [layer.momentum for layer in layers]
    try:
        for k, x in enumerate(batches):
            for layer in layers:
                layer.momentum = k / (k + 1)  # cumulative mean: the k-th batch gets weight 1/(k+1)
            model(x, training=True)
    finally:
        for layer, momentum in zip(layers, saved, strict=True):
            layer.momentum = momentum


class BatchNormRecalibration(keras.callbacks.Callback):
    """Re-estimate batch norm exactly (``recalibrate_batch_norm``) after the last batch of every epoch, before
    validation, the real-dev check and checkpoints see the model.

    Why: with the moving averages alone, real-dev accuracy of the bundled run swung between 0.38 and 0.92 from
    epoch to epoch while synthetic validation stayed ~0.97, so checkpoints were picked on the averages' lag
    rather than on the weights. Costs one forward pass over ``batches`` per epoch.
    """

    def __init__(self, batches: list[np.ndarray], steps_per_epoch: int) -> None:
        super().__init__()
        self.batches, self.steps = batches, steps_per_epoch

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        if (batch + 1) % self.steps == 0:
            recalibrate_batch_norm(self.model, self.batches)


class RunCheckpoint(keras.callbacks.Callback):
    """After every epoch: best.keras when the monitored score beats the best so far, last.keras, then state.json.

    The best score starts from ``best`` (restored from state.json on resume), so a resumed run never replaces
    best.keras with a worse epoch. Checkpoints are written under pending names and committed by state.json
    (engine/run_folder.py), so a run killed at any moment leaves a folder ``--resume`` can continue.
    """

    def __init__(self, run: Path, monitor: str, best: float = float("-inf"), best_epoch: int | None = None) -> None:
        super().__init__()
        self.run, self.monitor, self.best, self.best_epoch = Path(run), monitor, best, best_epoch

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        import json

        from .run_folder import pending_name, write_atomic

        done = epoch + 1
        score = (logs or {}).get(self.monitor)
        pending = {}
        if score is not None and float(score) > self.best:
            self.best, self.best_epoch = float(score), epoch
            pending["best.keras"] = pending_name("best.keras", done)
        pending["last.keras"] = pending_name("last.keras", done)
        for tmp in pending.values():
            self.model.save(self.run / tmp)
        write_atomic(self.run / "state.json", json.dumps({
            "epoch": done, "monitor": self.monitor, "best": None if self.best == float("-inf") else self.best,
            "best_epoch": self.best_epoch, "pending": pending}))
        for name, tmp in pending.items():
            os.replace(self.run / tmp, self.run / name)


class TimeBudget(keras.callbacks.Callback):
    """Stop at the end of the epoch once ``minutes`` have passed (0 = never)."""

    def __init__(self, minutes: float) -> None:
        super().__init__()
        self.minutes, self.start = minutes, time.time()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.minutes and time.time() - self.start > self.minutes * 60:
            self.model.stop_training = True


class TimeCosineLR(keras.callbacks.Callback):
    """Cosine learning-rate decay over a wall-clock budget instead of a step count.

    On a shared or slow CPU the number of steps that fit in the budget is unknown in advance; decaying by
    elapsed time makes the run end at the low learning rate whatever the throughput turned out to be.
    """

    def __init__(self, peak: float, minutes: float, warmup: float = 0.03, floor: float = 0.02) -> None:
        super().__init__()
        self.peak, self.seconds, self.warmup, self.floor = peak, minutes * 60, warmup, floor
        self.start = time.time()

    def rate(self, fraction: float) -> float:
        if fraction < self.warmup:
            return self.peak * (0.1 + 0.9 * fraction / self.warmup)
        t = min((fraction - self.warmup) / (1 - self.warmup), 1.0)
        return self.peak * (self.floor + (1 - self.floor) * 0.5 * (1 + np.cos(np.pi * t)))

    def on_train_batch_begin(self, batch: int, logs=None) -> None:
        self.model.optimizer.learning_rate.assign(self.rate((time.time() - self.start) / self.seconds))


class RichProgress(keras.callbacks.Callback):
    """One progress bar over all steps, with the latest loss and the epoch's validation figures."""

    def __init__(self, epochs: int, steps_per_epoch: int, initial_epoch: int = 0) -> None:
        super().__init__()
        self.epochs, self.steps, self.initial = epochs, steps_per_epoch, initial_epoch
        self.progress = self.task = None
        self.summary = ""

    def on_train_begin(self, logs=None) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(),
                                 TimeRemainingColumn(), TextColumn("{task.description}"))
        self.progress.start()
        self.task = self.progress.add_task("", total=self.epochs * self.steps, completed=self.initial * self.steps)

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        loss = (logs or {}).get("loss", float("nan"))
        self.progress.update(self.task, advance=1, description=f"loss {loss:.3f} {self.summary}")

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        logs = logs or {}
        keys = ("val_accuracy", "dev_acc", "dev_reject")
        self.summary = " ".join(f"{k} {logs[k]:.3f}" for k in keys if k in logs)
        self.progress.console.print(f"epoch {epoch + 1}/{self.epochs}: loss {logs.get('loss', 0):.3f} {self.summary}")

    def on_train_end(self, logs=None) -> None:
        if self.progress is not None:
            self.progress.stop()


def plot_history(history_csv: Path, out_png: Path) -> list[dict[str, str]]:
    """Training curves (loss; accuracy on synthetic validation and on real dev data) → PNG. Returns the rows."""
    if not history_csv.is_file():
        return []
    with open(history_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return rows
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = np.arange(1, len(rows) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for key in ("loss", "val_loss"):
        if key in rows[0]:
            ax_loss.plot(epochs, [float(r[key]) for r in rows], label=key)
    for key in ("accuracy", "val_accuracy", "dev_acc", "dev_reject"):
        if key in rows[0]:
            ax_acc.plot(epochs, [float(r[key]) for r in rows], label=key)
    ax_loss.set(xlabel="epoch", title="loss")
    ax_acc.set(xlabel="epoch", title="accuracy (val = synthetic, dev = real handwriting)", ylim=(0, 1.01))
    for ax in (ax_loss, ax_acc):
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_png, dpi=100)
    plt.close(fig)
    return rows
