"""Bootstrap intervals over writers: how far a rate could move with other writers of the same kind.

Samples of one writer are not independent (the same hand writes every character alike), so a rate's interval
resamples whole writers with replacement, not samples.
"""

from __future__ import annotations

import numpy as np


def writer_interval(hits: np.ndarray, writers: np.ndarray, n_boot: int = 1000, level: float = 0.95,
                    seed: int = 0) -> tuple[float, float, float]:
    """(rate, low, high): the mean of the boolean ``hits`` and its ``level`` bootstrap interval over writers."""
    hits = np.asarray(hits, bool)
    if not len(hits):
        return float("nan"), float("nan"), float("nan")
    ids, inverse = np.unique(np.asarray(writers).astype(str), return_inverse=True)
    k = np.bincount(inverse, hits, len(ids))  # hits per writer
    n = np.bincount(inverse, minlength=len(ids)).astype(float)  # samples per writer
    draws = np.random.default_rng(seed).integers(0, len(ids), (n_boot, len(ids)))
    rates = k[draws].sum(axis=1) / np.maximum(n[draws].sum(axis=1), 1)
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(rates, [tail, 100 - tail])
    return float(hits.mean()), float(lo), float(hi)


def paired_difference(hits_a: np.ndarray, hits_b: np.ndarray, writers: np.ndarray, n_boot: int = 1000,
                      level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """(difference, low, high) of the rate of ``hits_b`` minus that of ``hits_a`` on the same samples, with a
    ``level`` bootstrap interval that resamples whole writers for both at once (two models judged on one set)."""
    a, b = np.asarray(hits_a, float), np.asarray(hits_b, float)
    if len(a) != len(b):
        raise ValueError(f"paired hits differ in length: {len(a)} and {len(b)}")
    if not len(a):
        return float("nan"), float("nan"), float("nan")
    ids, inverse = np.unique(np.asarray(writers).astype(str), return_inverse=True)
    d = np.bincount(inverse, b - a, len(ids))  # difference in hits per writer
    n = np.bincount(inverse, minlength=len(ids)).astype(float)
    draws = np.random.default_rng(seed).integers(0, len(ids), (n_boot, len(ids)))
    diffs = d[draws].sum(axis=1) / np.maximum(n[draws].sum(axis=1), 1)
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(diffs, [tail, 100 - tail])
    return float(b.mean() - a.mean()), float(lo), float(hi)
