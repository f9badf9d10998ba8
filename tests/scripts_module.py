"""``script("name")``: scripts/name.py imported as a module, once per test session (registered in sys.modules
before it runs: a dataclass in it looks its own module up)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REPO = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())


def script(name: str):
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
        sys.modules[name] = module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return sys.modules[name]
