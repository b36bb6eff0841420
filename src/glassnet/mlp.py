"""``build_mlp``: the multilayer perceptron ``Dense [-> BatchNorm] -> activation [-> Dropout] -> ... -> Dense``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from glassnet.initializers import as_generator
from glassnet.layers import BatchNorm, Dense, Dropout, Layer, make_activation
from glassnet.losses import Loss

if TYPE_CHECKING:
    from glassnet.network import Sequential

_HE_LIKE = {"relu", "leaky_relu", "gelu"}


def build_mlp(
    layer_sizes: list[int],
    activation: str = "relu",
    loss: Loss | str = "softmax_cross_entropy",
    dropout=0.0,
    seed=None,
    dtype=np.float32,
    init: str = "auto",
    batch_norm: bool = False,
) -> Sequential:
    """A multilayer perceptron ``Dense [-> BatchNorm] -> activation [-> Dropout] -> ... -> Dense`` with a loss head.

    Parameters
    ----------
    layer_sizes : list of int
        ``[n_in, hidden_1, ..., n_out]``, e.g. the lab's ``[64, 80, 70, 10]``.
    activation : str
        Hidden activation (``identity``, ``logistic``, ``tanh``, ``relu``, ``leaky_relu``, ``gelu``).
    loss : Loss or str
        The loss head (see :mod:`glassnet.losses`).
    dropout : float or sequence of float
        Dropout rate after each hidden layer (one rate for all, or one per hidden layer).
    seed : int, numpy.random.Generator or None
        Randomness for initial weights and dropout masks; the same seed gives bit-identical networks.
    init : str
        ``'auto'`` uses He-uniform for ReLU-like activations and scikit-learn's Glorot-uniform otherwise
        (with its factor 2 for logistic); or any name from :data:`glassnet.initializers.INITIALIZERS`.
    batch_norm : bool
        Put a :class:`~glassnet.layers.BatchNorm` between each hidden ``Dense`` and its activation.
    """
    from glassnet.network import Sequential  # here, not at the top: glassnet.network imports this module

    sizes = [int(s) for s in layer_sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(
            f"layer_sizes needs at least an input and an output size, all >= 1; got {layer_sizes}."
        )
    make_activation(activation)  # validates the name early
    rates = _dropout_rates(dropout, len(sizes) - 2)
    init = _initializer(activation) if init == "auto" else init
    rng = as_generator(seed)
    layers: list[Layer] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        is_output = i == len(sizes) - 2
        # scikit-learn draws the output layer with the hidden activation's factor too
        layers.append(Dense(fan_in, fan_out, rng=rng, init=init, dtype=dtype))
        if not is_output:
            if batch_norm:
                layers.append(BatchNorm(fan_out, dtype=dtype))
            layers.append(make_activation(activation))
            if rates[i] > 0:
                layers.append(Dropout(rates[i], rng=rng))
    return Sequential(layers, loss, dtype=dtype)


def _dropout_rates(dropout, n_hidden: int) -> list[float]:
    """One dropout rate per hidden layer, from one rate for all or a sequence of them."""
    rates = [float(dropout)] * n_hidden if np.ndim(dropout) == 0 else [float(r) for r in dropout]
    if len(rates) != n_hidden:
        raise ValueError(f"Got {len(rates)} dropout rates for {n_hidden} hidden layers.")
    return rates


def _initializer(activation: str) -> str:
    """``init='auto'``: He-uniform for ReLU-like activations, scikit-learn's Glorot-uniform otherwise (with its
    factor 2 for the logistic)."""
    if activation in _HE_LIKE:
        return "he_uniform"
    return "glorot_logistic" if activation in ("logistic", "sigmoid") else "glorot_uniform"
