r"""Gradient checks by central differences in float64, through the public API.

For a scalar function :math:`f(\theta)` the numerical derivative of each coordinate is
:math:`(f(\theta + h e_i) - f(\theta - h e_i)) / 2h`, with a truncation error :math:`O(h^2)` and a round-off
error :math:`O(\epsilon_{64} |f| / h)`; the default :math:`h = 10^{-5}` balances the two (a smaller :math:`h`
lets round-off of the log-sum-exp dominate the tiny gradients of a trained network).

Layers are checked through the scalar :math:`f = \langle r, \mathrm{layer}(x) \rangle` for a fixed random
:math:`r`, so that ``backward(r)`` must return :math:`\partial f / \partial x` and store
:math:`\partial f / \partial \theta`.

The reported error of an array is :math:`\max_i |a_i - n_i| / \max(\max_i |a_i|, \max_i |n_i|)` for the analytical
gradient :math:`a` and the numerical one :math:`n`.

Random layers (dropout) are checked with a fixed mask: a layer that declares ``needs_rng`` (and has a
generator) gets a new generator of the same seed before every forward pass.
"""

from __future__ import annotations

import copy

import numpy as np

from glassnet.nn.layers.base import Layer

#: the defaults of every check: central-difference step, tolerated relative error, floor of the error's scale
EPS, RTOL, ATOL = 1e-5, 1e-5, 1e-8


class GradcheckError(AssertionError):
    """Analytical and numerical gradients disagree."""


def _relative_error(a: np.ndarray, b: np.ndarray, atol: float) -> float:
    """Largest entry-wise difference, relative to the array's largest gradient (at least ``atol``).

    Scaling by the array's own magnitude, not entry by entry, keeps entries that are almost zero (common in a
    trained network) from turning the finite-difference round-off into a false alarm, while a single wrong
    entry of ordinary size still shows up in full. An array whose gradients are all below ``atol`` in both
    computations agrees: a gradient that is zero (a bias before batch normalisation) against the
    finite-difference round-off (about 1e-12), which relative to itself would look like a total mismatch.
    """
    if not a.size:
        return 0.0
    largest = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))))
    if largest <= atol:
        return 0.0
    scale = max(largest, atol)
    return float(np.max(np.abs(a - b))) / scale


def _numeric(f, x: np.ndarray, eps: float) -> np.ndarray:
    """Central differences of the scalar ``f()`` with respect to every entry of ``x`` (perturbed in place)."""
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        f_plus = f()
        flat[i] = old - eps
        f_minus = f()
        flat[i] = old
        gflat[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def _reset_rng(layer: Layer, seed: int) -> None:
    """The same random draws at every forward: a new generator of the same seed for a layer that needs one."""
    if layer.needs_rng and layer.rng is not None:
        layer.rng = np.random.default_rng(seed)


def _report(pairs: dict[str, tuple[np.ndarray, np.ndarray]], rtol: float, atol: float, raise_: bool) -> dict:
    errors = {name: _relative_error(a, n, atol) for name, (a, n) in pairs.items()}
    bad = {k: v for k, v in errors.items() if v > rtol}
    if bad and raise_:
        raise GradcheckError(f"Gradient check failed (relative error > {rtol}): {bad}")
    return errors


def gradcheck_layer(
    layer: Layer,
    x,
    *,
    training: bool = True,
    seed: int = 0,
    eps: float = EPS,
    rtol: float = RTOL,
    atol: float = ATOL,
    raise_on_error: bool = True,
) -> dict[str, float]:
    """Check a layer's ``backward`` (input gradient and every parameter gradient) in float64.

    The layer is deep-copied and converted to float64; the original is untouched. Returns the maximum relative
    error per checked array (``"x"`` and the parameter names); raises :class:`GradcheckError` above ``rtol``.
    """
    layer = copy.deepcopy(layer)
    layer.params = {k: np.array(v, dtype=np.float64) for k, v in layer.params.items()}
    layer.grads = {k: np.zeros_like(v) for k, v in layer.params.items()}
    layer.training, layer.input_grad = training, True
    x = np.array(x, dtype=np.float64)
    r = np.random.default_rng(seed + 1).standard_normal(_forward(layer, x, seed).shape)

    def f() -> float:
        return float(np.sum(r * _forward(layer, x, seed)))

    _forward(layer, x, seed)
    dx = layer.backward(r)
    analytic = {k: g.copy() for k, g in layer.grads.items()}
    pairs = {"x": (dx, _numeric(f, x, eps))}
    for k, p in layer.params.items():
        pairs[k] = (analytic[k], _numeric(f, p, eps))
    return _report(pairs, rtol, atol, raise_on_error)


def _forward(layer: Layer, x: np.ndarray, seed: int) -> np.ndarray:
    _reset_rng(layer, seed)
    return layer.forward(x)


def gradcheck_loss(
    loss,
    z,
    y,
    sample_weight=None,
    *,
    eps: float = EPS,
    rtol: float = RTOL,
    atol: float = ATOL,
    raise_on_error: bool = True,
) -> dict[str, float]:
    """Check ``loss.backward()`` against central differences of ``loss.forward(z, y)`` in float64."""
    z = np.array(z, dtype=np.float64)
    loss.forward(z, y, sample_weight)
    analytic = loss.backward().copy()
    numeric = _numeric(lambda: loss.forward(z, y, sample_weight), z, eps)
    return _report({"z": (analytic, numeric)}, rtol, atol, raise_on_error)


def gradcheck_network(
    net,
    X,
    y,
    sample_weight=None,
    *,
    alpha: float = 0.0,
    n_samples: int | None = None,
    training: bool = True,
    seed: int = 0,
    eps: float = EPS,
    rtol: float = RTOL,
    atol: float = ATOL,
    raise_on_error: bool = True,
) -> dict[str, float]:
    """Check the gradient of ``net.loss_and_grad`` (loss + L2) with respect to every parameter, in float64.

    Returns the maximum relative error per parameter name (``layers.0.W``, ...).
    """
    net = net.astype(np.float64)
    net.train(training)
    X = np.asarray(X, dtype=np.float64)

    def f() -> float:
        for layer in net.layers:
            _reset_rng(layer, seed)
        return net.loss_and_grad(X, y, sample_weight, alpha=alpha, n_samples=n_samples)

    f()
    analytic = net.flat_grads.copy()
    numeric = _numeric(f, net.flat_params, eps)
    pairs, offset = {}, 0
    for name, p in net.parameters().items():
        pairs[name] = (analytic[offset : offset + p.size], numeric[offset : offset + p.size])
        offset += p.size
    return _report(pairs, rtol, atol, raise_on_error)
