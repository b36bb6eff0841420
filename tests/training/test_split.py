"""One validation split (glassnet.training.split) for the Trainer and the estimators (issue 19, item 2)."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet.training import train_validation_split
from glassnet.training.split import held_out_rows, random_keys, row_keys


def _split_before_issue_19(X, y, fraction, rng, stratify=True):
    """The Trainer's own split as it was written before it became a setting of held_out_rows: model files'
    resumed runs (``glassnet train --resume``) check that the same rows are held out again."""
    n = len(X)
    y = np.asarray(y)
    val = None
    if stratify and y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
        val = []
        for c in np.unique(y):
            idx = rng.permutation(np.flatnonzero(y == c))
            val.extend(idx[: min(int(round(fraction * len(idx))), len(idx) - 1)])
        val = np.sort(np.asarray(val, dtype=np.intp))
    if val is None or len(val) == 0:
        val = np.sort(rng.permutation(n)[: max(1, int(round(fraction * n)))])
    return np.setdiff1d(np.arange(n), val, assume_unique=True), val


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "y",
    [
        np.arange(97) % 3,  # three classes
        np.r_[np.zeros(60, int), np.ones(3, int), [2]],  # a rare class and a single row
        np.r_[np.zeros(5, int), [1]],  # too few rows for a stratified share: the plain fallback
        np.linspace(0, 1, 50),  # regression targets: not stratified
    ],
)
@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5])
def test_the_trainers_split_holds_out_the_rows_it_held_out_before(seed, y, fraction):
    X = np.zeros((len(y), 2))
    for stratify in (True, False):
        rng_old, rng_new = np.random.default_rng(seed), np.random.default_rng(seed)
        old = _split_before_issue_19(X, y, fraction, rng_old, stratify)
        new = train_validation_split(X, y, fraction, rng_new, stratify)
        np.testing.assert_array_equal(new[0], old[0])
        np.testing.assert_array_equal(new[1], old[1])
        assert rng_new.integers(2**31) == rng_old.integers(2**31)  # the same draws: shuffling continues alike


def test_one_rule_with_the_callers_parameters():
    y = np.arange(40) % 2
    weights = np.where(np.arange(40) < 4, 0.0, 1.0)
    keys = random_keys(y, 40, np.random.default_rng(0))
    by_count = held_out_rows(keys, y, weights, 0.25, size="count", at_least=0)
    by_weight = held_out_rows(keys, y, weights, 0.25)
    for val in (by_count, by_weight):
        assert not val[:4].any()  # weight 0: never held out
        assert val[y == 0].sum() == val[y == 1].sum()  # each class its share
    assert by_count.sum() == 2 * round(0.25 * 18) and by_weight.sum() == 2 * 5  # round vs. reaching the share
    copies = row_keys(np.repeat(np.eye(5), 2, axis=0), np.repeat(np.arange(5), 2), seed=3)
    val = held_out_rows(copies, None, None, 0.4, size="count")
    np.testing.assert_array_equal(val[::2], val[1::2])  # copies stay together
    with pytest.raises(ValueError, match="size must be 'weight' or 'count'"):
        held_out_rows(keys, y, None, 0.2, size="rows")
