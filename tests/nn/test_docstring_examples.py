"""The examples in the docstrings run: every ``>>>`` line of the engine (``glassnet.nn``), the loop
(``glassnet.training``), the files and the configuration, checked with :mod:`doctest`."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import glassnet.config
import glassnet.files
import glassnet.nn
import glassnet.training


def _modules(package) -> list[str]:
    names = [package.__name__]
    names += [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
    return names


MODULES = [
    name
    for package in (glassnet.nn, glassnet.training, glassnet.files, glassnet.config)
    for name in _modules(package)
    if "_numba" not in name
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples of {name} failed"


def test_the_engine_has_examples():
    """Not a vacuous pass: the engine's docstrings hold examples that run."""
    attempted = sum(
        doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS).attempted
        for name in MODULES
        if name.startswith("glassnet.nn")
    )
    assert attempted >= 10
