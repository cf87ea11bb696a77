"""The package's layering and size limits, read from its own source (docs/conventions.md).

The import graph is built with :mod:`ast` over every ``idrisk/**/*.py`` file: relative
imports are resolved against the importing module, and every import counts, whether it sits
at module level or inside a function (a lazy import still ties the two modules together, and
a cycle closed by a lazy import is still a cycle). ``from package import name`` is an edge to
the submodule ``package.name`` when that submodule exists, otherwise to ``package``. The
implicit import of a parent package (importing ``idrisk.metrics._suda`` first runs
``idrisk/metrics/__init__.py``) is not an edge: every package re-exports its own submodules,
so counting it would make every package a cycle with itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import idrisk

#: the package under test (the source tree, or an installed wheel when the suite runs outside it)
PACKAGE = Path(idrisk.__file__).resolve().parent
ROOT = PACKAGE.parent

#: Private-by-package modules: their leading-underscore names may be imported elsewhere.
PRIVATE_BY_PACKAGE = ("idrisk._kernels", "idrisk._encode", "idrisk._validation",
                      "idrisk._results", "idrisk._config")
#: Functions allowed over the 80-code-line limit: the numba kernels and the population
#: generator's stages (one long vectorised draw each).
LONG_FUNCTIONS_ALLOWED = ("idrisk._kernels", "idrisk.datasets._stages")
MAX_MODULE_LINES = 500
MAX_FUNCTION_CODE_LINES = 80


def _modules() -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (path, is a package ``__init__``)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_package)
    return out


MODULES = _modules()


def _imports(name: str) -> list[tuple[str, str | None, int]]:
    """(imported idrisk module, imported name or None, line) for every import in ``name``."""
    path, is_package = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = name.split(".") if is_package else name.split(".")[:-1]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((alias.name, None, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                if sub in MODULES:
                    out.append((sub, None, node.lineno))
                else:
                    out.append((module, alias.name, node.lineno))
    return [(m, n, line) for m, n, line in out if m == "idrisk" or m.startswith("idrisk.")]


GRAPH = {name: sorted({m for m, _, _ in _imports(name)} - {name}) for name in MODULES}


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected components of ``graph`` with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(out)


def test_the_graph_sees_the_package():
    # the parser resolves relative imports: a few edges known to exist
    assert "idrisk.metrics._population" in GRAPH["idrisk.metrics._suda"]
    assert "idrisk.datasets._reference" in GRAPH["idrisk.datasets.population"]
    assert "idrisk.assessment" in GRAPH["idrisk.mitigation"] or \
        "idrisk.assessment.mitigation" in GRAPH["idrisk.mitigation"]
    assert len(MODULES) > 50


def test_cycle_finder_finds_cycles():
    assert _cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
    assert _cycles({"a": ["b", "c"], "b": ["c"], "c": []}) == []


def test_kernels_import_nothing_of_idrisk_but_config():
    bad = [f"{name} imports {m} (line {line})"
           for name in MODULES if _in(name, "idrisk._kernels")
           for m, _, line in _imports(name)
           if not _in(m, "idrisk._kernels") and m != "idrisk._config"]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("lower", ["idrisk.metrics", "idrisk.intruder"])
def test_metrics_and_intruder_never_import_the_upper_layers(lower):
    upper = ("idrisk.assessment", "idrisk.report", "idrisk.cli")
    bad = [f"{name} imports {m} (line {line})"
           for name in MODULES if _in(name, lower)
           for m, _, line in _imports(name)
           if any(_in(m, u) for u in upper)]
    assert not bad, "\n".join(bad)


def test_report_renders_plain_data_and_imports_no_layer_above_it():
    """The report is a renderer of the result's plain dict: the assessment calls it
    (``AssessmentResult.to_html``), so it must import nothing of assessment or cli."""
    bad = [f"{name} imports {m} (line {line})"
           for name in MODULES if _in(name, "idrisk.report")
           for m, _, line in _imports(name)
           if any(_in(m, u) for u in ("idrisk.assessment", "idrisk.cli", "idrisk.mitigation"))]
    assert not bad, "\n".join(bad)


def test_no_import_cycle():
    cycles = _cycles(GRAPH)
    assert not cycles, "modules in an import cycle:\n" + "\n".join(
        " <-> ".join(c) + "\n    " + "; ".join(
            f"{a} -> {b}" for a in c for b in GRAPH[a] if b in c) for c in cycles)


def test_no_private_name_imported_across_modules():
    bad = []
    for name in MODULES:
        for module, imported, line in _imports(name):
            if (imported is not None and imported.startswith("_") and module != name
                    and not imported.startswith("__")
                    and not any(_in(module, p) for p in PRIVATE_BY_PACKAGE)):
                bad.append(f"{name} imports {imported} from {module} (line {line})")
    assert not bad, "\n".join(bad)


def test_no_module_over_the_line_limit():
    bad = []
    for name, (path, _) in MODULES.items():
        if _in(name, "idrisk._kernels"):
            continue
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            bad.append(f"{path.relative_to(ROOT)}: {lines} lines")
    assert not bad, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(bad)


def code_lines(source_lines: list[str], node: ast.AST) -> int:
    """Non-blank, non-comment lines of a function, its docstring left out."""
    skip: set[int] = set()
    body = getattr(node, "body", [])
    if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):
        skip.update(range(body[0].lineno, body[0].end_lineno + 1))
    count = 0
    for lineno in range(node.lineno, node.end_lineno + 1):
        text = source_lines[lineno - 1].strip()
        if lineno in skip or not text or text.startswith("#"):
            continue
        count += 1
    return count


def test_code_lines_counts_code_only():
    source = ('def f(x):\n    """Doc.\n\n    More doc.\n    """\n    # a comment\n\n'
              '    y = x + 1\n    return y\n')
    node = ast.parse(source).body[0]
    assert code_lines(source.splitlines(), node) == 3  # def, y = ..., return


def test_no_function_over_the_line_limit():
    bad = []
    for name, (path, _) in MODULES.items():
        if any(_in(name, p) for p in LONG_FUNCTIONS_ALLOWED):
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = code_lines(lines, node)
                if n > MAX_FUNCTION_CODE_LINES:
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {n}")
    assert not bad, f"functions over {MAX_FUNCTION_CODE_LINES} code lines:\n" + "\n".join(bad)
