"""Every function in src/ over 80 lines says in its docstring why it is long (scripts/long_functions.py: the
word "long" or "length", or "over N lines")."""

from __future__ import annotations

import textwrap
from pathlib import Path

from scripts_module import script

REPO = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())


def _script():
    return script("long_functions")


def test_every_function_over_80_lines_says_why():
    found = _script().long_functions([REPO / "src"])
    unexplained = [f"{f.path.relative_to(REPO)}:{f.line} {f.name} ({f.lines} lines)" for f in found if not f.explained]
    assert not unexplained, ("functions over 80 lines without a reason in their docstring (split them, or say why "
                             "they are long): " + "; ".join(unexplained))


def test_the_check_finds_methods_and_nested_functions_and_reads_the_reason(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(85))
    source = textwrap.dedent('''
        class A:
            def method(self):
                """Nothing said."""
        {body}

        def outer():
            """Long because every step shares the same locals."""
            def inner():
        {inner}
        ''').format(body=textwrap.indent(body, "    "), inner=textwrap.indent(body, "        "))
    (tmp_path / "m.py").write_text(source)
    found = {f.name: f for f in _script().long_functions([tmp_path])}
    assert set(found) == {"A.method", "outer", "outer.inner"}
    assert [found[n].explained for n in ("A.method", "outer", "outer.inner")] == [False, True, False]
    assert found["A.method"].lines == 87
