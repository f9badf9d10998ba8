"""Training data assembly: fresh synthetic batches mixed with file sources, writer-disjoint splits, checks.

The synthesiser renders new samples for every batch (a fixed cache is memorised), in worker processes so the
trainer keeps the cores busy. File sources (CASIA GNT/POT, EMNIST, npz, folders) are preprocessed once, cached
on disk as npz shards, and mixed into each batch. Labels outside the 178 HSK1 characters become Unknown.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .charset import NUM_CHARS, UNKNOWN_INDEX, class_index, is_hsk1
from .download import cache_dir

BRIGHTNESS_LIMIT = 1.2  # the spec: mean darkness of Chinese vs Unknown samples must stay below 1.2×


class BrightnessShortcutError(ValueError):
    """Chinese and Unknown samples differ so much in ink that brightness alone would separate them."""


@dataclass
class LabeledArrays:
    """Preprocessed images float32 [N, 40, 40], class indices int32 [N], writer ids [N]."""

    x: np.ndarray
    y: np.ndarray
    writers: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, mask: np.ndarray) -> LabeledArrays:
        return LabeledArrays(self.x[mask], self.y[mask], self.writers[mask])


def label_to_class(label: str) -> int:
    """HSK1 character → its index; anything else (Latin, other characters) → Unknown."""
    return class_index(label) if is_hsk1(label) else UNKNOWN_INDEX


def _cache_key(path: Path, limit: int | None) -> str:
    """Changes with the file and with the preprocessing code, so a shard is never stale."""
    from . import preprocess

    stat = path.stat()
    code = hashlib.sha1(Path(preprocess.__file__).read_bytes()).hexdigest()[:8]
    raw = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{limit}|{code}"
    return hashlib.sha1(raw.encode()).hexdigest()[:16]


def load_source(path: str | Path, limit: int | None = None, use_cache: bool = True) -> LabeledArrays:
    """Read any supported source, preprocess every sample to 40×40, cache the result as an npz shard."""
    from .preprocess import InvalidImageError, preprocess
    from .sources import iter_samples

    path = Path(path)
    shard = cache_dir() / "shards" / f"{path.name}-{_cache_key(path, limit)}.npz"
    if use_cache and shard.is_file():
        with np.load(shard) as z:
            return LabeledArrays(z["x"], z["y"], z["writers"])
    xs, ys, ws = [], [], []
    for sample in iter_samples(path, limit=limit):
        try:
            xs.append(preprocess(sample.image))
        except InvalidImageError:
            continue  # blank or broken samples carry no class information
        ys.append(label_to_class(sample.label))
        ws.append(sample.writer)
    if not xs:
        raise ValueError(f"{path}: no usable samples")
    arrays = LabeledArrays(np.stack(xs).astype(np.float32), np.array(ys, np.int32), np.array(ws))
    if use_cache:
        shard.parent.mkdir(parents=True, exist_ok=True)
        np.savez(shard, x=arrays.x, y=arrays.y, writers=arrays.writers)
    return arrays


def writer_split(writers: np.ndarray, val_fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (train, val) that never put one writer on both sides (falls back to samples if no ids)."""
    rng = np.random.default_rng(seed)
    unique = np.unique(writers)
    if len(unique) < 2:
        val = rng.random(len(writers)) < val_fraction
        return ~val, val
    val_writers = rng.choice(unique, size=max(1, round(len(unique) * val_fraction)), replace=False)
    val = np.isin(writers, val_writers)
    return ~val, val


def brightness_ratio(x: np.ndarray, y: np.ndarray) -> float:
    """Mean ink darkness (1 − pixel) of Chinese samples over that of Unknown samples (≥ 1 means Chinese darker)."""
    dark = 1.0 - x.reshape(len(x), -1).mean(axis=1)
    chinese, unknown = dark[y < NUM_CHARS], dark[y == UNKNOWN_INDEX]
    if not len(chinese) or not len(unknown):
        raise ValueError("brightness ratio needs both Chinese and Unknown samples")
    a, b = float(chinese.mean()), float(unknown.mean())
    return max(a, b) / max(min(a, b), 1e-8)


def check_brightness(x: np.ndarray, y: np.ndarray, limit: float = BRIGHTNESS_LIMIT) -> float:
    """Fail loudly when brightness alone could tell Chinese from Unknown (the spec's v3 bug: 5.2×)."""
    ratio = brightness_ratio(x, y)
    if ratio >= limit:
        raise BrightnessShortcutError(
            f"brightness ratio Chinese/Unknown is {ratio:.2f}× (limit {limit}×): adjust the Unknown sources' pen "
            "width or polarity so brightness gives no shortcut"
        )
    return ratio


def class_balance(y: np.ndarray) -> dict[str, float]:
    """min/median/max count per HSK1 class and the Unknown fraction."""
    counts = np.bincount(y, minlength=UNKNOWN_INDEX + 1)
    chinese = counts[:NUM_CHARS]
    return {
        "samples": int(len(y)),
        "per_class_min": int(chinese.min()),
        "per_class_median": float(np.median(chinese)),
        "per_class_max": int(chinese.max()),
        "unknown_fraction": float(counts[UNKNOWN_INDEX] / max(len(y), 1)),
    }


def sample_classes(rng: np.random.Generator, n: int, unknown_fraction: float,
                   pool: np.ndarray | None = None) -> np.ndarray:
    """Class ids for one batch: Unknown with probability ``unknown_fraction``, else a uniform HSK1 class
    (from ``pool`` when given, e.g. a few classes for a quick test model)."""
    ids = rng.integers(0, NUM_CHARS, size=n) if pool is None else rng.choice(pool, size=n)
    ids[rng.random(n) < unknown_fraction] = UNKNOWN_INDEX
    return ids.astype(np.int32)


def _render_job(args: tuple[np.ndarray, int, object]) -> np.ndarray:
    from .synth import synth_batch

    ids, seed, config = args
    return synth_batch(ids, seed, config)


class BatchStream:
    """An endless stream of (x [B, 40, 40, 1], y [B]) training batches; batch k is the same for the same seed.

    ``files`` (optional) are mixed in: a ``file_fraction`` of each batch is drawn from them.
    Rendering runs ahead in ``workers`` processes (0 = in this process), at most ``prefetch`` batches ahead.
    """

    def __init__(self, batch_size: int, seed: int, unknown_fraction: float = 0.08, synth_config=None,
                 files: LabeledArrays | None = None, file_fraction: float = 0.0, workers: int = 1,
                 prefetch: int = 6, start_batch: int = 0, pool: np.ndarray | None = None) -> None:
        self.pool = pool
        self.batch_size, self.seed, self.unknown_fraction = batch_size, seed, unknown_fraction
        self.synth_config, self.files, self.file_fraction = synth_config, files, file_fraction if files else 0.0
        self.workers, self.prefetch, self.next_batch = workers, prefetch, start_batch
        self._pool = None
        self._pending: deque = deque()

    def _job(self, k: int) -> tuple[np.ndarray, int, object]:
        rng = np.random.default_rng([self.seed, k])
        n_synth = self.batch_size - round(self.batch_size * self.file_fraction)
        return sample_classes(rng, n_synth, self.unknown_fraction, self.pool), int(rng.integers(2**31)), self.synth_config

    def _submit(self) -> None:
        job = self._job(self.next_batch)
        key = self.next_batch
        self.next_batch += 1
        if self._pool is None:
            self._pending.append((key, job, None))
        else:
            self._pending.append((key, job, self._pool.apply_async(_render_job, (job,))))

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        if self.workers > 0 and self._pool is None:
            self._pool = mp.get_context("spawn").Pool(self.workers)
        while True:
            while len(self._pending) < max(self.prefetch, 1):
                self._submit()
            key, (ids, seed, config), result = self._pending.popleft()
            x = result.get() if result is not None else _render_job((ids, seed, config))
            y = ids
            if self.file_fraction:
                rng = np.random.default_rng([self.seed, key, 1])
                pick = rng.integers(0, len(self.files), size=self.batch_size - len(ids))
                x = np.concatenate([x, self.files.x[pick]])
                y = np.concatenate([y, self.files.y[pick]])
            yield x.reshape(-1, x.shape[1], x.shape[2], 1).astype(np.float32), y.astype(np.int32)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool = None


def synth_arrays(per_class: int, seed: int, unknown: int = 0, synth_config=None,
                 pool: np.ndarray | None = None) -> LabeledArrays:
    """A fixed synthetic set: ``per_class`` samples of every HSK1 class (or of ``pool``) plus ``unknown``
    Unknown samples."""
    from .synth import synth_batch

    classes = np.arange(NUM_CHARS) if pool is None else pool
    ids = np.concatenate([np.repeat(classes, per_class), np.full(unknown, UNKNOWN_INDEX)])
    x = synth_batch(ids.astype(np.int32), seed, synth_config)
    return LabeledArrays(x.astype(np.float32), ids.astype(np.int32), np.array(["synth"] * len(ids)))
