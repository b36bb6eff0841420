r"""Losses computed from logits, each with its fused gradient, and the registry that finds them by name.

All losses take the network's raw output ``z`` (logits) of shape ``(N, K)`` and average over samples,
weighted by ``sample_weight`` :math:`w` when given: :math:`L = \sum_n w_n \ell_n / \sum_n w_n`. Each loss is a
module of its own, whose class docstring gives its formula and gradient; :math:`r = z - y` below.

=============================  ======================  ==========  ==============================================
class                          ``name``                ``task``    per-sample :math:`\ell_n`
=============================  ======================  ==========  ==============================================
``SoftmaxCrossEntropy``        softmax_cross_entropy   multiclass  :math:`-\sum_k y_k \log \mathrm{softmax}(z)_k`
``SigmoidBinaryCrossEntropy``  sigmoid_binary_cross_   multilabel  :math:`\sum_k \mathrm{softplus}(z_k) - y_k z_k`
                               entropy
``SquaredError``               squared_error           regression  :math:`\tfrac{1}{2K} \sum_k r_k^2`
``PoissonLoss`` (log link)     poisson                 regression  :math:`\tfrac1K \sum_k e^{z_k} - y_k z_k + y_k\log y_k - y_k`
``AbsoluteError``              absolute_error          regression  :math:`\tfrac1K \sum_k |r_k|`
``HuberLoss(delta)``           huber                   regression  :math:`\tfrac1K \sum_k \rho_\delta(r_k)` (quadratic, then linear)
``PinballLoss(quantile)``      pinball (or quantile)   regression  :math:`\tfrac1K \sum_k \max(-q r_k, (1 - q) r_k)`
=============================  ======================  ==========  ==============================================

The L2 penalty (:meth:`glassnet.nn.network.Sequential.loss_and_grad`) is kept apart from the data term:
:math:`\frac{\alpha}{2 n} \sum \|W\|^2` over the parameters that layers declare in ``decay`` (the weight
matrices, not biases), with :math:`n` the *training-set* size. scikit-learn divides by the *batch* size
instead, so its ``alpha`` regularises harder when batches are small; glassnet's does not depend on it.

Writing your own loss
---------------------
:class:`Loss` is the protocol (its methods are listed in :mod:`glassnet.nn.losses.base`). Subclass it, set
``name`` and ``task``, write ``forward`` (which caches the gradient as ``self._dz``) and ``link``, and, for a
regression loss, ``chance_loss``; ``predict``, ``log_proba`` and ``prepare_targets`` follow from ``task``.
Check the gradient with :func:`glassnet.nn.gradcheck.gradcheck_loss`, and make the loss known by name (to
:func:`get_loss`, ``Sequential.from_config`` and model files) with :func:`register_loss`:

>>> import numpy as np
>>> from glassnet.nn.gradcheck import gradcheck_loss
>>> @register_loss
... class LogCosh(Loss):
...     # l = mean_k log cosh(z_k - y_k), dl/dz = tanh(z - y) / K
...     name, task = "log_cosh", "regression"
...
...     def link(self, z):
...         return z.copy()
...
...     def forward(self, z, y, sample_weight=None):
...         r = z - self.targets_like(z, y)  # (N, K)
...         w = normalized_weights(sample_weight, len(z), z.dtype)  # (N, 1), sums to 1
...         self._dz = np.tanh(r) * w / z.shape[1]
...         return float(np.mean(np.logaddexp(r, -r) - np.log(2.0), axis=1) @ w[:, 0])
>>> rng = np.random.default_rng(0)
>>> errors = gradcheck_loss(LogCosh(), rng.normal(size=(5, 2)), rng.normal(size=(5, 2)))
>>> get_loss("log_cosh")
LogCosh()
>>> _ = LOSSES.pop("log_cosh")  # forget it again
"""

from __future__ import annotations

from glassnet.nn.losses.absolute_error import AbsoluteError
from glassnet.nn.losses.base import TASKS, Loss, check_finite, check_logits, normalized_weights
from glassnet.nn.losses.binary_cross_entropy import SigmoidBinaryCrossEntropy
from glassnet.nn.losses.huber import HuberLoss
from glassnet.nn.losses.pinball import PinballLoss
from glassnet.nn.losses.poisson import PoissonLoss
from glassnet.nn.losses.softmax_cross_entropy import SoftmaxCrossEntropy
from glassnet.nn.losses.squared_error import SquaredError

#: loss name (and alias) -> class: what ``get_loss``, ``Sequential.from_config`` and model files look up
LOSSES: dict[str, type[Loss]] = {}


def register_loss(cls: type[Loss], *aliases: str) -> type[Loss]:
    """Make a loss class known by its ``name`` (and any ``aliases``); usable as a class decorator.

    The class must subclass :class:`Loss` and declare a ``name`` and a ``task`` in :data:`TASKS`.
    """
    if not isinstance(cls, type) or not issubclass(cls, Loss):
        raise TypeError(f"register_loss expects a subclass of glassnet.nn.losses.Loss; got {cls!r}.")
    if not isinstance(cls.name, str) or not cls.name or cls.name == Loss.name:
        raise ValueError(f"{cls.__name__} must declare its own name (a non-empty string); got {cls.name!r}.")
    if cls.task not in TASKS:
        raise ValueError(f"{cls.__name__}.task must be one of {TASKS}; got {cls.task!r}.")
    for key in (cls.name, *aliases):
        LOSSES[key] = cls
    return cls


register_loss(SoftmaxCrossEntropy)
register_loss(SigmoidBinaryCrossEntropy)
register_loss(SquaredError)
register_loss(PoissonLoss)
register_loss(AbsoluteError)
register_loss(HuberLoss)
register_loss(PinballLoss, "quantile")


def get_loss(name: str, **kwargs) -> Loss:
    """A loss by name (with its constructor's keyword arguments); unknown names raise a ``ValueError``."""
    if name not in LOSSES:
        raise ValueError(f"Unknown loss {name!r}; expected one of {sorted(LOSSES)}.")
    return LOSSES[name](**kwargs)


__all__ = [
    "LOSSES",
    "TASKS",
    "AbsoluteError",
    "HuberLoss",
    "Loss",
    "PinballLoss",
    "PoissonLoss",
    "SigmoidBinaryCrossEntropy",
    "SoftmaxCrossEntropy",
    "SquaredError",
    "check_finite",
    "check_logits",
    "get_loss",
    "normalized_weights",
    "register_loss",
]
