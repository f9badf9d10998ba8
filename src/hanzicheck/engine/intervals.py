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
