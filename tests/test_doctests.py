"""The docstring examples of every module of idrisk run and give the values they show.

The same check as ``pytest --doctest-modules idrisk``, inside the suite so that a plain
``pytest`` (``make test``) runs it. Every expected value in an example was worked out by hand
or with an independent computation, not pasted from a run.
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

import idrisk

#: the package under test (the source tree, or an installed wheel when the suite runs outside it)
PACKAGE = Path(idrisk.__file__).resolve().parent
ROOT = PACKAGE.parent
#: modules that cannot be imported for their docstrings: running ``idrisk.__main__`` runs the CLI
NOT_IMPORTED = {"idrisk.__main__"}


def _module_names() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(parts)
        if name not in NOT_IMPORTED:
            names.append(name)
    return names


MODULES = _module_names()


def _examples(name: str):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    return [t for t in finder.find(module, name) if t.examples]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # idrisk.mitigation: deprecated alias
def test_the_finder_sees_the_examples():
    assert sum(len(_examples(name)) for name in MODULES) >= 15


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in _examples(name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed (see output)"
