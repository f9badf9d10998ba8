"""The class list: the 178 HSK1 characters (line order = class index) plus Unknown at index 178."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

UNKNOWN = "Unknown"
NUM_CHARS = 178
NUM_CLASSES = NUM_CHARS + 1
UNKNOWN_INDEX = NUM_CHARS


@lru_cache(maxsize=1)
def hsk1_chars() -> tuple[str, ...]:
    """The 178 HSK1 characters in class-index order (read from package data, cached)."""
    text = resources.files("hanzicheck.data").joinpath("hsk1_chars.txt").read_text(encoding="utf-8")
    chars = tuple(line.strip() for line in text.splitlines() if line.strip())
    if len(chars) != NUM_CHARS or len(set(chars)) != NUM_CHARS:
        raise RuntimeError(f"hsk1_chars.txt must list {NUM_CHARS} distinct characters, found {len(chars)}")
    return chars


def classes() -> tuple[str, ...]:
    """All 179 class names: the HSK1 characters, then ``Unknown``."""
    return hsk1_chars() + (UNKNOWN,)


@lru_cache(maxsize=1)
def _index() -> dict[str, int]:
    return {c: i for i, c in enumerate(classes())}


def class_index(name: str) -> int:
    """Class index of a character (or ``Unknown``); raises KeyError with a clear message otherwise."""
    try:
        return _index()[name]
    except KeyError:
        raise KeyError(f"{name!r} is not one of the {NUM_CHARS} HSK1 characters") from None


def is_hsk1(char: str) -> bool:
    return char in _index() and char != UNKNOWN
