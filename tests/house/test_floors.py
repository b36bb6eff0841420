"""The house: every import of a glassnet module points down the floors, and no imports run in circles.

The floors, from the bottom (see docs/contributing.md):

0. leaves: ``exceptions``, ``_files`` (atomic file writing), ``_version``, ``_moved``, ``fast``
1. ``nn``: the textbook (functional, initializers, layers, losses, network, optim, schedules, gradcheck, trace)
2. ``training``: the loop and what hangs off it
3. ``files``: model files and checkpoints
4. the scikit-learn face: ``config``, ``estimators``
5. the applications: ``cli``, ``playground``, ``report``, ``export``, ``data``, ``bench``, ``lab``, ... and the
   old names (``glassnet.network``, ``glassnet.io``, ...) that keep users' imports working.

Imports are read with ``ast`` from the source, those inside functions included (a lazy import is still a
dependency). ``if TYPE_CHECKING:`` imports count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "glassnet"

FLOORS = {
    "glassnet.exceptions": 0,
    "glassnet._files": 0,
    "glassnet._version": 0,
    "glassnet._moved": 0,
    "glassnet.fast": 0,
    "glassnet.nn": 1,
    "glassnet.training": 2,
    "glassnet.files": 3,
    "glassnet.config": 4,
    "glassnet.estimators": 4,
}
APPLICATIONS = 5  # everything else


def _modules() -> dict[str, Path]:
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = path
    return mods


MODULES = _modules()


def floor(module: str) -> int:
    """The floor of a module: that of its longest listed prefix."""
    parts = module.split(".")
    for k in range(len(parts), 0, -1):
        prefix = ".".join(parts[:k])
        if prefix in FLOORS:
            return FLOORS[prefix]
    return APPLICATIONS


def _is_moved_name(module: str) -> bool:
    """An old name kept for users (its docstring says where the code lives now)."""
    doc = ast.get_docstring(ast.parse(MODULES[module].read_text())) or ""
    return doc.startswith("Moved") or module in {"glassnet.io", "glassnet.checkpoint", "glassnet.callbacks"}


def _target(name: str) -> str | None:
    """The glassnet module an imported dotted name belongs to (a module, or the module defining a name)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> list[tuple[str, int]]:
    """(imported glassnet module, line) for every import statement in ``module``'s source."""
    path = MODULES[module]
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(base + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] != "glassnet":
                continue
            target = _target(name)
            if target is not None and target != module:
                found.append((target, node.lineno))
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def test_every_import_points_down():
    upward = [
        f"{module}:{line} ({floor(module)}) imports {target} ({floor(target)})"
        for module, edges in GRAPH.items()
        for target, line in edges
        if floor(target) > floor(module)
    ]
    assert not upward, "imports that point up a floor:\n" + "\n".join(sorted(upward))


def test_the_package_uses_the_new_names():
    """The old names are for users; glassnet's own modules import where the code lives now."""
    old = [
        f"{module}:{line} imports {target}"
        for module, edges in GRAPH.items()
        if module != "glassnet" and not _is_moved_name(module)
        for target, line in edges
        if _is_moved_name(target)
    ]
    assert not old, "imports of old names inside glassnet:\n" + "\n".join(sorted(old))


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, result, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
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
                result.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return result


def test_no_import_circles():
    graph = {module: {target for target, _ in edges} for module, edges in GRAPH.items()}
    assert _cycles(graph) == []


def test_the_checker_sees_a_circle_and_an_upward_import():
    """The two rules above can fail: a made-up graph with a circle, and a textbook module importing the loop."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert (
        floor("glassnet.nn.layers.dense") < floor("glassnet.training.trainer") < floor("glassnet.files.model")
    )
    assert floor("glassnet.estimators._base") < floor("glassnet.cli.train")


@pytest.mark.parametrize(
    "old, new",
    [
        ("glassnet.functional", "glassnet.nn.functional"),
        ("glassnet.layers", "glassnet.nn.layers"),
        ("glassnet.layers.dense", "glassnet.nn.layers.dense"),
        ("glassnet.losses", "glassnet.nn.losses"),
        ("glassnet.losses.huber", "glassnet.nn.losses.huber"),
        ("glassnet.network", "glassnet.nn.network"),
        ("glassnet.mlp", "glassnet.nn.network"),
        ("glassnet.optim", "glassnet.nn.optim"),
        ("glassnet.schedules", "glassnet.nn.schedules"),
        ("glassnet.gradcheck", "glassnet.nn.gradcheck"),
        ("glassnet.trace", "glassnet.nn.trace"),
        ("glassnet.trainingdata", "glassnet.training.data"),
        ("glassnet.divergence", "glassnet.training.divergence"),
        ("glassnet.metrics", "glassnet.training.metrics"),
        ("glassnet.augment", "glassnet.training.augment"),
        ("glassnet.parallel", "glassnet.training.parallel"),
        ("glassnet.workplan", "glassnet.training.workplan"),
        ("glassnet.threads", "glassnet.training.threads"),
    ],
)
def test_old_names_are_the_same_modules(old, new):
    import importlib

    assert importlib.import_module(old) is importlib.import_module(new)


def test_old_faces_keep_their_names():
    import glassnet
    from glassnet.callbacks import Callback, EarlyStopping, History, ModelCheckpoint  # noqa: F401
    from glassnet.checkpoint import load_checkpoint, resume, resume_estimator  # noqa: F401
    from glassnet.io import load_estimator, load_model, load_safetensors, save_estimator, save_model  # noqa: F401
    from glassnet.network import Sequential, build_mlp  # noqa: F401
    from glassnet.training import Trainer, train_validation_split  # noqa: F401

    assert glassnet.io.load_model is load_model  # `import glassnet` gives glassnet.io (issue 20)
