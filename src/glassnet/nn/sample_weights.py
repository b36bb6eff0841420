r"""The one check of sample weights, for the losses, the Trainer and the estimators (NumPy only).

A sample weight :math:`w_n \ge 0` scales row :math:`n`'s term of a loss,
:math:`L = \sum_n w_n \ell_n / \sum_n w_n`: a weight of 3 counts the row three times, a weight of 0 not at
all. So the weights must be finite, non-negative and not all zero (the sum divides).
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_weights"]

#: the words of :func:`check_weights`, by whose rules they are written: glassnet's (the Trainer's) and
#: scikit-learn's (the estimators', which its own estimator checks and its users match on)
_WEIGHT_WORDS = {
    "glassnet": {
        "shape": "{what}sample_weight must have shape ({n},); got {shape}.",
        "negative": "{what}sample_weight must be non-negative; got a minimum of {low}.",
        "zero": "{what}sample_weight is zero everywhere: at least one row must have a positive weight.",
    },
    "scikit-learn": {
        "shape": "{what}sample_weight.shape == {shape}, expected ({n},) for {n} samples.",
        "negative": "Negative values in {what}sample_weight are not allowed (got a minimum of {low}).",
        "zero": "Sample weights must contain at least one non-zero number ({what}sample_weight is zero "
        "everywhere).",
    },
}


def check_weights(sample_weight, n: int, dtype, what: str = "", words: str = "glassnet") -> np.ndarray | None:
    """``n`` finite, non-negative weights with a positive sum, as an array of ``dtype`` (the same rule for one
    process and several, for the Trainer and the estimators).

    ``sample_weight`` is ``None`` (no weights), a number (the same weight for every row) or ``n`` numbers.
    ``what`` names the data set in messages (``"validation "``); ``words`` picks the wording of the shape, sign
    and all-zero messages: ``"glassnet"`` or ``"scikit-learn"`` (the estimators'). Every message explains a
    negative weight the same way.
    """
    if sample_weight is None:
        return None
    table = _WEIGHT_WORDS[words]
    w = np.asarray(sample_weight)
    if w.ndim == 0:  # scikit-learn's fit(..., sample_weight=2.0): every row the same weight
        w = np.full(n, w)
    if w.shape != (n,):
        raise ValueError(table["shape"].format(what=what, n=n, shape=w.shape))
    if w.dtype.kind not in "iuf":  # integers or reals (dtype kinds: cheaper than np.issubdtype per batch)
        raise ValueError(f"{what}sample_weight must be real numbers; got dtype {w.dtype}.")
    w = w.astype(dtype, copy=False)
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{what}sample_weight contains NaN or infinite values.")
    if np.any(w < 0):
        low = np.format_float_positional(w.min(), unique=True, trim="0")
        why = (
            "A negative weight rewards a larger loss on its row, so the weighted loss has no lower bound and "
            "training would run away; glassnet refuses it where scikit-learn accepts it. Drop those rows, or "
            "give them weight 0."
        )
        raise ValueError(table["negative"].format(what=what, low=low) + " " + why)
    if not np.sum(w, dtype=np.float64) > 0:
        raise ValueError(table["zero"].format(what=what))
    return w
