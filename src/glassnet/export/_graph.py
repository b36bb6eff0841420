r"""The ONNX nodes of a lowered network and of its head, written through a small emitter.

Each ``Dense`` is one ``Gemm`` (``transB=1``: glassnet's ``W`` is ``(out, in)``); a batch normalisation that no
``Dense`` precedes is a ``Mul`` and an ``Add``. Each activation layer writes its own nodes: its class declares
the ONNX operator that computes it, or a ``lower_onnx`` method (GELU, for one, writes out its formula below
opset 20; see :class:`glassnet.nn.layers.ActivationLayer`), so a new activation exports without a change here.

The same code serves :func:`glassnet.export.to_onnx` (:class:`HelperEmitter`, for ``onnx.helper``) and the
skl2onnx converter (:class:`ContainerEmitter`, for skl2onnx's container): an emitter has ``constant(hint,
array)``, ``node(op, inputs, output=None, **attributes)`` and ``cast(x, dtype)``, each returning the name of
what it made, and ``opset``.
"""

from __future__ import annotations

import numpy as np

from glassnet.export._lower import Activation, Affine, Scale

__all__ = ["ContainerEmitter", "HelperEmitter", "emit_body", "emit_head", "onnx_type"]

# --- emitters: where nodes and constants go ---------------------------------------------------------------


class _Emitter:
    """What both emitters share: a ``Cast`` node by NumPy dtype."""

    def cast(self, x: str, dtype) -> str:
        return self.node("Cast", [x], to=onnx_type(dtype))


class HelperEmitter(_Emitter):
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


class ContainerEmitter(_Emitter):
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
    """The activation's own nodes: its layer declares how it lowers (``lower_onnx``)."""
    return step.layer.lower_onnx(emitter, x, dtype)


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
    index = emitter.node("Cast", [positive], to=onnx_type(np.int64))
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


def onnx_type(dtype) -> int:
    from onnx import helper

    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
