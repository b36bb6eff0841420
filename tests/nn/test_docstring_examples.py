"""The examples in the docstrings run: every ``>>>`` line of every glassnet module (the engine, the loop, the
files, the configuration, the estimators, export and the applications), checked with :mod:`doctest`."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import glassnet


def _modules() -> list[str]:
    names = [m.name for m in pkgutil.walk_packages(glassnet.__path__, "glassnet.")]
    # __main__ runs the command line when imported; the numba kernels compile on import
    return sorted(n for n in names if not n.endswith("__main__") and "_numba" not in n)


MODULES = _modules()
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an example that writes a file writes it here
    try:
        module = importlib.import_module(name)
    except ImportError as exc:  # an optional extra that is not installed
        pytest.skip(f"{name} needs {exc.name}")
    result = doctest.testmod(module, optionflags=FLAGS, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples of {name} failed"


def test_the_examples_are_there():
    """Not a vacuous pass: the engine's and the estimators' docstrings hold examples that run."""
    attempted = {
        prefix: sum(
            doctest.testmod(importlib.import_module(n), optionflags=FLAGS, report=False).attempted
            for n in MODULES
            if n.startswith(prefix)
        )
        for prefix in ("glassnet.nn", "glassnet.estimators")
    }
    assert attempted["glassnet.nn"] >= 10 and attempted["glassnet.estimators"] >= 10, attempted
