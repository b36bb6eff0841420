"""Scores of a network on data, and the split of a validation set off the training data (NumPy only)."""

from __future__ import annotations

import numpy as np


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


def train_validation_split(X, y, fraction: float, rng, stratify: bool = True):
    """Split off ``fraction`` of the rows for validation, stratified by class for 1-D integer labels.

    Stratification keeps every class's share (a class too rare for a share of its own stays in training);
    where that leaves no validation row at all, the split falls back to a plain random one rather than fail.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_fraction must be in (0, 1); got {fraction!r}.")
    n = len(X)
    y_arr = np.asarray(y)
    val = None
    if stratify and y_arr.ndim == 1 and np.issubdtype(y_arr.dtype, np.integer):
        val = _stratified(y_arr, fraction, rng)
    if val is None or len(val) == 0:
        val = np.sort(rng.permutation(n)[: max(1, int(round(fraction * n)))])
    if len(val) == 0 or len(val) == n:
        raise ValueError(
            f"validation_fraction={fraction} leaves an empty training or validation set for {n} rows."
        )
    train = np.setdiff1d(np.arange(n), val, assume_unique=True)
    return train, val


def _stratified(y: np.ndarray, fraction: float, rng) -> np.ndarray:
    """The validation rows: ``fraction`` of each class, leaving at least one row of it for training."""
    val = []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        val.extend(idx[: min(int(round(fraction * len(idx))), len(idx) - 1)])
    return np.sort(np.asarray(val, dtype=np.intp))
