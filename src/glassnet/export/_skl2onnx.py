"""glassnet's estimators as skl2onnx operators, so that a whole scikit-learn pipeline converts.

After :func:`register_skl2onnx`, ``skl2onnx.to_onnx(Pipeline([("scale", StandardScaler()), ("mlp",
glassnet.MLPClassifier())]), X[:1])`` converts the scaler with skl2onnx's own converter and the glassnet
model with the converter below, which emits the same nodes as :func:`glassnet.export.to_onnx` (the
onnx.ai/sklearn-onnx custom-converter tutorial: a shape calculator and a converter per model type).

Classifiers take skl2onnx's usual options: ``zipmap`` (default ``True``: the probabilities as a list of
dictionaries; pass ``options={"zipmap": False}`` for a tensor) and ``nocl`` (labels as class indices).
Multi-label classifiers need ``zipmap=False``.
"""

from __future__ import annotations

import numpy as np

from glassnet.export._graph import ContainerEmitter, emit_body, emit_head
from glassnet.export._lower import lower_network
from glassnet.export._onnx import model_head, output_names

__all__ = ["register_skl2onnx"]

_registered = False


def _import_skl2onnx():
    try:
        import skl2onnx
    except ImportError as exc:
        raise ImportError(
            "Converting pipelines needs skl2onnx: pip install 'glassnet[onnx]' (onnx, onnxruntime, skl2onnx)"
        ) from exc
    return skl2onnx


def _shape_calculator(operator) -> None:
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )

    model = operator.raw_operator
    x_type = operator.inputs[0].type
    n = operator.inputs[0].get_first_dimension()
    tensor = DoubleTensorType if isinstance(x_type, DoubleTensorType) else FloatTensorType
    network, head, labels = model_head(model)
    n_out = int(model.n_outputs_)
    if head in ("identity", "exp"):
        operator.outputs[0].type = tensor([n, n_out])
        return
    if len(operator.outputs) != 2:
        raise RuntimeError(f"{type(model).__name__}: expected the outputs label and probabilities.")
    if head == "multilabel":
        operator.outputs[0].type = Int64TensorType([n, n_out])
        operator.outputs[1].type = tensor([n, n_out])
        return
    is_string = labels is not None and labels.dtype == object
    operator.outputs[0].type = (StringTensorType if is_string else Int64TensorType)([n])
    operator.outputs[1].type = tensor([n, 2 if head == "binary" else n_out])


def _converter(scope, operator, container) -> None:
    from skl2onnx.common.data_types import DoubleTensorType

    model = operator.raw_operator
    network, head, labels = model_head(model)
    is_classifier = head not in ("identity", "exp")
    options = container.get_options(model, {"zipmap": True, "nocl": False}) if is_classifier else {}
    if head == "multilabel" and options.get("zipmap") not in (False, None):
        raise ValueError(
            "A multi-label glassnet.MLPClassifier converts with options={id(model): {'zipmap': False}} "
            "(or {type(model): {'zipmap': False}}): ZipMap cannot hold one probability per label."
        )
    if options.get("nocl") and labels is not None:
        labels = np.arange(len(labels), dtype=np.int64)
    dtype = np.float64 if isinstance(operator.inputs[0].type, DoubleTensorType) else np.float32
    emitter = ContainerEmitter(scope, container)
    z = emit_body(emitter, lower_network(network), operator.inputs[0].full_name, dtype)
    names = [variable.full_name for variable in operator.outputs]
    if len(names) != len(output_names(head)):
        raise RuntimeError(f"{type(model).__name__}: expected outputs {output_names(head)}, got {names}.")
    emit_head(emitter, head, labels, z, dtype, names)


def register_skl2onnx() -> None:
    """Register :class:`glassnet.MLPClassifier` and :class:`glassnet.MLPRegressor` with skl2onnx.

    Calling it again does nothing. After it, ``skl2onnx.to_onnx`` converts the estimators alone or as the
    last step of a pipeline.

    Raises
    ------
    ImportError
        If skl2onnx is not installed.
    """
    global _registered
    skl2onnx = _import_skl2onnx()
    if _registered:
        return
    from glassnet.estimators import MLPClassifier, MLPRegressor

    skl2onnx.update_registered_converter(
        MLPClassifier,
        "GlassnetMLPClassifier",
        _shape_calculator,
        _converter,
        options={"zipmap": [True, False, "columns"], "nocl": [True, False]},
    )
    skl2onnx.update_registered_converter(MLPRegressor, "GlassnetMLPRegressor", _shape_calculator, _converter)
    _registered = True
