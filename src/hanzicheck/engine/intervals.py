"""Bootstrap intervals over writers: how far a rate could move with other writers of the same kind.

Samples of one writer are not independent (the same hand writes every character alike), so a rate's interval
resamples whole writers with replacement, not samples.
"""

from __future__ import annotations

import numpy as np


def writer_interval(hits: np.ndarray, writers: np.ndarray, n_boot: int = 1000, level: float = 0.95,
                    seed: int = 0) -> tuple[float, float, float]:
    """(rate, low, high): the mean of the boolean ``hits`` and its ``level`` bootstrap interval over writers."""
    return _over_writers(np.asarray(hits, bool).astype(float), writers, n_boot, level, seed)


def paired_difference(hits_a: np.ndarray, hits_b: np.ndarray, writers: np.ndarray, n_boot: int = 1000,
                      level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """(difference, low, high) of the rate of ``hits_b`` minus that of ``hits_a`` on the same samples, with a
    ``level`` bootstrap interval that resamples whole writers for both at once (two models judged on one set)."""
    a, b = np.asarray(hits_a, float), np.asarray(hits_b, float)
    if len(a) != len(b):
        raise ValueError(f"paired hits differ in length: {len(a)} and {len(b)}")
    return _over_writers(b - a, writers, n_boot, level, seed)


def _over_writers(values: np.ndarray, writers: np.ndarray, n_boot: int, level: float,
                  seed: int) -> tuple[float, float, float]:
    """(mean of ``values``, low, high): each bootstrap draw takes whole writers with replacement and divides the
    sum of their values by their number of samples."""
    if not len(values):
        return float("nan"), float("nan"), float("nan")
    ids, inverse = np.unique(np.asarray(writers).astype(str), return_inverse=True)
    total = np.bincount(inverse, values, len(ids))  # per writer
    n = np.bincount(inverse, minlength=len(ids)).astype(float)  # samples per writer
    draws = np.random.default_rng(seed).integers(0, len(ids), (n_boot, len(ids)))
    means = total[draws].sum(axis=1) / np.maximum(n[draws].sum(axis=1), 1)
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(values.mean()), float(lo), float(hi)
