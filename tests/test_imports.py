"""The package's import graph: no cycles, and no training stack under inference/, service/ or data/.

The graph is read from the source with ``ast`` (nothing is imported): one node per module of ``src/hanzicheck``,
one edge per ``import hanzicheck...`` or ``from ... import ...`` naming another module of the package, relative
imports resolved. *Every* import counts, the ones inside functions and ``if TYPE_CHECKING:`` blocks included: a
lazy import still makes one module depend on the other, and a cycle through one still means neither can be read or
moved without the other. ``from pkg import name`` is an edge to ``pkg.name`` when that is a module, else to ``pkg``
(its ``__init__``). Parent packages that Python imports on the way are not edges of their own.

docs/ARCHITECTURE.md draws the package-level graph this test keeps honest (``package_graph`` prints it).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "hanzicheck"
NO_TRAINING_STACK = ("inference", "service", "data")  # ONNX Runtime and numpy only: no Keras, TensorFlow, onnx
TRAINING_STACK = ("keras", "tensorflow", "tf2onnx", "onnx")  # top-level names; onnxruntime is another name
TRAINING_SIDE = ("engine", "models", "cli")  # subpackages that import the training stack (or everything)


def modules() -> dict[str, tuple[Path, bool]]:
    """Dotted module name → (file, is a package ``__init__``) for every module of the package."""
    found = {}
    for file in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(file.relative_to(SRC).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (file, is_package)
    return found


def imports(name: str, file: Path, is_package: bool, mods: dict) -> list[tuple[str, int]]:
    """(absolute module name, line) of every import in the file, relative ones resolved: ``from X import a`` is
    ``X.a`` when that is a module of the package, else ``X``."""
    here = name.split(".") if is_package else name.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"), str(file))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(here[:len(here) - node.level + 1] + ([node.module] if node.module else []))
            found += [(f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base, node.lineno) for a in node.names]
    return found


def graph() -> dict[str, set[str]]:
    """Module → the package's modules it imports (see the module docstring for what counts)."""
    mods = modules()
    return {name: {t for t, _ in imports(name, file, is_package, mods) if t in mods and t != name}
            for name, (file, is_package) in mods.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def package_of(module: str) -> str:
    """``hanzicheck.data.formats.gnt`` → ``data``; top-level modules (``hanzicheck.config_check``) name themselves."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def package_graph() -> dict[str, set[str]]:
    """Subpackage → the subpackages it imports: the graph docs/ARCHITECTURE.md draws."""
    out: dict[str, set[str]] = {}
    for source, targets in graph().items():
        out.setdefault(package_of(source), set()).update(package_of(t) for t in targets)
    return {k: v - {k} for k, v in out.items()}


def test_the_graph_sees_relative_and_lazy_imports():
    edges = graph()
    assert "hanzicheck.data.formats.members" in edges["hanzicheck.data.formats.gnt"]  # from .members import ...
    assert "hanzicheck.data.formats.gnt" in edges["hanzicheck.data.formats.registry"]  # from . import gnt, inside a function
    assert "hanzicheck.data.preprocess" in edges["hanzicheck.cli._common"]  # from ..data.preprocess, lazy


def test_no_import_cycles():
    edges = graph()
    found = cycles(edges)
    described = ["; ".join(f"{m} → {', '.join(sorted(edges[m] & set(c)))}" for m in c) for c in found]
    assert not found, "import cycles:\n" + "\n".join(described)


def test_inference_service_and_data_never_import_the_training_stack():
    bad = []
    mods = modules()
    for name, (file, is_package) in mods.items():
        if package_of(name) not in NO_TRAINING_STACK:
            continue
        for target, line in imports(name, file, is_package, mods):
            top = target.split(".")[0]
            if top in TRAINING_STACK or (top == PACKAGE and package_of(target) in TRAINING_SIDE):
                bad.append(f"{file.relative_to(SRC)}:{line} imports {target}")
    assert not bad, "\n".join(bad)


def test_architecture_doc_draws_every_package_edge():
    doc = (SRC.parent / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    missing = [f"{a} --> {b}" for a, targets in sorted(package_graph().items()) for b in sorted(targets)
               if f"{a} --> {b}" not in doc]
    assert not missing, "docs/ARCHITECTURE.md's module graph lacks: " + ", ".join(missing)
