"""The validation split: which rows of the training data are held out to score the fit (NumPy only).

One rule, :func:`held_out_rows`, for every caller. Each row has a *key*; rows with the same key are one
*group* (copies of one row). Within each stratum (a class, or all rows), the groups of positive weight are
taken in key order until the validation set holds its share, and one group of each stratum always stays in
training. What differs between callers is a parameter:

- **the keys** (the order): the Trainer's ``validation_fraction`` draws a random order per stratum from its
  generator (:func:`random_keys`); the estimators' early stopping hashes each row's content, keyed by the
  fit's seed (:func:`row_keys`), so that a row of weight 3 and three copies of it give the same split, and no
  copy of a training row is scored as held out;
- **the share** (``size``): the Trainer holds out ``round(fraction * rows)`` rows of each class
  (``"count"``); the estimators hold out rows until their *weight* reaches ``fraction`` of the class's weight
  (``"weight"``), so a sample weight means a number of copies, as scikit-learn says it does;
- **the least** (``at_least``): a score needs two rows, so the estimators hold out at least two groups in all
  (one per class with several classes); the Trainer falls back to a plain random split instead.

Rows of weight 0 are never held out: they count for nothing, in training or in a score.
"""

from __future__ import annotations

import hashlib

import numpy as np

from glassnet.training.data import is_sparse

__all__ = ["held_out_rows", "random_keys", "row_keys", "train_validation_split"]


def held_out_rows(
    keys: np.ndarray, strata, weights, fraction: float, *, size: str = "weight", at_least: int | None = None
) -> np.ndarray:
    """A boolean mask of the validation rows (see the module docstring).

    Parameters
    ----------
    keys : array of shape (N,)
        The order of the rows; equal keys mark copies of one row (a group, held out or kept whole).
    strata : array of shape (N,) or None
        Class labels to stratify by (each class keeps its share), or ``None`` for one stratum.
    weights : array of shape (N,) or None
        Sample weights (``None``: all 1); rows of weight 0 always stay in training.
    fraction : float
        The share to hold out, in [0, 1).
    size : {'weight', 'count'}
        ``'weight'``: in each stratum, the first groups whose cumulative weight reaches ``fraction`` of the
        stratum's; ``'count'``: ``round(fraction * groups)`` groups.
    at_least : int or None
        The fewest groups held out per stratum; ``None``: two in all (one per stratum with several).

    In each stratum the number held out is then capped at its number of groups minus one.
    """
    if size not in ("weight", "count"):
        raise ValueError(f"size must be 'weight' or 'count'; got {size!r}.")
    val = np.zeros(len(keys), dtype=bool)
    weights = np.ones(len(keys)) if weights is None else np.asarray(weights)
    candidates = weights > 0
    strata = np.zeros(len(keys), dtype=np.intp) if strata is None else np.asarray(strata)
    labels = np.unique(strata[candidates])
    if at_least is None:
        at_least = 2 if len(labels) == 1 else 1
    for stratum in labels:
        rows = np.flatnonzero(candidates & (strata == stratum))
        _, group = np.unique(keys[rows], return_inverse=True)  # groups, numbered in key order
        n_groups = int(group.max()) + 1
        if size == "count":
            n_val = int(round(fraction * n_groups))
        else:
            group_weight = np.cumsum(np.bincount(group, weights=weights[rows]))
            n_val = int(np.searchsorted(group_weight, fraction * group_weight[-1])) + 1
        n_val = max(n_val, at_least) if fraction > 0 else 0
        val[rows[group < min(n_val, n_groups - 1)]] = True
    return val


def random_keys(strata, n: int, rng) -> np.ndarray:
    """Keys in a random order drawn from ``rng``: one permutation per stratum (in sorted order of the
    strata), or one of all ``n`` rows when ``strata`` is ``None``."""
    keys = np.empty(n, dtype=np.int64)
    if strata is None:
        keys[rng.permutation(n)] = np.arange(n)
        return keys
    for c in np.unique(strata):
        rows = rng.permutation(np.flatnonzero(strata == c))
        keys[rows] = np.arange(len(rows))
    return keys


def row_keys(X, Y: np.ndarray, seed: int) -> np.ndarray:
    """A 64-bit key per row: the BLAKE2b hash of the row's input and target bytes, keyed by ``seed``.

    Identical rows get the same key; ordered by key, distinct rows come in a random order fixed by ``seed``.
    ``X`` is a dense array or a sparse matrix (hashed as its sorted CSR entries); ``Y`` the encoded targets.
    """
    n = X.shape[0]
    key = int(seed).to_bytes(8, "little")
    Y = np.ascontiguousarray(Y).reshape(n, -1)  # (N,) class indices or (N, K) values -> (N, K)
    digests = []
    if is_sparse(X):
        X = X.tocsr()
        X = X if X.has_sorted_indices else X.sorted_indices()
        indptr, indices, data = X.indptr, X.indices, X.data
        for i in range(n):
            start, stop = indptr[i], indptr[i + 1]
            h = hashlib.blake2b(indices[start:stop].tobytes(), digest_size=8, key=key)
            h.update(data[start:stop].tobytes())
            h.update(Y[i].tobytes())
            digests.append(h.digest())
    else:
        for i in range(n):
            h = hashlib.blake2b(X[i].tobytes(), digest_size=8, key=key)
            h.update(Y[i].tobytes())
            digests.append(h.digest())
    return np.frombuffer(b"".join(digests), dtype=">u8")


def train_validation_split(X, y, fraction: float, rng, stratify: bool = True):
    """``(train rows, validation rows)``: ``fraction`` of the rows held out in a random order drawn from
    ``rng``, stratified by class for 1-D integer labels (the Trainer's ``validation_fraction``).

    Each class holds out ``round(fraction * its rows)``, keeping at least one row for training (a class too
    rare for a share of its own stays in training); where that leaves no validation row at all, the split
    falls back to a plain random one of at least one row rather than fail.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_fraction must be in (0, 1); got {fraction!r}.")
    n = len(X)
    y_arr = np.asarray(y)
    strata = None
    if stratify and y_arr.ndim == 1 and np.issubdtype(y_arr.dtype, np.integer):
        strata = y_arr
        val = held_out_rows(random_keys(strata, n, rng), strata, None, fraction, size="count", at_least=0)
    if strata is None or not val.any():
        val = held_out_rows(random_keys(None, n, rng), None, None, fraction, size="count", at_least=1)
    if not val.any():  # one row: nothing to hold out that would leave a training row
        raise ValueError(f"validation_fraction={fraction} leaves an empty validation set for {n} rows.")
    return np.flatnonzero(~val), np.flatnonzero(val)
