"""Training data assembly: fresh synthetic batches mixed with file sources, writer-disjoint splits, checks.

The synthesiser renders new samples for every batch (a fixed cache is memorised), in worker processes so the
trainer keeps the cores busy. File sources (CASIA GNT/POT, EMNIST, npz, folders) are preprocessed once, cached
on disk as npz shards, and mixed into each batch. Labels outside the 178 HSK1 characters become Unknown.

Training sources are stored as uint8 (1,600 bytes a sample) and, when they hold HSK1 characters, bounded: every
HSK1 sample is kept, each other label at most ``UnknownCap.per_class`` samples, and Unknown at most
``UnknownCap.share`` of what is kept (class-balanced). A CASIA-HWDB1.0 training set (≈1.2 M samples, 3,740
classes) thus keeps ≈60 k HSK1 + ≤60 k Unknown samples, ≈190 MB, instead of 1.2 M float32 images (≈8 GB).
A first pass reads labels only; the second decodes (or, for ``.pot``, renders) and preprocesses only the kept
records. Batches draw their file part class-balanced (see ``BatchStream``).
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
from array import array
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
    """Preprocessed images [N, 40, 40] (float32 in [0, 1], or uint8 0–255 where stored compactly), class
    indices int32 [N], writer ids [N]."""

    x: np.ndarray
    y: np.ndarray
    writers: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, mask: np.ndarray) -> LabeledArrays:
        return LabeledArrays(self.x[mask], self.y[mask], self.writers[mask])

    def compacted(self, mask: np.ndarray, chunk: int = 4096) -> LabeledArrays:
        """``subset(mask)`` without a second copy of the images: kept rows move forward within this object's
        image buffer (which it then no longer owns), a chunk at a time, so memory does not double."""
        rows = np.flatnonzero(mask)
        for start in range(0, len(rows), chunk):  # rows[i] >= i: a chunk only overwrites rows already moved
            part = rows[start:start + chunk]
            self.x[start:start + len(part)] = self.x[part]
        return LabeledArrays(self.x[:len(rows)], self.y[rows], self.writers[rows])

    def as_float32(self) -> LabeledArrays:
        """The same samples with float32 images in [0, 1] (the model's input); self when already so."""
        return self if self.x.dtype == np.float32 else LabeledArrays(to_float32(self.x), self.y, self.writers)


def to_uint8(x: np.ndarray) -> np.ndarray:
    """Preprocessed float images in [0, 1] → uint8 0–255 (rounded; back with ``to_float32``, error ≤ 1/510)."""
    return np.rint(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def to_float32(x: np.ndarray) -> np.ndarray:
    """Images as the model takes them: float32 in [0, 1] (uint8 is divided by 255, float32 passes through)."""
    if x.dtype == np.uint8:
        return x.astype(np.float32) * np.float32(1 / 255)
    return x.astype(np.float32, copy=False)


@dataclass(frozen=True)
class UnknownCap:
    """How much of a training source's non-HSK1 writing is kept as Unknown (when the source holds HSK1 samples).

    Every HSK1 sample is kept. Each other label keeps at most ``per_class`` samples (< 0: all), drawn at random
    so they spread over the writers. If the Unknown samples left would then exceed ``share`` of everything
    kept, each label's quota shrinks evenly (class-balanced: quotas differ by at most one) until they fit
    (``share`` ≥ 1: no limit). A source without HSK1 samples (EMNIST, a folder of Latin letters) is kept whole:
    it was given to teach Unknown."""

    per_class: int = 16
    share: float = 0.5
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.share <= 1:
            raise ValueError(f"Unknown share {self.share} must be in [0, 1]")


def select_samples(labels: np.ndarray, names: list[str], cap: UnknownCap) -> np.ndarray:
    """Boolean mask of the samples kept: ``labels`` are label ids [N] into ``names`` (see ``UnknownCap``)."""
    hsk1 = np.array([is_hsk1(n) for n in names], bool)
    keep = hsk1[labels] if len(labels) else np.zeros(0, bool)
    n_hsk1 = int(keep.sum())
    if n_hsk1 == 0:
        return np.ones(len(labels), bool)
    counts = np.bincount(labels, minlength=len(names))
    quota = np.where(hsk1, 0, counts if cap.per_class < 0 else np.minimum(counts, cap.per_class))
    if cap.share < 1:
        budget = int(np.floor(n_hsk1 * cap.share / (1 - cap.share) + 1e-9))
        if quota.sum() > budget:
            quota = _water_fill(quota, budget, np.random.default_rng([cap.seed, 1]))
    rng = np.random.default_rng([cap.seed, 0])
    order = np.argsort(labels, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    for label in np.flatnonzero(quota):
        members = order[starts[label]:starts[label] + counts[label]]
        keep[rng.choice(members, size=quota[label], replace=False)] = True
    return keep


def _water_fill(quota: np.ndarray, budget: int, rng: np.random.Generator) -> np.ndarray:
    """The largest class-balanced quotas ≤ ``quota`` that sum to ``budget``: a common level q, and q + 1 for a
    random few of the labels that have more."""
    level = 0
    while np.minimum(quota, level + 1).sum() <= budget and level < quota.max():
        level += 1
    out = np.minimum(quota, level)
    spare = budget - int(out.sum())
    more = np.flatnonzero(quota > level)
    if spare > 0 and len(more):
        out[rng.choice(more, size=min(spare, len(more)), replace=False)] += 1
    return out


def label_to_class(label: str) -> int:
    """HSK1 character → its index; anything else (Latin, other characters) → Unknown."""
    return class_index(label) if is_hsk1(label) else UNKNOWN_INDEX


def _cache_key(path: Path, limit: int | None, cap: UnknownCap | None = None) -> str:
    """Changes with the file, the selection and the preprocessing code, so a shard is never stale."""
    from . import preprocess

    stat = path.stat() if path.exists() else None
    code = hashlib.sha1(Path(preprocess.__file__).read_bytes() + Path(__file__).read_bytes()).hexdigest()[:8]
    size, mtime = (stat.st_size, stat.st_mtime_ns) if stat else (0, 0)
    raw = f"{path.resolve()}|{size}|{mtime}|{limit}|{cap}|{code}"
    return hashlib.sha1(raw.encode()).hexdigest()[:16]


def load_source(path: str | Path, limit: int | None = None, use_cache: bool = True,
                cap: UnknownCap | None = None) -> LabeledArrays:
    """Read any supported source, preprocess every sample to 40×40, cache the result as an npz shard.

    Images come back float32 in [0, 1], exactly as ``preprocess`` made them (dev and evaluation sets). ``cap``
    bounds the Unknown samples kept (see ``UnknownCap``; None keeps all); training sources go through
    ``load_training_source`` (uint8)."""
    return _load(Path(path), cap, limit, use_cache, np.float32)


def load_training_source(path: str | Path, cap: UnknownCap | None = UnknownCap(), limit: int | None = None,
                         use_cache: bool = True) -> LabeledArrays:
    """A source as training stores it: uint8 images [N, 40, 40], every HSK1 sample, Unknown bounded by ``cap``.

    Two passes: labels only (cheap), then only the kept records are decoded and preprocessed, straight into a
    preallocated uint8 array. Memory ≈ 1,600 bytes per kept sample plus 4 bytes per record read; the shard
    cached on disk is the same uint8 array."""
    return _load(Path(path), cap, limit, use_cache, np.uint8)


def _load(path: Path, cap: UnknownCap | None, limit: int | None, use_cache: bool, dtype) -> LabeledArrays:
    from .formats.registry import iter_labels, iter_samples
    from .preprocess import InvalidImageError, preprocess

    kind = "u8" if dtype == np.uint8 else "f32"
    shard = cache_dir() / "shards" / f"{path.name}-{kind}-{_cache_key(path, limit, cap)}.npz"
    if use_cache and shard.is_file():
        with np.load(shard) as z:
            return LabeledArrays(z["x"], z["y"], z["writers"])
    names: dict[str, int] = {}
    ids = array("i")
    for label, _ in iter_labels(path, limit=limit):
        ids.append(names.setdefault(label, len(names)))
    labels = np.frombuffer(ids, np.int32) if len(ids) else np.zeros(0, np.int32)
    keep = select_samples(labels, list(names), cap) if cap is not None else np.ones(len(labels), bool)
    del ids, labels
    x = np.empty((int(keep.sum()), 40, 40), dtype)
    y = np.empty(len(x), np.int32)
    ws: list[str] = []
    for sample in iter_samples(path, limit=limit, keep=keep.__getitem__):
        try:
            image = preprocess(sample.image)
        except InvalidImageError:
            continue  # blank or broken samples carry no class information
        n = len(ws)
        x[n] = to_uint8(image) if dtype == np.uint8 else image
        y[n] = label_to_class(sample.label)
        ws.append(sample.writer)
    if not ws:
        raise ValueError(f"{path}: no usable samples")
    arrays = LabeledArrays(x[:len(ws)], y[:len(ws)], np.array(ws))
    if use_cache:
        shard.parent.mkdir(parents=True, exist_ok=True)
        np.savez(shard, x=arrays.x, y=arrays.y, writers=arrays.writers)
    return arrays


def load_training_sources(paths: tuple[str, ...] | list[str], cap: UnknownCap | None = UnknownCap()
                          ) -> LabeledArrays | None:
    """Every training source (``load_training_source``) in one uint8 set; None without sources."""
    if not paths:
        return None
    parts = [load_training_source(p, cap) for p in paths]
    if len(parts) == 1:
        return parts[0]
    return LabeledArrays(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("x", "y", "writers")))


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


class FilePicker:
    """Class-balanced draws from a file set: which rows make up a batch's file part.

    Unknown with probability ``unknown_fraction`` (when the set holds both Unknown and HSK1 samples), else an
    HSK1 class uniformly among those present, then a uniform sample of the drawn class. Without this, the
    ≈3,700 non-HSK1 classes of CASIA-HWDB (kept as Unknown) would fill ≈95 % of the real part of every batch."""

    def __init__(self, y: np.ndarray, unknown_fraction: float) -> None:
        self.order = np.argsort(y, kind="stable")
        classes, self.starts, self.counts = np.unique(y[self.order], return_index=True, return_counts=True)
        self.unknown = int(np.flatnonzero(classes == UNKNOWN_INDEX)[0]) if UNKNOWN_INDEX in classes else None
        self.hsk1 = np.flatnonzero(classes != UNKNOWN_INDEX)
        self.unknown_fraction = unknown_fraction

    def __call__(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if not len(self.hsk1):
            which = np.full(n, self.unknown)
        else:
            which = self.hsk1[rng.integers(0, len(self.hsk1), size=n)]
            if self.unknown is not None:
                which[rng.random(n) < self.unknown_fraction] = self.unknown
        offsets = (rng.random(n) * self.counts[which]).astype(np.int64)
        return self.order[self.starts[which] + offsets]


def _render_job(args: tuple[np.ndarray, int, object]) -> np.ndarray:
    from .synth.synthesizer import synth_batch

    ids, seed, config = args
    return synth_batch(ids, seed, config)


class BatchStream:
    """An endless stream of (x [B, 40, 40, 1], y [B]) training batches; batch k is the same for the same seed.

    ``files`` (optional, float32 or uint8 images) are mixed in: a ``file_fraction`` of each batch is drawn from
    them class-balanced (``FilePicker``): Unknown with probability ``file_unknown_fraction`` (default
    ``unknown_fraction``), else a uniform HSK1 class of those the files hold, then a random sample of that class.
    Rendering runs ahead in ``workers`` processes (0 = in this process), at most ``prefetch`` batches ahead.
    ``shard`` of ``shards`` (one per worker of a distributed run) yields batches shard, shard + shards, … of the
    single stream: no two shards render the same samples.
    """

    def __init__(self, batch_size: int, seed: int, unknown_fraction: float = 0.08, synth_config=None,
                 files: LabeledArrays | None = None, file_fraction: float = 0.0, workers: int = 1,
                 prefetch: int = 6, start_batch: int = 0, pool: np.ndarray | None = None,
                 file_unknown_fraction: float | None = None, shard: int = 0, shards: int = 1) -> None:
        self.pool, self.shard, self.shards = pool, shard, shards
        self.batch_size, self.seed, self.unknown_fraction = batch_size, seed, unknown_fraction
        self.synth_config, self.files, self.file_fraction = synth_config, files, file_fraction if files else 0.0
        self.workers, self.prefetch, self.next_batch = workers, prefetch, start_batch
        self._picker = FilePicker(files.y, unknown_fraction if file_unknown_fraction is None
                                  else file_unknown_fraction) if files else None
        self._pool = None
        self._pending: deque = deque()

    def _job(self, k: int) -> tuple[np.ndarray, int, object]:
        rng = np.random.default_rng([self.seed, k])
        n_synth = self.batch_size - round(self.batch_size * self.file_fraction)
        return sample_classes(rng, n_synth, self.unknown_fraction, self.pool), int(rng.integers(2**31)), self.synth_config

    def _submit(self) -> None:
        key = self.next_batch * self.shards + self.shard
        job = self._job(key)
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
                pick = self._picker(rng, self.batch_size - len(ids))
                x = np.concatenate([to_float32(x), to_float32(self.files.x[pick])])
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
    from .synth.synthesizer import synth_batch

    classes = np.arange(NUM_CHARS) if pool is None else pool
    ids = np.concatenate([np.repeat(classes, per_class), np.full(unknown, UNKNOWN_INDEX)])
    x = synth_batch(ids.astype(np.int32), seed, synth_config)
    return LabeledArrays(x.astype(np.float32), ids.astype(np.int32), np.array(["synth"] * len(ids)))
