"""glassnet: a transparent, numerically stable, fast neural-network library in NumPy.

The engine (layers, losses, networks, optimizers, training) needs only NumPy. The scikit-learn estimators
(`MLPClassifier`, `MLPRegressor`) are imported lazily, so `import glassnet` works without scikit-learn.
"""

from glassnet._version import __version__

__all__ = ["__version__", "MLPClassifier", "MLPRegressor", "from_sklearn", "to_sklearn"]

_LAZY = {
    "MLPClassifier": "glassnet.estimators",
    "MLPRegressor": "glassnet.estimators",
    "from_sklearn": "glassnet.export",
    "to_sklearn": "glassnet.export",
}


# submodules reachable as attributes after a plain ``import glassnet`` (``glassnet.io.load_model``)
_SUBMODULES = {"callbacks", "checkpoint", "config", "data", "engine", "estimators", "export", "files", "io", "nn",
               "recipes", "training"}  # fmt: skip


def __getattr__(name: str):
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"glassnet.{name}")
    raise AttributeError(f"module 'glassnet' has no attribute {name!r}")
