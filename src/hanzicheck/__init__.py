"""hanzicheck: recognise and check handwritten Chinese characters (HSK1), offline.

``from hanzicheck import Recognizer`` is the Python API (``hanzicheck.inference.recognizer``); it is imported on
first use, so that ``import hanzicheck`` (and the CLI's ``--help``) stays light.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["InvalidImageError", "Recognizer", "__version__"]

_LAZY = {"Recognizer": "hanzicheck.inference.recognizer", "InvalidImageError": "hanzicheck.data.preprocess"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hanzicheck' has no attribute {name!r}")
