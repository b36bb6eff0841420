r"""Activation layers: element-wise functions from :mod:`glassnet.nn.functional` and their backward passes,
and the registry that offers them by name.

Each forward caches what its backward needs (the output ``a``, or for GELU the input ``x``); backward multiplies
the incoming gradient by the local derivative: :math:`\partial L / \partial x = \partial L / \partial a \odot
f'(x)`. ``Softmax`` is the exception: its Jacobian is not diagonal (see its docstring).

Every activation is one class that declares, next to its formula and derivative, what the rest of glassnet
needs to know about it (:class:`ActivationLayer`), and :func:`register_activation` makes it known by name. The
estimators' ``activation`` parameter, ``build_mlp``, ``glassnet train --activation``, the playground's menus,
ONNX export and ``to_sklearn`` all read :data:`ACTIVATION_LAYERS`; none of them names an activation.

Writing your own activation
---------------------------
Subclass :class:`ActivationLayer`, write ``forward`` (caching what ``backward`` needs) and ``backward``, declare
its ``name`` (and, if it has them, its ONNX operator and scikit-learn name), check it with
:func:`glassnet.nn.gradcheck.gradcheck_layer` and register it:

>>> import numpy as np
>>> from glassnet.nn.gradcheck import gradcheck_layer
>>> @register_activation
... class Softplus(ActivationLayer):
...     # a = log(1 + e^x), dL/dx = dL/da * sigmoid(x)
...
...     name, formula, onnx_op = "softplus", "log(1 + exp(x))", "Softplus"
...
...     def forward(self, x):
...         self._x = x
...         return np.logaddexp(0.0, x)
...
...     def backward(self, dy):
...         return dy * F.sigmoid(self._saved("_x", dy))
>>> errors = gradcheck_layer(Softplus(), np.random.default_rng(0).normal(size=(4, 3)))
>>> "softplus" in hidden_activations(), make_activation("softplus")
(True, Softplus())
>>> unregister_activation("softplus")  # forget it again
"""

from __future__ import annotations

import math

import numpy as np

from glassnet import fast
from glassnet.nn import functional as F
from glassnet.nn.initializers import INITIALIZERS
from glassnet.nn.layers.base import LAYERS, Layer, register_layer

__all__ = [
    "ACTIVATION_LAYERS",
    "GELU",
    "ActivationLayer",
    "Identity",
    "LeakyReLU",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "default_init",
    "hidden_activations",
    "make_activation",
    "register_activation",
    "unregister_activation",
]


class ActivationLayer(Layer):
    r"""Base class of the activation layers: a function applied to each row, without parameters.

    Besides ``forward`` and ``backward``, an activation declares what the rest of glassnet reads:

    ==================  =========================================================================================
    declaration         meaning
    ==================  =========================================================================================
    ``name``            its name in the registry (the estimators' ``activation``, ``build_mlp``, the menus)
    ``formula``         the function in plain text, for parameter documentation and menus (``"max(0, x)"``)
    ``hidden``          offered as a hidden layer's activation (``Softmax`` is not: it belongs to the loss head)
    ``init``            the initializer ``build_mlp(init='auto')`` gives the ``Dense`` layers around it
    ``sklearn_name``    scikit-learn's ``MLPClassifier(activation=...)`` name for it; ``None``: scikit-learn
                        lacks it, and ``to_sklearn`` refuses the model
    ``onnx_op``         the ONNX operator that computes it (with :meth:`onnx_attributes`); ``None``: it lowers
                        through its own :meth:`lower_onnx`, or, if it writes none, cannot be exported
    ==================  =========================================================================================
    """

    name: str | None = None
    formula: str = ""
    hidden: bool = True
    init: str = "glorot_uniform"
    sklearn_name: str | None = None
    onnx_op: str | None = None

    @classmethod
    def lowers_to_onnx(cls) -> bool:
        """Whether the class declares how it lowers to ONNX (an :attr:`onnx_op` or its own :meth:`lower_onnx`)."""
        return cls.onnx_op is not None or cls.lower_onnx is not ActivationLayer.lower_onnx

    def onnx_attributes(self) -> dict:
        """The attributes of :attr:`onnx_op`'s node (none by default)."""
        return {}

    def lower_onnx(self, graph, x: str, dtype: np.dtype) -> str:
        """Add the ONNX nodes that compute this activation of the tensor named ``x``; return the result's name.

        ``graph`` makes the nodes: ``graph.node(op, inputs, **attributes)`` and ``graph.constant(hint,
        array)`` return the name of what they add, ``graph.cast(x, dtype)`` converts, ``graph.opset`` is the
        target opset. ``dtype`` is the exported model's float type. By default one :attr:`onnx_op` node.
        """
        if self.onnx_op is None:
            raise TypeError(
                f"Cannot export the activation {self.name!r} to ONNX: {type(self).__name__} declares no "
                "lowering. Give the class an onnx_op (the ONNX operator that computes it) or a lower_onnx "
                "method (see glassnet.nn.layers.ActivationLayer)."
            )
        return graph.node(self.onnx_op, [x], **self.onnx_attributes())


class _Elementwise(ActivationLayer):
    """An element-wise activation whose derivative is a function of its output."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._a = self._f(x)
        return self._a

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * self._df(self._saved("_a", dy))


class Identity(_Elementwise):
    r""":math:`a = x`, :math:`\partial L/\partial x = \partial L/\partial a`."""

    name, formula, sklearn_name, onnx_op = "identity", "x", "identity", "Identity"
    identity_in_eval = True

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

    name, formula, sklearn_name, onnx_op = "logistic", "1 / (1 + exp(-x))", "logistic", "Sigmoid"
    init = "glorot_logistic"  # scikit-learn's factor 2 for the logistic

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

    name, formula, sklearn_name, onnx_op = "tanh", "tanh(x)", "tanh", "Tanh"

    _f = staticmethod(F.tanh)
    _df = staticmethod(F.tanh_grad)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        a = self._saved("_a", dy)
        dx = fast.tanh_backward(dy, a)  # the same product in one compiled pass, when glassnet.fast can
        return dy * self._df(a) if dx is None else dx


class ReLU(_Elementwise):
    r""":math:`a = \max(x, 0)`, :math:`\partial L/\partial x = \partial L/\partial a \odot [a > 0]`."""

    name, formula, sklearn_name, onnx_op = "relu", "max(0, x)", "relu", "Relu"
    init = "he_uniform"

    _f = staticmethod(F.relu)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        a = self._saved("_a", dy)
        dx = fast.relu_backward(dy, a)  # the same product in one compiled pass, when glassnet.fast can
        return dy * (a > 0) if dx is None else dx  # a bool factor: several times faster than np.where


class LeakyReLU(_Elementwise):
    r""":math:`a = \max(x, s x)`, :math:`\partial L/\partial x = \partial L/\partial a \odot
    ([a > 0] + s[a \le 0])`."""

    name, formula, init = "leaky_relu", "max(0.01 x, x)", "he_uniform"

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

    def lower_onnx(self, graph, x: str, dtype: np.dtype) -> str:
        if dtype == np.float32:
            return graph.node("LeakyRelu", [x], alpha=self.negative_slope)
        # ONNX attributes are float32: max(x, s x) keeps a float64 slope exact (s in [0, 1))
        slope = graph.constant("slope", np.array(self.negative_slope, dtype))
        return graph.node("Max", [x, graph.node("Mul", [x, slope])])


class GELU(ActivationLayer):
    r"""GELU (tanh approximation); its derivative needs the input, so the input is cached.

    ONNX has the operator ``Gelu`` from opset 20 on; below that, or for a float64 model of the exact form (for
    which onnxruntime has no kernel), :meth:`lower_onnx` writes out the formula the layer computes.
    """

    name, formula, init = "gelu", "x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))", "he_uniform"

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return F.gelu(x)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * F.gelu_grad(self._saved("_x", dy))

    def lower_onnx(self, graph, x: str, dtype: np.dtype) -> str:
        exact = _gelu_is_exact(type(self)(**self.get_config()))
        if graph.opset >= _GELU_OP_OPSET and (not exact or dtype == np.float32):
            return graph.node("Gelu", [x], approximate="none" if exact else "tanh")

        def c(value: float) -> str:
            return graph.constant("c", np.array(value, dtype))

        if not exact:  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            cube = graph.node("Mul", [graph.node("Mul", [x, x]), x])
            inner = graph.node("Add", [x, graph.node("Mul", [cube, c(0.044715)])])
            inner = graph.node("Tanh", [graph.node("Mul", [inner, c(math.sqrt(2.0 / math.pi))])])
        else:  # 0.5 x (1 + erf(x / sqrt 2)); onnxruntime has no float64 Erf: float32 (relative error ~1e-7)
            inner = graph.node("Mul", [x, c(1.0 / math.sqrt(2.0))])
            if dtype == np.float64:
                inner = graph.cast(graph.node("Erf", [graph.cast(inner, np.float32)]), np.float64)
            else:
                inner = graph.node("Erf", [inner])
        half_x = graph.node("Mul", [x, c(0.5)])
        return graph.node("Mul", [half_x, graph.node("Add", [inner, c(1.0)])])


_GELU_OP_OPSET = 20  # the first opset with the Gelu operator


def _gelu_is_exact(probe: Layer) -> bool:
    r"""Whether a (fresh) GELU layer computes the exact form :math:`\tfrac12 x (1 + \mathrm{erf}(x/\sqrt2))`
    rather than the tanh approximation: the two differ by about 1.5e-4 at 1, :math:`\mathrm{GELU}(1) =
    0.841345` exactly, :math:`0.841192` with tanh. Export writes the form the layer computes."""
    value = float(np.asarray(probe.forward(np.array([[1.0]], dtype=np.float64))).ravel()[0])
    exact = 0.5 * (1.0 + math.erf(1.0 / math.sqrt(2.0)))
    approx = 0.5 * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (1.0 + 0.044715)))
    if abs(value - exact) < 1e-9:
        return True
    if abs(value - approx) < 1e-9:
        return False
    raise TypeError(
        f"Cannot export this GELU layer: GELU(1) = {value!r} is neither the exact form ({exact!r}) nor the "
        f"tanh approximation ({approx!r})."
    )


class Softmax(ActivationLayer):
    r"""Softmax over the last axis as a stand-alone layer.

    Its Jacobian is :math:`\partial a_i / \partial x_j = a_i (\delta_{ij} - a_j)`, so
    :math:`\partial L/\partial x = a \odot (g - \langle g, a \rangle)` with :math:`g = \partial L/\partial a`.
    For training, prefer the fused :class:`glassnet.nn.losses.SoftmaxCrossEntropy` on logits, whose gradient is
    simply ``softmax(z) - y`` and whose log never underflows.
    """

    name, formula, hidden, onnx_op = "softmax", "exp(x) / sum(exp(x))", False, "Softmax"

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._a = F.softmax(x)
        return self._a

    def backward(self, dy: np.ndarray) -> np.ndarray:
        a = self._saved("_a", dy)
        return a * (dy - np.sum(dy * a, axis=-1, keepdims=True))  # (N, K) * ((N, K) - (N, 1))

    def onnx_attributes(self) -> dict:
        return {"axis": -1}


# --- the registry ---------------------------------------------------------------------------------------------

#: activation name (and alias) -> layer class: what ``make_activation``, ``build_mlp``, the estimators'
#: ``activation``, ``glassnet train``, the playground and export look up
ACTIVATION_LAYERS: dict[str, type[ActivationLayer]] = {}


def register_activation(cls: type[ActivationLayer], *aliases: str) -> type[ActivationLayer]:
    """Make an activation layer known by its ``name`` (and any ``aliases``); usable as a class decorator.

    The class must subclass :class:`ActivationLayer`, declare a ``name`` and an ``init`` among
    :data:`glassnet.nn.initializers.INITIALIZERS`. It also becomes a layer type that ``Sequential.from_config``
    and model files rebuild (:func:`glassnet.nn.layers.register_layer`).
    """
    if not isinstance(cls, type) or not issubclass(cls, ActivationLayer):
        raise TypeError(
            f"register_activation expects a subclass of glassnet.nn.layers.ActivationLayer; got {cls!r}."
        )
    if not isinstance(cls.name, str) or not cls.name:
        raise ValueError(f"{cls.__name__} must declare its name (a non-empty string); got {cls.name!r}.")
    if cls.init not in INITIALIZERS:
        raise ValueError(f"{cls.__name__}.init must be one of {INITIALIZERS}; got {cls.init!r}.")
    for key in (cls.name, *aliases):
        ACTIVATION_LAYERS[key] = cls
    register_layer(cls)
    return cls


def unregister_activation(name: str) -> None:
    """Forget a registered activation: its name, its aliases and its layer type."""
    if name not in ACTIVATION_LAYERS:
        raise ValueError(f"No activation {name!r} is registered; registered: {sorted(ACTIVATION_LAYERS)}.")
    cls = ACTIVATION_LAYERS[name]
    for key in [key for key, value in ACTIVATION_LAYERS.items() if value is cls]:
        del ACTIVATION_LAYERS[key]
    if LAYERS.get(cls.__name__) is cls:
        del LAYERS[cls.__name__]


register_activation(Identity)
register_activation(Sigmoid, "sigmoid")
register_activation(Tanh)
register_activation(ReLU)
register_activation(LeakyReLU)
register_activation(GELU)
register_activation(Softmax)


def hidden_activations() -> tuple[str, ...]:
    """The names offered as a hidden layer's activation, in registration order (aliases left out)."""
    return tuple(name for name, cls in ACTIVATION_LAYERS.items() if cls.hidden and name == cls.name)


def _activation_class(name: str) -> type[ActivationLayer]:
    if not isinstance(name, str) or name not in ACTIVATION_LAYERS:
        raise ValueError(f"Unknown activation {name!r}; expected one of {sorted(ACTIVATION_LAYERS)}.")
    return ACTIVATION_LAYERS[name]


def make_activation(name: str) -> ActivationLayer:
    """A new activation layer by name; unknown names raise a ``ValueError`` listing the valid ones."""
    return _activation_class(name)()


def default_init(name: str) -> str:
    """The initializer an activation declares for the ``Dense`` layers around it (``build_mlp(init='auto')``):
    He-uniform for ReLU-like units, scikit-learn's Glorot-uniform otherwise (with its factor 2 for logistic)."""
    return _activation_class(name).init
