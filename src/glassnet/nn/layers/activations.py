r"""Activation layers: element-wise functions from :mod:`glassnet.nn.functional` and their backward passes.

Each forward caches what its backward needs (the output ``a``, or for GELU the input ``x``); backward multiplies
the incoming gradient by the local derivative: :math:`\partial L / \partial x = \partial L / \partial a \odot
f'(x)`. ``Softmax`` is the exception: its Jacobian is not diagonal (see its docstring).
"""

from __future__ import annotations

import numpy as np

from glassnet import fast
from glassnet.nn import functional as F
from glassnet.nn.layers.base import Layer


class _Elementwise(Layer):
    """An element-wise activation whose derivative is a function of its output."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._a = self._f(x)
        return self._a

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * self._df(self._saved("_a", dy))


class Identity(_Elementwise):
    r""":math:`a = x`, :math:`\partial L/\partial x = \partial L/\partial a`."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._a = x
        return x

    def backward(self, dy: np.ndarray) -> np.ndarray:
        self._saved("_a", dy)  # checks only: the gradient passes through
        return dy


class Sigmoid(_Elementwise):
    r""":math:`a = \sigma(x)`, :math:`\partial L/\partial x = \partial L/\partial a \odot a(1-a)`.

    The forward pass computes :math:`1 / (1 + e^{-x})` in four in-place passes, without the ``np.where`` of
    :func:`glassnet.nn.functional.sigmoid` (whose per-element branch costs more than the exponential itself).
    For :math:`x < 0`, :math:`e^{-x}` may overflow to ``inf``, and then :math:`1 / (1 + \infty) = 0` is the
    correctly rounded result except where the true one is subnormal (below :math:`10^{-38}` in float32,
    :math:`10^{-308}` in float64); elsewhere the two formulas agree to a few units in the last place.
    With :mod:`glassnet.fast`, a float32 or float64 C-contiguous input takes one compiled pass instead, whose
    exponential LLVM vectorises (:func:`glassnet.fast.sigmoid_forward`: the same results to a few ulps).
    """

    def _f(self, x: np.ndarray) -> np.ndarray:
        a = fast.sigmoid_forward(x)  # the same formula in one compiled pass, when glassnet.fast can
        if a is not None:
            return a
        a = np.negative(F.as_float_array(x))
        with np.errstate(over="ignore"):  # exp(-x) = inf for very negative x: intended, see above
            np.exp(a, out=a)
        a += 1.0
        np.reciprocal(a, out=a)
        return a

    def backward(self, dy: np.ndarray) -> np.ndarray:
        a = self._saved("_a", dy)
        dx = fast.sigmoid_backward(dy, a)  # the same product in one compiled pass, when glassnet.fast can
        if dx is not None:
            return dx
        dx = 1.0 - a
        np.multiply(dy, dx, out=dx)
        dx *= a
        return dx  # dy * (1 - a) * a, without temporaries


class Tanh(_Elementwise):
    r""":math:`a = \tanh x`, :math:`\partial L/\partial x = \partial L/\partial a \odot (1 - a^2)`."""

    _f = staticmethod(F.tanh)
    _df = staticmethod(F.tanh_grad)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        a = self._saved("_a", dy)
        dx = fast.tanh_backward(dy, a)  # the same product in one compiled pass, when glassnet.fast can
        return dy * self._df(a) if dx is None else dx


class ReLU(_Elementwise):
    r""":math:`a = \max(x, 0)`, :math:`\partial L/\partial x = \partial L/\partial a \odot [a > 0]`."""

    _f = staticmethod(F.relu)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        a = self._saved("_a", dy)
        dx = fast.relu_backward(dy, a)  # the same product in one compiled pass, when glassnet.fast can
        return dy * (a > 0) if dx is None else dx  # a bool factor: several times faster than np.where


class LeakyReLU(_Elementwise):
    r""":math:`a = \max(x, s x)`, :math:`\partial L/\partial x = \partial L/\partial a \odot
    ([a > 0] + s[a \le 0])`."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        if not 0.0 <= negative_slope < 1.0:
            raise ValueError(f"negative_slope must be in [0, 1); got {negative_slope!r}.")
        self.negative_slope = float(negative_slope)

    def _f(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def _df(self, a):
        return F.leaky_relu_grad(a, self.negative_slope)

    def get_config(self) -> dict:
        return {"negative_slope": self.negative_slope}


class GELU(Layer):
    r"""GELU (tanh approximation); its derivative needs the input, so the input is cached."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return F.gelu(x)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * F.gelu_grad(self._saved("_x", dy))


class Softmax(Layer):
    r"""Softmax over the last axis as a stand-alone layer.

    Its Jacobian is :math:`\partial a_i / \partial x_j = a_i (\delta_{ij} - a_j)`, so
    :math:`\partial L/\partial x = a \odot (g - \langle g, a \rangle)` with :math:`g = \partial L/\partial a`.
    For training, prefer the fused :class:`glassnet.nn.losses.SoftmaxCrossEntropy` on logits, whose gradient is
    simply ``softmax(z) - y`` and whose log never underflows.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._a = F.softmax(x)
        return self._a

    def backward(self, dy: np.ndarray) -> np.ndarray:
        a = self._saved("_a", dy)
        return a * (dy - np.sum(dy * a, axis=-1, keepdims=True))  # (N, K) * ((N, K) - (N, 1))


#: activation name (scikit-learn's where it has one) -> layer class
ACTIVATION_LAYERS: dict[str, type[Layer]] = {
    "identity": Identity,
    "logistic": Sigmoid,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "gelu": GELU,
    "softmax": Softmax,
}


def make_activation(name: str) -> Layer:
    """A new activation layer by name; unknown names raise a ``ValueError`` listing the valid ones."""
    if not isinstance(name, str) or name not in ACTIVATION_LAYERS:
        raise ValueError(f"Unknown activation {name!r}; expected one of {sorted(ACTIVATION_LAYERS)}.")
    return ACTIVATION_LAYERS[name]()
