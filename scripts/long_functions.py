"""List the functions in src/ longer than 80 lines (``def`` line to last line, decorators left out), longest
first, and whether each says in its docstring why it is long.

    python scripts/long_functions.py [--max 80] [ROOT ...]

A long function must say why in its docstring (tests/test_function_length.py checks it): a sentence holding the
word "long" or "length", or "over N lines" (any case, whole words: not "longer" or "along"), e.g. "Its length
(about 180 lines): one run's steps in order, sharing a dozen locals." or "Over 80 lines because typer reads the 25
options from the signature." (a CLI verb puts it after ``\\f``, out of ``--help``). Exit status 1 when a long
function does not say why.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_LINES = 80
ROOT = Path(__file__).resolve().parents[1] / "src"
MARKER = re.compile(r"\b(long|length)\b|\bover \d+ lines\b", re.IGNORECASE)


@dataclass(frozen=True)
class LongFunction:
    path: Path
    name: str  # qualified: Class.method, outer.inner
    line: int
    lines: int
    explained: bool


def says_why(doc: str | None) -> bool:
    """Does the docstring say why the function is long ("long", "length" or "over N lines" in it)?"""
    return bool(doc) and MARKER.search(doc) is not None


def _walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield prefix + child.name, child
            yield from _walk(child, f"{prefix}{child.name}.")
        elif isinstance(child, ast.ClassDef):
            yield from _walk(child, f"{prefix}{child.name}.")
        else:
            yield from _walk(child, prefix)


def long_functions(roots: list[Path] | None = None, max_lines: int = MAX_LINES) -> list[LongFunction]:
    """Every function (methods and nested ones too) over ``max_lines`` lines under ``roots``, longest first."""
    found = []
    for root in roots or [ROOT]:
        for path in sorted(root.rglob("*.py")) if root.is_dir() else [root]:
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for name, fn in _walk(tree, ""):
                n = fn.end_lineno - fn.lineno + 1
                if n > max_lines:
                    found.append(LongFunction(path, name, fn.lineno, n, says_why(ast.get_docstring(fn))))
    return sorted(found, key=lambda f: -f.lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="*", type=Path, help="files or folders (default: src/)")
    parser.add_argument("--max", type=int, default=MAX_LINES, help="longest allowed without a reason (lines)")
    args = parser.parse_args(argv)
    found = long_functions(args.roots or None, args.max)
    for f in found:
        where = f.path.relative_to(ROOT.parent) if f.path.is_relative_to(ROOT.parent) else f.path
        print(f"{f.lines:4d}  {where}:{f.line}  {f.name}  {'says why' if f.explained else 'NO REASON GIVEN'}")
    return 1 if any(not f.explained for f in found) else 0


if __name__ == "__main__":
    sys.exit(main())
