r"""The loss protocol: what every loss declares and computes, and the helpers the built-in losses share.

A loss is a class with a ``name`` (stored in model files), a ``task`` (one of :data:`TASKS`) and these methods:

==================================  ==========================================================================
method                              returns
==================================  ==========================================================================
``forward(z, y, sample_weight)``    the loss of logits ``z`` ``(N, K)`` for targets ``y``, a float; caches
                                    :math:`\partial L/\partial z` as ``self._dz``
``backward()``                      that cached gradient, shape ``(N, K)``
``link(z)``                         logits to probabilities (classification) or values (regression)
``predict(z)``                      multiclass: class indices ``(N,)``; multilabel: 0/1 indicators
                                    ``(N, K)``; regression: ``link(z)``
``log_proba(z)``                    finite log-probabilities (a log-softmax or log-sigmoid); regression
                                    losses raise ``TypeError``
``chance_loss(y, n_outputs)``       the loss of an uninformed constant prediction for the targets ``y``, the
                                    scale against which a training loop judges divergence
``prepare_targets(y, dtype)``       ``y`` as ``forward`` wants it from a network computing in ``dtype``
``get_config()``                    constructor arguments, JSON-serialisable
==================================  ==========================================================================

:class:`Loss` gives defaults for all but ``forward`` and ``link``, chosen by the declared ``task``, so a new loss
is a ``forward``, a ``link`` and (for regression) a ``chance_loss``. The loss is averaged over samples, weighted by
``sample_weight`` :math:`w` when given: :math:`L = \sum_n w_n \ell_n / \sum_n w_n`; :func:`normalized_weights`
gives the column :math:`w_n / \sum w` and :meth:`Loss.targets_like` checks the targets. Check a new loss's
gradient with :func:`glassnet.nn.gradcheck.gradcheck_loss`, and register it with
:func:`glassnet.nn.losses.register_loss` so that ``Sequential.from_config`` and model files find it by name.
"""

from __future__ import annotations

import copy

import numpy as np

from glassnet.nn.functional import log_sigmoid, log_softmax
from glassnet.nn.sample_weights import check_weights

#: the tasks a loss may declare
TASKS = ("multiclass", "multilabel", "regression")

#: rows per pass of :meth:`Loss.chance_loss` (the loss of constant outputs), to bound its memory
_CHANCE_ROWS = 4096


def check_logits(z: np.ndarray) -> None:
    """Raise unless ``z`` is 2-D, ``(n_samples, n_outputs)``."""
    if z.ndim != 2:
        raise ValueError(f"Loss expects logits of shape (n_samples, n_outputs); got shape {z.shape}.")


def check_finite(name: str, a: np.ndarray) -> None:
    """Raise unless every entry of ``a`` is finite; ``name`` says which input it is."""
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values; clean or impute them before training.")


def normalized_weights(sample_weight, n: int, dtype) -> np.ndarray:
    r"""Normalised weights :math:`w_n / \sum w` of shape ``(N, 1)`` (``1/N`` each when none are given)."""
    if sample_weight is None:
        return np.full((n, 1), 1.0 / n, dtype=dtype)
    w = check_weights(sample_weight, n, dtype)  # (N,): finite, non-negative, a positive sum
    return (w / w.sum()).reshape(n, 1)


class Loss:
    """Base class and protocol of a loss on logits; see the module docstring for the methods.

    Subclasses set the class attributes ``name`` (unique, stored in model files) and ``task`` (one of
    :data:`TASKS`), and define ``forward`` (which caches ``self._dz``) and ``link``.
    """

    name: str = "loss"
    task: str = "regression"

    # --- to define ------------------------------------------------------------------------------------------

    def forward(self, z: np.ndarray, y, sample_weight=None) -> float:
        """The loss of logits ``z`` ``(N, K)`` for targets ``y``; caches ``dL/dz`` as ``self._dz``."""
        raise NotImplementedError(f"{type(self).__name__} must define forward(z, y, sample_weight=None).")

    def link(self, z: np.ndarray) -> np.ndarray:
        """The output activation that turns logits into predictions (probabilities or values)."""
        raise NotImplementedError(f"{type(self).__name__} must define link(z).")

    # --- defaults -------------------------------------------------------------------------------------------

    def backward(self) -> np.ndarray:
        """``dL/dz`` of the last ``forward``, shape ``(N, K)``."""
        if getattr(self, "_dz", None) is None:
            raise RuntimeError(f"{type(self).__name__}.backward() called before forward().")
        return self._dz

    def predict(self, z: np.ndarray) -> np.ndarray:
        """Predictions from logits, by ``task``: the most probable class ``(N,)`` (multiclass), the 0/1
        indicators ``[z > 0]`` ``(N, K)`` (multilabel, a probability above one half), or ``link(z)``."""
        if self.task == "multiclass":
            return np.argmax(z, axis=1)
        if self.task == "multilabel":
            return (z > 0).astype(np.intp)
        return self.link(z)

    def log_proba(self, z: np.ndarray) -> np.ndarray:
        """Finite log-probabilities by ``task``: log-softmax (multiclass), log-sigmoid (multilabel)."""
        if self.task == "multiclass":
            return log_softmax(z)
        if self.task == "multilabel":
            return log_sigmoid(z)
        raise TypeError(
            f"{type(self).__name__} is a {self.task} loss: it predicts values, not probabilities; use predict()."
        )

    def chance_loss(self, y, n_outputs: int) -> float:
        """The loss of an uninformed constant prediction of ``y`` by ``n_outputs`` outputs.

        By default the loss of all-zero logits, which is the chance level of a softmax or sigmoid head; a
        regression loss overrides it (the loss of the best constant, such as the mean or the median).
        """
        y = np.asarray(y)
        loss = copy.copy(self)  # a copy: this loss's cached gradient is left as it is
        total = 0.0
        for start in range(0, len(y), _CHANCE_ROWS):  # in chunks: a (60000, 10) float64 pass took 15 MiB
            part = y[start : start + _CHANCE_ROWS]
            total += len(part) * float(loss.forward(np.zeros((len(part), n_outputs)), part))
        return total / max(len(y), 1)

    def prepare_targets(self, y, dtype) -> np.ndarray:
        """``y`` as ``forward`` takes it from a network computing in ``dtype`` (here: cast to ``dtype``)."""
        return np.asarray(y).astype(dtype, copy=False)

    def get_config(self) -> dict:
        """Constructor arguments that rebuild this loss; JSON-serialisable."""
        return {}

    def targets_like(self, z: np.ndarray, y) -> np.ndarray:
        """``y`` as an array of ``z``'s shape and dtype (a 1-D ``y`` for one output becomes a column), checked
        finite; a shape that does not match raises."""
        y = np.asarray(y, dtype=z.dtype)
        if y.ndim == 1 and z.shape[1] == 1:
            y = y.reshape(-1, 1)
        if y.shape != z.shape:
            raise ValueError(
                f"{type(self).__name__}: targets of shape {y.shape} do not match outputs {z.shape}."
            )
        check_finite("y", y)
        return y

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"
