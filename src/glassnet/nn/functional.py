r"""Numerically stable activation functions and their derivatives.

Every function takes an array-like of any shape and returns a new array; none of them mutates its argument.
Integer input is converted to float64; float16/32/64 input keeps its dtype.

Derivatives of the element-wise activations are written, as in scikit-learn, in terms of the activation's
*output* ``a`` where that is possible, because the forward pass already has it:

=============  ==================================================  ================================
name           :math:`f(x)`                                        :math:`f'(x)`
=============  ==================================================  ================================
identity       :math:`x`                                           :math:`1`
logistic       :math:`\sigma(x) = 1 / (1 + e^{-x})`                :math:`a (1 - a)`
tanh           :math:`\tanh x`                                     :math:`1 - a^2`
relu           :math:`\max(x, 0)`                                  :math:`[a > 0]`
leaky_relu     :math:`\max(x, s x)`, slope :math:`0 < s < 1`       :math:`[a > 0] + s [a \le 0]`
gelu           :math:`\tfrac12 x (1 + \tanh(c (x + 0.044715 x^3)))`  needs the input :math:`x`
=============  ==================================================  ================================

with :math:`c = \sqrt{2 / \pi}` (the tanh approximation of GELU used by GPT-2 and ``torch``'s
``approximate='tanh'``).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "ACTIVATIONS",
    "as_float_array",
    "gelu",
    "gelu_grad",
    "get_activation",
    "identity",
    "identity_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "relu",
    "relu_grad",
    "sigmoid",
    "sigmoid_backward",
    "sigmoid_grad",
    "softmax",
    "softmax_cross_entropy_backward",
    "tanh",
    "tanh_grad",
]


def as_float_array(x) -> np.ndarray:
    """Return ``x`` as a floating-point array: floats keep their dtype, anything else becomes float64."""
    x = np.asarray(x)
    # dtype.kind: np.issubdtype(x.dtype, np.floating) at a tenth of its cost (every layer calls this)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    return x


# --- logistic ------------------------------------------------------------------------------------------------


def sigmoid(x) -> np.ndarray:
    r"""Logistic function :math:`\sigma(x) = 1 / (1 + e^{-x})`, split by sign so that no ``exp`` overflows.

    With :math:`e = \exp(-|x|) \in (0, 1]`: :math:`\sigma(x) = 1 / (1 + e)` for :math:`x \ge 0` and
    :math:`e / (1 + e)` for :math:`x < 0`. Both branches are exact; neither can overflow.

    >>> sigmoid([0.0, 1000.0, -1000.0])
    array([0.5, 1. , 0. ])
    """
    x = as_float_array(x)
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    out = 1.0 / (1.0 + e)
    return np.where(x >= 0, out, e * out).astype(x.dtype, copy=False)


def log_sigmoid(x) -> np.ndarray:
    r""":math:`\log \sigma(x) = -\mathrm{softplus}(-x) = -(\max(-x, 0) + \log(1 + e^{-|x|}))`, finite for every
    finite ``x`` (where :math:`\log(\sigma(x))` gives ``-inf`` once :math:`\sigma(x)` underflows).

    >>> log_sigmoid([0.0, -1000.0])
    array([-6.93147181e-01, -1.00000000e+03])
    """
    x = as_float_array(x)
    return -(np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x))))


def sigmoid_grad(a) -> np.ndarray:
    r"""Derivative of the logistic function from its output: :math:`\sigma'(x) = a (1 - a)`."""
    a = as_float_array(a)
    return a * (1.0 - a)


def sigmoid_backward(g, a) -> np.ndarray:
    r"""Chain rule through a logistic layer (the lab's ``dJdz_sigmoid``): :math:`g \odot a (1 - a)`."""
    g, a = as_float_array(g), as_float_array(a)
    return g * (1.0 - a) * a


# --- tanh -------------------------------------------------------------------------------------------------------


def tanh(x) -> np.ndarray:
    r"""Hyperbolic tangent; ``np.tanh`` saturates to :math:`\pm 1` without overflow."""
    return np.tanh(as_float_array(x))


def tanh_grad(a) -> np.ndarray:
    r""":math:`\tanh'(x) = 1 - a^2` with :math:`a = \tanh x`."""
    a = as_float_array(a)
    return 1.0 - a * a


# --- relu family ------------------------------------------------------------------------------------------------


def relu(x) -> np.ndarray:
    r""":math:`\max(x, 0)`."""
    x = as_float_array(x)
    return np.maximum(x, 0, dtype=x.dtype)


def relu_grad(a) -> np.ndarray:
    r""":math:`[a > 0]` (the subgradient 0 is used at 0)."""
    a = as_float_array(a)
    return (a > 0).astype(a.dtype)


def leaky_relu(x, negative_slope: float = 0.01) -> np.ndarray:
    r""":math:`x` for :math:`x > 0`, :math:`s x` otherwise, with ``negative_slope`` :math:`s \in [0, 1)`."""
    x = as_float_array(x)
    return np.where(x > 0, x, x * x.dtype.type(negative_slope))


def leaky_relu_grad(a, negative_slope: float = 0.01) -> np.ndarray:
    r""":math:`1` where :math:`a > 0`, :math:`s` elsewhere (``a`` has the sign of ``x`` since :math:`s \ge 0`)."""
    a = as_float_array(a)
    return np.where(a > 0, a.dtype.type(1), a.dtype.type(negative_slope))


# --- identity ---------------------------------------------------------------------------------------------------


def identity(x) -> np.ndarray:
    """:math:`f(x) = x` (returns a copy, so callers may modify the result)."""
    return np.array(as_float_array(x), copy=True)


def identity_grad(a) -> np.ndarray:
    """:math:`f'(x) = 1`."""
    return np.ones_like(as_float_array(a))


# --- gelu -------------------------------------------------------------------------------------------------------

_GELU_C = np.sqrt(2.0 / np.pi)
_GELU_K = 0.044715


def gelu(x) -> np.ndarray:
    r"""GELU, tanh approximation: :math:`\tfrac12 x \,(1 + \tanh(c\,(x + k x^3)))`, :math:`c=\sqrt{2/\pi}`,
    :math:`k = 0.044715`. For :math:`|x|` beyond about :math:`10^{100}` the cube overflows to inf, and
    ``tanh(inf) = 1`` still gives the right limit; the overflow warning is silenced for that reason.
    """
    x = as_float_array(x)
    with np.errstate(over="ignore"):
        inner = (_GELU_C * (x + _GELU_K * x**3)).astype(x.dtype, copy=False)
    return 0.5 * x * (1.0 + np.tanh(inner))


def gelu_grad(x) -> np.ndarray:
    r"""Derivative of the tanh-approximated GELU from its *input* :math:`x`:

    .. math:: \tfrac12 (1 + t) + \tfrac12 x (1 - t^2)\, c\,(1 + 3 k x^2), \qquad t = \tanh(c (x + k x^3)).
    """
    x = as_float_array(x)
    with np.errstate(over="ignore", invalid="ignore"):
        t = np.tanh((_GELU_C * (x + _GELU_K * x**3)).astype(x.dtype, copy=False))
        sech2_term = 0.5 * x * (1.0 - t * t) * _GELU_C * (1.0 + 3.0 * _GELU_K * x * x)
    # (1 - t^2) underflows to exactly 0 long before x^3 overflows, so 0 * inf cannot hurt a finite result;
    # where x^2 itself overflowed the product is nan and its true limit is 0.
    sech2_term = np.where(np.isfinite(sech2_term), sech2_term, 0.0)
    return (0.5 * (1.0 + t) + sech2_term).astype(x.dtype, copy=False)


# --- softmax family ---------------------------------------------------------------------------------------------


def logsumexp(x, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    r""":math:`\log \sum_j e^{x_j}` along ``axis``, computed as :math:`m + \log \sum_j e^{x_j - m}` with
    :math:`m = \max_j x_j`, so no term overflows and at least one term is exactly 1."""
    x = as_float_array(x)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0).astype(x.dtype, copy=False)  # all -inf rows: keep -inf, no nan
    with np.errstate(divide="ignore"):
        out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def log_softmax(x, axis: int = -1) -> np.ndarray:
    r""":math:`\log \mathrm{softmax}(x)_i = x_i - \mathrm{logsumexp}(x)`: finite wherever ``x`` is finite, even
    where the probability itself underflows to 0 (the lab's ``log(a_3)`` gave ``-inf`` there)."""
    x = as_float_array(x)
    return x - logsumexp(x, axis=axis, keepdims=True)


def softmax(x, axis: int = -1) -> np.ndarray:
    r""":math:`\mathrm{softmax}(x)_i = e^{x_i - m} / \sum_j e^{x_j - m}` along ``axis`` (the last by default),
    with :math:`m = \max_j x_j`; each row of a batch is independent.

    >>> softmax([0.0, 1000.0, -1000.0])
    array([0., 1., 0.])
    """
    x = as_float_array(x)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax_cross_entropy_backward(y_hat, y) -> np.ndarray:
    r"""Gradient of the cross-entropy :math:`-\sum_k y_k \log \hat y_k` with respect to the logits when
    :math:`\hat y = \mathrm{softmax}(z)` (the lab's ``dJdz_softmax``): :math:`\hat y - y`.

    The softmax Jacobian :math:`\mathrm{diag}(\hat y) - \hat y \hat y^T` and the cross-entropy gradient
    :math:`-y / \hat y` multiply out to this simple difference when :math:`\sum_k y_k = 1`: the canonical
    pairing of a link and its loss.
    """
    return as_float_array(y_hat) - as_float_array(y)


# --- lookup table -----------------------------------------------------------------------------------------------

#: name -> (function, derivative, whether the derivative takes the output ``a`` (True) or the input ``x``)
ACTIVATIONS: dict[str, tuple] = {
    "identity": (identity, identity_grad, True),
    "logistic": (sigmoid, sigmoid_grad, True),
    "sigmoid": (sigmoid, sigmoid_grad, True),
    "tanh": (tanh, tanh_grad, True),
    "relu": (relu, relu_grad, True),
    "leaky_relu": (leaky_relu, leaky_relu_grad, True),
    "gelu": (gelu, gelu_grad, False),
}


def get_activation(name: str) -> tuple:
    """Look up ``(f, df, df_takes_output)`` by name; unknown names raise a ``ValueError`` listing valid ones."""
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"Unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}.")
    return ACTIVATIONS[name]
