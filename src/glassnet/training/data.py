"""Training data as the loop sees it: inputs, targets prepared for the loss, sample weights, validated once.

One container, :class:`Dataset`, for every caller: the Trainer's own data, and the estimators' training and
validation sets (which also keep the user's labels, for scores and callbacks). One sample-weight check,
:func:`~glassnet.nn.sample_weights.check_weights`, for every caller too (the losses included, hence its place
in :mod:`glassnet.nn`).

``X`` is a NumPy array or a SciPy sparse matrix (recognised by its ``toarray`` method, so that the engine
needs only NumPy); sparse rows are densified one batch at a time, so a sparse data set is never held dense.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glassnet.nn.sample_weights import check_weights

#: rows per forward pass when scoring or predicting a whole data set, to bound memory
CHUNK_ROWS = 4096


def is_sparse(X) -> bool:
    return hasattr(X, "toarray") and hasattr(X, "nnz")


def dense_rows(X, rows=None, dtype=None) -> np.ndarray:
    """Rows ``rows`` of ``X`` (all if ``None``) as a dense array of ``dtype``."""
    part = X if rows is None else X[rows]
    if is_sparse(part):
        part = part.toarray()
    return np.asarray(part, dtype=dtype)


def logits(net, X) -> np.ndarray:
    """The network's outputs on every row of ``X`` (validated data), in chunks of :data:`CHUNK_ROWS`."""
    chunks = [
        net._forward(dense_rows(X, slice(i, i + CHUNK_ROWS), net.dtype))
        for i in range(0, X.shape[0], CHUNK_ROWS)
    ]
    return np.concatenate(chunks) if len(chunks) > 1 else chunks[0]


@dataclass
class Dataset:
    """Validated rows: inputs ``X`` (in the network's dtype), targets ``y`` as the loss takes them, weights,
    and optionally ``labels``, the same targets in the caller's own terms (an estimator's class labels, for
    scores and scikit-learn's scorers; ``None`` for the Trainer's own data)."""

    X: object  # ndarray or scipy.sparse matrix, (N, D)
    y: np.ndarray  # integer class indices (N,) or float targets (N, K)
    sample_weight: np.ndarray | None = None  # (N,) or None
    labels: np.ndarray | None = None  # (N,) or (N, K) in the caller's terms, or None

    @property
    def n_rows(self) -> int:
        return self.X.shape[0]

    @property
    def weight_total(self) -> float:
        """The (weighted) number of rows: the ``n`` of the L2 term ``alpha / (2 n) ||W||^2``."""
        return float(
            self.n_rows if self.sample_weight is None else np.sum(self.sample_weight, dtype=np.float64)
        )

    def size_of(self, rows) -> tuple[int, float]:
        """``(number of rows, their total weight)`` of the batch ``rows``."""
        count = len(range(self.n_rows)[rows]) if isinstance(rows, slice) else len(rows)
        if self.sample_weight is None:
            return count, float(count)
        return count, float(np.sum(self.sample_weight[rows], dtype=np.float64))

    def batch(self, rows, dtype, augment=None, rng=None):
        """``(X, y, sample_weight)`` of the rows ``rows`` (a slice gives views), augmented if asked."""
        Xb = dense_rows(self.X, rows, dtype)
        if augment is not None:
            Xb = augment(Xb, rng)
        wb = None if self.sample_weight is None else self.sample_weight[rows]
        return Xb, self.y[rows], wb

    def subset(self, idx) -> Dataset:
        """The rows ``idx`` (indices or a boolean mask); their weights must still have a positive sum."""
        labels = None if self.labels is None else self.labels[idx]
        weights = None
        if self.sample_weight is not None:
            weights = check_weights(self.sample_weight[idx], len(self.y[idx]), self.sample_weight.dtype)
        return Dataset(self.X[idx], self.y[idx], weights, labels)


def prepare(net, X, y, sample_weight=None, what: str = "") -> Dataset:
    """Check ``X``, ``y`` and ``sample_weight`` once for training ``net`` and return them as a :class:`Dataset`.

    ``what`` names the data set in messages (``"validation "``).
    """
    X = _check_sparse(net, X) if is_sparse(X) else net._check_input(X)
    y = np.asarray(y)
    if len(y) != X.shape[0]:
        raise ValueError(f"{what}X has {X.shape[0]} rows but {what}y has {len(y)}.")
    if np.issubdtype(y.dtype, np.floating) and not np.all(np.isfinite(y)):
        raise ValueError(f"{what}y contains NaN or infinite values.")
    y = net.loss.prepare_targets(y, net.dtype)
    return Dataset(X, y, check_weights(sample_weight, X.shape[0], net.dtype, what))


def _check_sparse(net, X):
    if X.ndim != 2 or (net.n_features_in is not None and X.shape[1] != net.n_features_in):
        raise ValueError(f"Expected input of shape (n_samples, {net.n_features_in}); got shape {X.shape}.")
    if X.shape[0] == 0:
        raise ValueError("Got an empty batch (0 samples).")
    X = X.astype(net.dtype, copy=False)  # no copy when the caller's matrix is already in the network's dtype
    if not np.all(np.isfinite(X.data)):
        raise ValueError("Input contains NaN or infinite values; clean or impute them first.")
    return X
