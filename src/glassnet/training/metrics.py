"""Scores of a network on data (NumPy only).

The validation split lives in :mod:`glassnet.training.split`; ``train_validation_split`` is also importable
from here, its earlier home.
"""

from __future__ import annotations

import numpy as np

from glassnet.training.split import train_validation_split

__all__ = ["accuracy_score", "default_scorer", "r2_score", "train_validation_split"]


def accuracy_score(net, X, y) -> float:
    """Fraction of correct predictions; ``y`` as integer labels or indicator rows."""
    pred = net.predict(X)
    y = np.asarray(y)
    if y.ndim == 2 and pred.ndim == 1:  # one-hot targets for a softmax head
        y = np.argmax(y, axis=1)
    if pred.ndim == 2:
        return float(np.mean(np.all(pred == y.reshape(pred.shape), axis=1)))
    return float(np.mean(pred == y))


def r2_score(net, X, y) -> float:
    r"""Coefficient of determination :math:`1 - \sum (y - \hat y)^2 / \sum (y - \bar y)^2`, averaged over
    outputs."""
    pred = net.predict(X).reshape(len(X), -1)
    y = np.asarray(y, dtype=np.float64).reshape(pred.shape)
    ss_res = np.sum((y - pred) ** 2, axis=0)
    ss_tot = np.sum((y - y.mean(axis=0)) ** 2, axis=0)
    return float(np.mean(1.0 - ss_res / np.where(ss_tot == 0, 1.0, ss_tot)))


def default_scorer(loss):
    """Accuracy for a classification head, R^2 for a regression head (by the loss's declared ``task``)."""
    return r2_score if loss.task == "regression" else accuracy_score
