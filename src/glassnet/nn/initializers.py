r"""Weight initialisation and explicit random generators.

=====================  ===============================================  =========================================
name                   weights :math:`W \in \mathbb{R}^{out \times in}`  bias
=====================  ===============================================  =========================================
``glorot_uniform``     :math:`U(-r, r)`, :math:`r = \sqrt{6 / (in + out)}`  same distribution (scikit-learn's rule)
``glorot_logistic``    :math:`U(-r, r)`, :math:`r = \sqrt{2 / (in + out)}`  same (scikit-learn's factor for logistic)
``he_uniform``         :math:`U(-r, r)`, :math:`r = \sqrt{6 / in}`         zeros
``he_normal``          :math:`N(0, 2 / in)`                               zeros
``zeros``              zeros (for loading saved weights)                  zeros
=====================  ===============================================  =========================================
"""

from __future__ import annotations

import numbers

import numpy as np

INITIALIZERS = ("glorot_uniform", "glorot_logistic", "he_uniform", "he_normal", "zeros")


def as_generator(seed) -> np.random.Generator:
    """Turn ``None``, an ``int`` seed or a ``numpy.random.Generator`` into a Generator.

    ``None`` gives a fresh, unpredictable generator (OS entropy); it never touches NumPy's global state.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, numbers.Integral):
        return np.random.default_rng(seed)
    if isinstance(seed, np.random.RandomState):
        # scikit-learn style random_state: derive a Generator from it reproducibly
        return np.random.default_rng(seed.randint(0, 2**31 - 1))
    raise TypeError(f"Expected an int seed, a numpy.random.Generator or None; got {type(seed).__name__}.")


def initialize(
    init: str, fan_in: int, fan_out: int, rng: np.random.Generator | None, dtype=np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(W, b)`` with ``W`` of shape ``(fan_out, fan_in)`` and ``b`` of shape ``(fan_out,)``."""
    if init not in INITIALIZERS:
        raise ValueError(f"Unknown init {init!r}; expected one of {list(INITIALIZERS)}.")
    if init == "zeros":
        return np.zeros((fan_out, fan_in), dtype), np.zeros(fan_out, dtype)
    if rng is None:
        raise ValueError(
            f"init={init!r} draws random numbers: pass rng= (an int seed or numpy.random.Generator), "
            "e.g. rng=np.random.default_rng(0)."
        )
    if init.startswith("glorot"):
        factor = 2.0 if init == "glorot_logistic" else 6.0
        bound = np.sqrt(factor / (fan_in + fan_out))
        W = rng.uniform(-bound, bound, (fan_out, fan_in))
        b = rng.uniform(-bound, bound, fan_out)
    elif init == "he_uniform":
        bound = np.sqrt(6.0 / fan_in)
        W, b = rng.uniform(-bound, bound, (fan_out, fan_in)), np.zeros(fan_out)
    else:  # he_normal
        W, b = rng.normal(0.0, np.sqrt(2.0 / fan_in), (fan_out, fan_in)), np.zeros(fan_out)
    return W.astype(dtype), b.astype(dtype)
