"""The layer protocol shared by every layer."""

from __future__ import annotations

import numpy as np


class Layer:
    """Base class: a layer maps ``x`` to ``y`` in ``forward`` and ``dL/dy`` to ``dL/dx`` in ``backward``.

    Attributes
    ----------
    params : dict[str, ndarray]
        Trainable arrays by name (``{"W": ..., "b": ...}``); empty for parameter-free layers. A ``Sequential``
        replaces them by views into its flat parameter vector, so layers always read ``self.params[name]``.
    grads : dict[str, ndarray]
        Gradients of the loss with respect to ``params``, same keys and shapes, written by ``backward``.
    training : bool
        Training mode (dropout active) or evaluation mode; set by ``Sequential.train()`` / ``.eval()``.
    input_grad : bool
        Whether ``backward`` must return ``dL/dx``. A ``Sequential`` switches it off for its first trainable
        layer, whose input is the data and needs no gradient.
    """

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.training = False
        self.input_grad = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        raise NotImplementedError

    def get_config(self) -> dict:
        """Constructor arguments that rebuild this layer (weights excluded); JSON-serialisable."""
        return {}

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def _check_backward(self, dy: np.ndarray, cached, out_shape) -> None:
        """Refuse a backward that does not follow a matching forward (it would give wrong gradients)."""
        if cached is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward() called before forward(): run forward on the batch first."
            )
        if np.shape(dy) != out_shape:
            raise ValueError(
                f"{type(self).__name__}.backward() got a gradient of shape {np.shape(dy)}, but the last "
                f"forward() produced shape {out_shape}; backward must follow the forward of the same batch."
            )
