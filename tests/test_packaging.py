"""pyproject.toml declares what idrisk imports, and nothing it does not.

The imports are read from the installed package's source with ``ast`` (docstrings and
comments cannot fool it). A module imported at module level must be a runtime dependency;
one imported only inside a function (an optional backend loaded on first use) must be a
runtime dependency or belong to an extra; every runtime dependency must be imported.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

import pytest

import idrisk

PKG = Path(idrisk.__file__).resolve().parent
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

#: import name -> distribution name, where they differ
DIST_OF = {"yaml": "pyyaml", "sklearn": "scikit-learn", "PIL": "pillow"}


def _dist_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[(]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _imports(tree: ast.AST):
    """(top-level module name, at module level?) of every absolute import in ``tree``."""
    function_nodes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)

    def walk(node, in_function):
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, function_nodes)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name.split(".")[0], not in_function
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                yield child.module.split(".")[0], not in_function
            yield from walk(child, inner)

    yield from walk(tree, False)


def third_party_imports(pkg: Path = PKG) -> dict[str, bool]:
    """Distribution name -> imported at module level somewhere, for every third-party import of ``pkg``."""
    found: dict[str, bool] = {}
    for path in sorted(pkg.rglob("*.py")):
        for mod, top in _imports(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if mod in sys.stdlib_module_names or mod in ("idrisk", "__future__"):
                continue
            dist = DIST_OF.get(mod, mod).lower().replace("_", "-")
            found[dist] = found.get(dist, False) or top
    return found


def declared():
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    runtime = {_dist_name(r) for r in project["dependencies"]}
    extras = {name: {_dist_name(r) for r in reqs} for name, reqs in project["optional-dependencies"].items()}
    return runtime, extras


def test_the_import_reader_sees_module_level_and_function_level_imports():
    tree = ast.parse("import numpy as np\nfrom scipy.special import gammaln\n"
                     "def f():\n    import splink.comparison_library as cl\n    from . import x\n"
                     "class C:\n    import tqdm\n")
    assert list(_imports(tree)) == [("numpy", True), ("scipy", True), ("splink", False), ("tqdm", True)]


def test_every_module_level_import_is_a_runtime_dependency():
    runtime, _ = declared()
    missing = sorted(d for d, top in third_party_imports().items() if top and d not in runtime)
    assert not missing, f"imported at module level, not in [project] dependencies: {missing}"


def test_every_import_is_declared():
    runtime, extras = declared()
    anywhere = runtime.union(*extras.values())
    missing = sorted(set(third_party_imports()) - anywhere)
    assert not missing, f"imported by idrisk, declared nowhere in pyproject.toml: {missing}"


def test_every_runtime_dependency_is_imported():
    runtime, _ = declared()
    unused = sorted(runtime - set(third_party_imports()))
    assert not unused, f"runtime dependencies idrisk never imports: {unused}"


@pytest.mark.parametrize("extra, must_have", [("test", {"pytest", "hypothesis"}),
                                               ("crosscheck", {"recordlinkage", "pandas"}),
                                               ("splink", {"splink"})])
def test_extras(extra, must_have):
    _, extras = declared()
    assert must_have <= extras[extra]


def test_pandas_3_is_allowed_at_runtime():
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    pandas = [r for r in project["dependencies"] if _dist_name(r) == "pandas"]
    assert pandas == ["pandas>=2.2"]
