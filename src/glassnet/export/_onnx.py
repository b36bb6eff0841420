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

How each layer becomes ONNX nodes: :mod:`glassnet.export._graph`.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from glassnet.export._graph import HelperEmitter, emit_body, emit_head, onnx_type
from glassnet.export._lower import loss_name, lower_network

__all__ = ["to_onnx", "save_onnx", "DEFAULT_OPSET"]

#: the opset written by default: supported by every onnxruntime since 1.12 (2022)
DEFAULT_OPSET = 17
_MIN_OPSET = 13  # Softmax over one axis, Squeeze/ReduceSum taking axes as inputs

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
    from glassnet.nn.network import Sequential

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
    estimators = _glassnet_estimators()
    if not isinstance(model, estimators):
        raise TypeError(
            "to_onnx takes a glassnet.nn.network.Sequential, glassnet.MLPClassifier or glassnet.MLPRegressor; "
            f"got {type(model).__module__}.{type(model).__name__}. For a scikit-learn model use skl2onnx, or "
            "glassnet.from_sklearn first."
        )
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model, ["network_"])
    if isinstance(model, estimators[1]):
        return model.network_, "exp" if model.out_activation_ == "exp" else "identity", None
    target = model.target_type_
    if target == "multilabel-indicator":
        return model.network_, "multilabel", None
    if target == "binary":
        return model.network_, "binary", _label_array(model.classes_)
    return model.network_, "softmax", _label_array(model.classes_)


def _glassnet_estimators() -> tuple[type, ...]:
    """``(MLPClassifier, MLPRegressor)``, or ``()`` where scikit-learn (so no estimator) is not installed."""
    try:
        from glassnet.estimators import MLPClassifier, MLPRegressor
    except ImportError:
        return ()
    return MLPClassifier, MLPRegressor


def _network_head(network) -> str:
    """The head for a network's loss: by name for the built-in losses, else by what its ``link`` computes
    (identity, exp, softmax or sigmoid), so that a new loss with a familiar link exports too."""
    name = loss_name(network)
    if name in _NETWORK_HEADS:
        return _NETWORK_HEADS[name]
    from glassnet.nn.functional import sigmoid, softmax

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
        Type of the input ``X``, of the weights and of the outputs. An estimator's network has the dtype of
        the data it was fitted on (float64 for NumPy's and scikit-learn's arrays), so by default the graph
        takes that data as it is; onnxruntime refuses another dtype, naming the one the graph wants. The
        input's ``doc_string`` says it too.
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
    >>> from glassnet.nn.network import build_mlp
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
    if getattr(model, "test_time_rotations", None):
        warnings.warn(
            f"{type(model).__name__}(test_time_rotations={model.test_time_rotations!r}) averages its "
            "predictions over rotated copies of each image; the ONNX graph computes the network's predictions "
            "for the image alone.",
            UserWarning,
            stacklevel=2,
        )
    dtype = _check_dtype(dtype, network)
    steps = lower_network(network)
    emitter = HelperEmitter(opset)
    z = emit_body(emitter, steps, "X", dtype, input_scale)
    outputs = output_names(head)
    emit_head(emitter, head, labels, z, dtype, outputs)

    x_info, out_info = _graph_io(network, head, labels, dtype, input_scale)
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


def _graph_io(network, head: str, labels, dtype: np.dtype, input_scale: float | None) -> tuple:
    """The graph's typed input ``X`` (its ``doc_string`` says what to feed it) and its outputs: ``variable``
    for regression, ``label`` and ``probabilities`` for classifiers; returns ``(x_info, [out_info, ...])``."""
    from onnx import helper

    n_out = _n_outputs(network)
    elem = onnx_type(dtype)
    n_in = n_features(network)
    # the input as onnxruntime takes it, for whoever reads the graph
    x_doc = f"{dtype.name} rows of {n_in} features"
    if input_scale:
        x_doc += f" in the data's raw units (divided by {input_scale} inside the graph)"
    x_info = helper.make_tensor_value_info("X", elem, [None, n_in], doc_string=x_doc)
    if head in ("identity", "exp"):
        return x_info, [helper.make_tensor_value_info("variable", elem, [None, n_out])]
    n_proba = 2 if head == "binary" else n_out
    label_elem = onnx_type(np.int64) if labels is None else onnx_type(labels.dtype)
    label_shape = [None, n_out] if head == "multilabel" else [None]
    return x_info, [
        helper.make_tensor_value_info("label", label_elem, label_shape),
        helper.make_tensor_value_info("probabilities", elem, [None, n_proba]),
    ]


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
