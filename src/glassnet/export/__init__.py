"""Export: glassnet models to ONNX, to scikit-learn and back.

* :func:`to_onnx` turns a :class:`~glassnet.nn.network.Sequential`, a fitted :class:`~glassnet.MLPClassifier` or
  :class:`~glassnet.MLPRegressor` into an ``onnx.ModelProto`` (needs ``pip install 'glassnet[onnx]'``);
  :func:`save_onnx` writes one atomically.
* :func:`register_skl2onnx` teaches skl2onnx the two estimators, so that a whole scikit-learn ``Pipeline``
  ending in one converts with ``skl2onnx.to_onnx``.
* :func:`from_sklearn` and :func:`to_sklearn` copy a fitted multilayer perceptron between scikit-learn and
  glassnet, with the same predictions.

Nothing here is imported before it is used: ``import glassnet.export`` needs only NumPy.
"""

from __future__ import annotations

__all__ = ["to_onnx", "save_onnx", "register_skl2onnx", "from_sklearn", "to_sklearn"]

_LAZY = {
    "to_onnx": "glassnet.export._onnx",
    "save_onnx": "glassnet.export._onnx",
    "register_skl2onnx": "glassnet.export._skl2onnx",
    "from_sklearn": "glassnet.export._sklearn",
    "to_sklearn": "glassnet.export._sklearn",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'glassnet.export' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
