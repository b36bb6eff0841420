r"""ONNX export: a glassnet network or estimator as an ONNX graph, built with ``onnx.helper``.

The graph is the lowered network (:mod:`glassnet.export._lower`) followed by a head:

==============================  ===================================================================
model                           outputs
==============================  ===================================================================
classifier, several classes     ``label`` = ``classes_[ArgMax(z)]``, ``probabilities`` = ``Softmax(z)``
classifier, two classes         ``label`` = ``classes_[z > 0]``, ``probabilities`` = ``[σ(-z), σ(z)]``
classifier, multi-label         ``label`` = ``int64(z > 0)``, ``probabilities`` = ``σ(z)``
regressor                       ``variable`` = ``z`` (squared error) or ``exp(z)`` (Poisson), (N, n_outputs)
==============================  ===================================================================

Labels are looked up with a ``Gather`` on a constant holding the classes, so they keep their type as
skl2onnx does: integers (and whole-number floats) become an int64 tensor, strings a string tensor. The
labels come from the logits ``z``, as glassnet's ``predict`` does, never from rounded probabilities.

Each ``Dense`` is one ``Gemm`` (``transB=1``: glassnet's ``W`` is ``(out, in)``). GELU is ONNX's ``Gelu`` from
opset 20 on, and below that its decomposition, :math:`\tfrac12 x (1 + \mathrm{erf}(x/\sqrt2))` (or the tanh
form, whichever the network computes). onnxruntime has no float64 ``Erf``; a float64 model computes that one
function in float32 (a relative error of about 1e-7) so that it runs everywhere.

The same emission code serves :func:`to_onnx` (``onnx.helper``) and the skl2onnx converter (skl2onnx's
container), through the two small emitters below.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from glassnet.export._lower import Activation, Affine, Scale, loss_name, lower_network

__all__ = ["to_onnx", "save_onnx", "DEFAULT_OPSET"]

#: the opset written by default: supported by every onnxruntime since 1.12 (2022)
DEFAULT_OPSET = 17
_MIN_OPSET = 13  # Softmax over one axis, Squeeze/ReduceSum taking axes as inputs
_GELU_OP_OPSET = 20

_NETWORK_HEADS = {
    "softmax_cross_entropy": "softmax",
    "sigmoid_binary_cross_entropy": "multilabel",
    "squared_error": "identity",
    "poisson": "exp",
}


def _import_onnx():
    try:
        import onnx
    except ImportError as exc:
        raise ImportError(
            "ONNX export needs the onnx package: pip install 'glassnet[onnx]' (onnx, onnxruntime, skl2onnx)"
        ) from exc
    return onnx


# --- what the graph holds: a head and the labels -----------------------------------------------------------


def _label_array(classes) -> np.ndarray:
    """The class labels as an array ONNX can hold: int64 or string (an object array of str)."""
    arr = np.asarray(classes)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"classes must be a non-empty 1-D sequence of labels; got shape {arr.shape}.")
    if arr.dtype.kind in "biu":
        if arr.dtype.kind == "u" and arr.max() > np.iinfo(np.int64).max:
            raise ValueError("Class labels above 2**63 - 1 do not fit ONNX's int64 labels.")
        return arr.astype(np.int64)
    if arr.dtype.kind in "US":
        return np.array([str(c) for c in arr], dtype=object)
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        return arr.astype(np.int64)  # as skl2onnx: whole-number float labels become int64 labels
    if arr.dtype.kind == "O":
        values = list(arr)
        if all(isinstance(c, str) for c in values):
            return np.array(values, dtype=object)
        if all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in values):
            return np.array(values, dtype=np.int64)
    raise TypeError(
        f"Class labels of dtype {arr.dtype} cannot be ONNX labels; use integers or strings (got {arr[:3]!r})."
    )


def model_head(model, classes=None) -> tuple:
    """``(network, head, labels)`` for a network or a fitted estimator.

    ``head`` is ``softmax``, ``binary``, ``multilabel``, ``identity`` or ``exp``; ``labels`` the label array
    (``None`` for regression and multi-label heads).

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``model`` is an estimator that has not been fitted.
    TypeError
        If ``model`` is none of Sequential, MLPClassifier and MLPRegressor.
    """
    from glassnet.network import Sequential

    if isinstance(model, Sequential):
        head = _network_head(model)
        n_out = _n_outputs(model)
        if classes is not None and len(classes) > 0 and head in ("softmax", "multilabel"):
            if head == "multilabel" and n_out == 1 and len(classes) == 2:
                head = "binary"
            elif len(classes) != n_out:
                raise ValueError(f"classes has {len(classes)} labels but the network has {n_out} outputs.")
        labels = None
        if head == "softmax":
            labels = _label_array(classes if classes is not None and len(classes) else np.arange(n_out))
        elif head == "binary":
            labels = _label_array(classes)
        return model, head, labels
    name = type(model).__name__
    if name not in ("MLPClassifier", "MLPRegressor") or not type(model).__module__.startswith("glassnet"):
        raise TypeError(
            "to_onnx takes a glassnet.network.Sequential, glassnet.MLPClassifier or glassnet.MLPRegressor; "
            f"got {type(model).__module__}.{name}. For a scikit-learn model use skl2onnx, or "
            "glassnet.from_sklearn first."
        )
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model, ["network_"])
    if name == "MLPRegressor":
        return model.network_, "exp" if model.out_activation_ == "exp" else "identity", None
    target = model.target_type_
    if target == "multilabel-indicator":
        return model.network_, "multilabel", None
    if target == "binary":
        return model.network_, "binary", _label_array(model.classes_)
    return model.network_, "softmax", _label_array(model.classes_)


def _network_head(network) -> str:
    """The head for a network's loss: by name for the built-in losses, else by what its ``link`` computes
    (identity, exp, softmax or sigmoid), so that a new loss with a familiar link exports too."""
    name = loss_name(network)
    if name in _NETWORK_HEADS:
        return _NETWORK_HEADS[name]
    from glassnet.functional import sigmoid, softmax

    z = np.array([[-1.5, 0.25, 2.0]])
    with np.errstate(all="ignore"):
        value = np.asarray(network.loss.link(z.copy()), dtype=np.float64)
    for head, f in (
        ("identity", lambda v: v),
        ("exp", np.exp),
        ("softmax", softmax),
        ("multilabel", sigmoid),
    ):
        if value.shape == z.shape and np.allclose(value, f(z), rtol=1e-12, atol=0):
            return head
    raise TypeError(
        f"Cannot export a network with the loss {name!r}: its link is none of identity, exp, softmax and "
        "sigmoid, the heads export knows."
    )


def _n_outputs(network) -> int:
    dense = [spec for spec in network.get_config()["layers"] if spec["type"] == "Dense"]
    if not dense:
        raise TypeError("Cannot export a network without a Dense layer.")
    return int(dense[-1]["out_features"])


def n_features(network) -> int:
    """Width of the network's input."""
    dense = [spec for spec in network.get_config()["layers"] if spec["type"] == "Dense"]
    if not dense:
        raise TypeError("Cannot export a network without a Dense layer.")
    return int(dense[0]["in_features"])


def output_names(head: str) -> list[str]:
    return ["variable"] if head in ("identity", "exp") else ["label", "probabilities"]


# --- emitters: where nodes and constants go ---------------------------------------------------------------


class HelperEmitter:
    """Collects nodes and initializers for ``onnx.helper.make_graph``."""

    def __init__(self, opset: int) -> None:
        self.opset = opset
        self.nodes: list = []
        self.initializers: list = []
        self._count = 0

    def _name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def constant(self, hint: str, array: np.ndarray) -> str:
        from onnx import numpy_helper

        name = self._name(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op: str, inputs: list[str], output: str | None = None, **attrs) -> str:
        from onnx import helper

        out = output or self._name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=self._name(f"n_{op}"), **attrs))
        return out


class ContainerEmitter:
    """Adds nodes and initializers to a skl2onnx ``ModelComponentContainer`` (for the converter)."""

    def __init__(self, scope, container) -> None:
        self.scope, self.container = scope, container
        self.opset = int(container.target_opset)

    def constant(self, hint: str, array: np.ndarray) -> str:
        from onnx import helper, numpy_helper

        name = self.scope.get_unique_variable_name(hint)
        array = np.asarray(array)
        if array.dtype == object:  # strings: skl2onnx copies raw bytes only, so give it the values
            onnx_type = helper.np_dtype_to_tensor_dtype(np.dtype("O"))
            self.container.add_initializer(
                name, onnx_type, list(array.shape), [str(s).encode() for s in array]
            )
        else:
            tensor = numpy_helper.from_array(array, name)
            self.container.add_initializer(name, tensor.data_type, list(array.shape), tensor)
        return name

    def node(self, op: str, inputs: list[str], output: str | None = None, **attrs) -> str:
        out = output or self.scope.get_unique_variable_name(op.lower())
        name = self.scope.get_unique_operator_name(f"glassnet_{op}")
        self.container.add_node(op, inputs, [out], name=name, **attrs)
        return out


# --- the graph --------------------------------------------------------------------------------------------


def emit_body(emitter, steps, x: str, dtype, input_scale: float | None = None) -> str:
    """Nodes for the lowered network from input ``x``; returns the name of the logits."""
    dtype = np.dtype(dtype)
    if input_scale is not None and float(input_scale) != 1.0:
        x = emitter.node("Div", [x, emitter.constant("input_scale", np.array(input_scale, dtype))])
    for step in steps:
        if isinstance(step, Affine):
            W = emitter.constant("W", step.W.astype(dtype))  # (out, in)
            b = emitter.constant("b", step.b.astype(dtype))
            x = emitter.node("Gemm", [x, W, b], transB=1)  # (N, in) @ (in, out) + (out,) -> (N, out)
        elif isinstance(step, Scale):
            x = emitter.node("Mul", [x, emitter.constant("bn_scale", step.scale.astype(dtype))])
            x = emitter.node("Add", [x, emitter.constant("bn_shift", step.shift.astype(dtype))])
        else:
            x = _emit_activation(emitter, step, x, dtype)
    return x


def _emit_activation(emitter, step: Activation, x: str, dtype: np.dtype) -> str:
    simple = {"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid"}
    if step.name in simple:
        return emitter.node(simple[step.name], [x])
    if step.name == "leaky_relu":
        if dtype == np.float32:
            return emitter.node("LeakyRelu", [x], alpha=float(step.alpha))
        # ONNX attributes are float32: max(x, s x) keeps a float64 slope exact (s in [0, 1))
        slope = emitter.constant("slope", np.array(step.alpha, dtype))
        return emitter.node("Max", [x, emitter.node("Mul", [x, slope])])
    if step.name == "softmax":
        return emitter.node("Softmax", [x], axis=-1)
    if step.name not in ("gelu_erf", "gelu_tanh"):
        raise TypeError(f"Cannot export the activation {step.name!r}.")
    tanh = step.name == "gelu_tanh"
    if emitter.opset >= _GELU_OP_OPSET and (tanh or dtype == np.float32):
        return emitter.node("Gelu", [x], approximate="tanh" if tanh else "none")

    def c(value: float) -> str:
        return emitter.constant("c", np.array(value, dtype))

    if tanh:  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = emitter.node("Mul", [emitter.node("Mul", [x, x]), x])
        inner = emitter.node("Add", [x, emitter.node("Mul", [cube, c(0.044715)])])
        inner = emitter.node("Tanh", [emitter.node("Mul", [inner, c(math.sqrt(2.0 / math.pi))])])
    else:  # 0.5 x (1 + erf(x / sqrt 2))
        inner = emitter.node("Mul", [x, c(1.0 / math.sqrt(2.0))])
        if dtype == np.float64:  # onnxruntime has no float64 Erf (see the module docstring)
            inner = emitter.node("Cast", [inner], to=_onnx_type(np.float32))
            inner = emitter.node("Cast", [emitter.node("Erf", [inner])], to=_onnx_type(np.float64))
        else:
            inner = emitter.node("Erf", [inner])
    half_x = emitter.node("Mul", [x, c(0.5)])
    return emitter.node("Mul", [half_x, emitter.node("Add", [inner, c(1.0)])])


def emit_head(emitter, head: str, labels, z: str, dtype, outputs: list[str]) -> None:
    """Nodes from the logits ``z`` to the named outputs (see the module docstring's table)."""
    dtype = np.dtype(dtype)
    if head in ("identity", "exp"):
        emitter.node("Exp" if head == "exp" else "Identity", [z], output=outputs[0])
        return
    label, proba = outputs
    if head == "softmax":
        emitter.node("Softmax", [z], output=proba, axis=1)
        index = emitter.node("ArgMax", [z], axis=1, keepdims=0)  # (N, K) -> (N,), the first maximum
        emitter.node("Gather", [emitter.constant("classes", labels), index], output=label, axis=0)
        return
    positive = emitter.node("Greater", [z, emitter.constant("zero", np.array(0, dtype))])
    index = emitter.node("Cast", [positive], to=_onnx_type(np.int64))
    if head == "multilabel":
        emitter.node("Sigmoid", [z], output=proba)
        emitter.node("Identity", [index], output=label)  # (N, K) of 0/1 as int64
        return
    # binary: z is (N, 1); predict_proba is [sigmoid(-z), sigmoid(z)], the label classes_[z > 0]
    p1 = emitter.node("Sigmoid", [z])
    p0 = emitter.node("Sigmoid", [emitter.node("Neg", [z])])
    emitter.node("Concat", [p0, p1], output=proba, axis=1)  # (N, 2)
    flat = emitter.node("Reshape", [index, emitter.constant("flat", np.array([-1], np.int64))])  # (N,)
    emitter.node("Gather", [emitter.constant("classes", labels), flat], output=label, axis=0)


def _onnx_type(dtype) -> int:
    from onnx import helper

    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def _check_dtype(dtype, network) -> np.dtype:
    if dtype is None:
        return np.dtype(network.dtype)
    name = np.dtype(dtype).name
    if name not in ("float32", "float64"):
        raise ValueError(f"dtype must be float32 or float64; got {name}.")
    return np.dtype(name)


def _check_opset(opset) -> int:
    onnx = _import_onnx()
    newest = onnx.defs.onnx_opset_version()
    if (
        isinstance(opset, bool)
        or not isinstance(opset, (int, np.integer))
        or not _MIN_OPSET <= opset <= newest
    ):
        raise ValueError(f"opset must be an integer in [{_MIN_OPSET}, {newest}]; got {opset!r}.")
    return int(opset)


def to_onnx(
    model,
    *,
    opset: int = DEFAULT_OPSET,
    dtype=None,
    classes=None,
    input_scale: float | None = None,
    name: str | None = None,
):
    """An ONNX model that computes ``model``'s predictions.

    Parameters
    ----------
    model : Sequential, MLPClassifier or MLPRegressor
        A network, or a fitted glassnet estimator.
    opset : int, default 17
        The ONNX operator set (13 or newer); from 20 on GELU is ONNX's ``Gelu`` operator.
    dtype : float32 or float64, default the network's dtype
        Type of the input ``X``, of the weights and of the outputs.
    classes : sequence, optional
        For a network only: the labels of its outputs (default ``0 .. K-1`` for a softmax head; two labels
        for a single sigmoid output make it a binary classifier).
    input_scale : float, optional
        Divide the input by this first (a model file's ``preprocessing['scale']``, such as 16 or 255).
    name : str, optional
        The graph's name (default the model's class name).

    Returns
    -------
    onnx.ModelProto
        Input ``X`` of shape ``(N, n_features)``; outputs ``label`` and ``probabilities`` (classifiers) or
        ``variable`` (regression).

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator has not been fitted.
    TypeError
        If the model, one of its layers or its loss cannot be exported.
    ValueError
        For a bad ``opset``, ``dtype`` or ``classes``.

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet.network import build_mlp
    >>> from glassnet.export import to_onnx
    >>> onx = to_onnx(build_mlp([4, 8, 3], seed=0), classes=["a", "b", "c"])
    >>> [o.name for o in onx.graph.output]
    ['label', 'probabilities']
    """
    onnx = _import_onnx()
    from onnx import helper

    from glassnet._version import __version__

    opset = _check_opset(opset)
    network, head, labels = model_head(model, classes)
    dtype = _check_dtype(dtype, network)
    steps = lower_network(network)
    emitter = HelperEmitter(opset)
    z = emit_body(emitter, steps, "X", dtype, input_scale)
    outputs = output_names(head)
    emit_head(emitter, head, labels, z, dtype, outputs)

    n_out = _n_outputs(network)
    elem = _onnx_type(dtype)
    x_info = helper.make_tensor_value_info("X", elem, [None, n_features(network)])
    if head in ("identity", "exp"):
        out_info = [helper.make_tensor_value_info("variable", elem, [None, n_out])]
    else:
        n_proba = 2 if head == "binary" else n_out
        label_elem = _onnx_type(np.int64) if labels is None else _onnx_type(labels.dtype)
        label_shape = [None, n_out] if head == "multilabel" else [None]
        out_info = [
            helper.make_tensor_value_info("label", label_elem, label_shape),
            helper.make_tensor_value_info("probabilities", elem, [None, n_proba]),
        ]
    graph = helper.make_graph(
        emitter.nodes, name or f"glassnet_{type(model).__name__}", [x_info], out_info, emitter.initializers
    )
    opsets = [helper.make_opsetid("", opset)]
    onx = helper.make_model(
        graph, opset_imports=opsets, producer_name="glassnet", producer_version=__version__
    )
    onx.ir_version = min(onnx.IR_VERSION, helper.find_min_ir_version_for(opsets))
    onx.doc_string = f"glassnet {type(model).__name__} ({head} head), exported by glassnet.export.to_onnx"
    if labels is not None:
        helper.set_model_props(onx, {"classes": ", ".join(str(c) for c in labels)})
    onnx.checker.check_model(onx)
    return onx


def save_onnx(onx, path: str | os.PathLike) -> Path:
    """Write an ONNX model to ``path`` atomically with :func:`glassnet._files.write_atomic` (the writer of
    every glassnet file): a crash leaves the old file or the new one, never half of one.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    from glassnet._files import write_atomic

    data = onx.SerializeToString()
    return write_atomic(Path(path), lambda f: f.write(data))
