"""Sizes: no function over 50 lines, no class over 250 (a room a reader can hold in their head).

A ``def`` or ``class`` is measured from its first line to its last, less its own docstring: the formulas and
the parameters a reader needs take the room they need. Decorators are not counted. A function nested in another
(or a method in its class) counts on its own, and its lines, docstring included, count in its parent's too. The source is read with
``ast``; nothing is imported.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "glassnet"

MAX_FUNCTION_LINES = 50
MAX_CLASS_LINES = 250


def code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> int:
    """Lines from ``def``/``class`` to the end of the body, less the docstring's lines."""
    n = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        n -= first.end_lineno - first.lineno + 1
    return n


def oversized(source: str, filename: str) -> list[str]:
    """Every function over :data:`MAX_FUNCTION_LINES` and class over :data:`MAX_CLASS_LINES` in ``source``,
    as ``'filename:line function name: n lines (limit m)'``."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.ClassDef):
            kind, limit = "class", MAX_CLASS_LINES
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            kind, limit = "function", MAX_FUNCTION_LINES
        else:
            continue
        n = code_lines(node)
        if n > limit:
            found.append(f"{filename}:{node.lineno} {kind} {node.name}: {n} lines (limit {limit})")
    return found


def test_no_function_over_50_lines_and_no_class_over_250():
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 50  # the package was found
    found = []
    for path in modules:
        found += oversized(path.read_text(encoding="utf-8"), str(path.relative_to(SRC.parent)))
    assert not found, (
        "split these by concern, into helpers that name a step (docstrings do not count):\n"
        + "\n".join(found)
    )


# --- the checker itself -------------------------------------------------------------------------------------


def _function(name: str, n_lines: int, docstring_lines: int = 0, indent: str = "") -> str:
    """Source of a function of exactly ``n_lines`` code lines (its ``def`` line included), after a docstring of
    ``docstring_lines`` lines."""
    lines = [f"def {name}(x):"]
    if docstring_lines:
        lines += ['    """A docstring', *["    of many lines"] * (docstring_lines - 2), '    """']
    lines += [f"    x = x + {i}" for i in range(n_lines - 2)] + ["    return x"]
    return textwrap.indent("\n".join(lines), indent) + "\n"


def test_checker_counts_code_lines_not_docstrings():
    assert oversized(_function("fits", 50, docstring_lines=40), "m.py") == []
    assert oversized(_function("long", 51), "m.py") == ["m.py:1 function long: 51 lines (limit 50)"]
    tree = ast.parse(_function("f", 12, docstring_lines=7))
    assert code_lines(tree.body[0]) == 12


def test_checker_catches_a_long_nested_function_and_a_long_async_one():
    nested = "def outer():\n" + _function("inner", 51, indent="    ") + "    return inner\n"
    assert oversized(nested, "m.py") == [
        "m.py:1 function outer: 53 lines (limit 50)",
        "m.py:2 function inner: 51 lines (limit 50)",
    ]
    long_async = _function("fetch", 51).replace("def fetch", "async def fetch")
    assert oversized(long_async, "m.py") == ["m.py:1 function fetch: 51 lines (limit 50)"]


def test_checker_catches_a_long_class_of_short_methods():
    # the class line, its docstring (not counted) and 10 methods of 25 lines less one: 250 lines
    methods = "".join(_function(f"method_{i}", 25, indent="    ") for i in range(10))
    methods = methods.replace("        x = x + 0\n", "", 1)
    fits = 'class Fits:\n    """Class docstring,\n    not counted."""\n' + methods
    assert oversized(fits, "m.py") == []
    long_class = fits.replace("class Fits:", "class Long:") + "    limit = 250\n"
    assert oversized(long_class, "m.py") == ["m.py:1 class Long: 251 lines (limit 250)"]
