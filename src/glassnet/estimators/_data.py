"""Training data as the solvers see it: inputs, encoded targets, weights and an optional validation set."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np


@dataclass
class Split:
    """One data set: inputs ``X``, targets encoded for the loss ``Y``, the user's targets ``y``, weights."""

    X: object  # ndarray or scipy.sparse matrix, in the network's dtype
    Y: np.ndarray  # integer class indices (N,) or float targets (N, K)
    y: np.ndarray  # targets in the user's labels, for scores and callbacks
    sample_weight: np.ndarray | None

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def weight_total(self) -> float:
        """The (weighted) number of samples: the ``n`` of the L2 term ``alpha / (2 n) ||W||^2``."""
        return float(self.n_samples if self.sample_weight is None else self.sample_weight.sum())

    def subset(self, idx) -> Split:
        """The rows ``idx`` (indices or a boolean mask)."""
        sample_weight = None if self.sample_weight is None else self.sample_weight[idx]
        return Split(self.X[idx], self.Y[idx], self.y[idx], sample_weight)


@dataclass
class TrainingData:
    """The training split and, when there is one, the validation split (``eval_set`` or early stopping)."""

    train: Split
    val: Split | None = None


def check_sample_weight(sample_weight, n_samples: int, dtype) -> np.ndarray | None:
    """Validate ``sample_weight``: ``None``, a scalar, or ``n_samples`` finite weights >= 0, not all 0."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, sample_weight)
    sample_weight = np.asarray(sample_weight)
    if sample_weight.ndim != 1 or sample_weight.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight.shape == {sample_weight.shape}, expected ({n_samples},) for {n_samples} samples."
        )
    if not np.issubdtype(sample_weight.dtype, np.number):
        raise ValueError(f"sample_weight must be numeric; got dtype {sample_weight.dtype}.")
    sample_weight = sample_weight.astype(dtype)
    if not np.all(np.isfinite(sample_weight)):
        raise ValueError("sample_weight contains NaN or infinity.")
    if np.any(sample_weight < 0):
        raise ValueError(
            f"Negative values in sample_weight are not allowed (got a minimum of {sample_weight.min():g}). A "
            "negative weight rewards a larger loss on its row, so the weighted loss has no lower bound and "
            "training would run away; glassnet refuses it where scikit-learn accepts it. Drop those rows, or "
            "give them weight 0."
        )
    if not np.any(sample_weight > 0):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return sample_weight
