"""``glassnet export MODEL --format onnx -o FILE``: a model file as an ONNX model for other runtimes (or, with
``--format safetensors``, its weights as a safetensors file)."""

from __future__ import annotations

import argparse

import numpy as np

from glassnet.cli._common import CLIError


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "export",
        help="export a model file to ONNX or safetensors",
        description="Write a glassnet model file (from `glassnet train`, or an estimator saved with "
        "glassnet.io.save_estimator) as an ONNX model that onnxruntime and other runtimes can serve. "
        "Classifiers get the outputs `label` and `probabilities`, regressors `variable`; the input `X` takes "
        "rows in the data set's raw units (divided by the model's scale inside the graph) unless --scaled. "
        "Needs pip install 'glassnet[onnx]'.",
    )
    p.add_argument("model", help="model file written by `glassnet train` or glassnet.io.save_estimator")
    p.add_argument(
        "--format",
        choices=("onnx", "safetensors"),
        default="onnx",
        help="output format (default onnx); safetensors: the weights by dotted name, the architecture and "
        "preprocessing in its metadata (glassnet.files.safetensors.load_safetensors reads it back)",
    )
    p.add_argument("-o", "--output", required=True, help="the file to write, e.g. model.onnx")
    p.add_argument("--opset", type=int, default=None, help="ONNX opset (default 17; 20+ has a Gelu operator)")
    p.add_argument(
        "--dtype",
        choices=("float32", "float64"),
        default=None,
        help="input and weight type (default: the model's)",
    )
    p.add_argument(
        "--scaled", action="store_true", help="the ONNX input takes already scaled rows (no division inside)"
    )
    return p


def run(args) -> int:
    if args.format == "safetensors":
        return _run_safetensors(args)
    from glassnet._files import check_writable
    from glassnet.estimators.persistence import load_estimator
    from glassnet.export import save_onnx, to_onnx
    from glassnet.export._onnx import DEFAULT_OPSET
    from glassnet.files.model import load_model, read_metadata

    try:
        import onnx  # noqa: F401
    except ImportError:
        raise CLIError("ONNX export needs the onnx package: pip install 'glassnet[onnx]'") from None
    check_writable(args.output)  # a read-only folder is reported as the output's, not as a temporary file's
    opset = DEFAULT_OPSET if args.opset is None else args.opset
    if read_metadata(args.model).get("kind") == "estimator":
        model = load_estimator(args.model)
        onx = to_onnx(model, opset=opset, dtype=args.dtype)
        what = type(model).__name__
    else:
        saved = load_model(args.model)
        if saved.preprocessing.get("standardize"):
            _fold_standardization(saved.network, saved.preprocessing["standardize"])
        scale = None if args.scaled else saved.preprocessing.get("scale")
        onx = to_onnx(
            saved.network, opset=opset, dtype=args.dtype, classes=saved.classes or None, input_scale=scale
        )
        what = "network" + (f" (inputs divided by {float(scale):g})" if scale and float(scale) != 1.0 else "")
    try:
        path = save_onnx(onx, args.output)
    except OSError as exc:
        raise OSError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    outputs = ", ".join(o.name for o in onx.graph.output)
    print(f"wrote {path}: ONNX opset {opset}, {what}, input X, outputs {outputs}")
    return 0


def _run_safetensors(args) -> int:
    """The network of a model file (an estimator's too, with its classes) as a safetensors file."""
    from glassnet._files import check_writable
    from glassnet.files.model import load_model
    from glassnet.files.safetensors import save_safetensors

    for option, given in (("--opset", args.opset is not None), ("--dtype", args.dtype is not None),
                          ("--scaled", args.scaled)):  # fmt: skip
        if given:
            raise CLIError(
                f"{option} is an ONNX option; a safetensors file keeps the model's weights as they are"
            )
    check_writable(args.output)
    saved = load_model(args.model)
    try:
        path = save_safetensors(args.output, saved)
    except OSError as exc:
        raise OSError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    tensors = saved.network.state_dict()
    numbers = sum(int(a.size) for a in tensors.values())
    print(f"wrote {path}: safetensors, {len(tensors)} tensors ({numbers} numbers), the architecture and "
          "preprocessing in its metadata")  # fmt: skip
    return 0


def _fold_standardization(net, spec: dict) -> None:
    r"""Fold ``glassnet train --standardize``'s scaler into the first Dense layer, so the graph needs no step of
    its own: with :math:`x' = (x - \mu) / \sigma`,

    .. math:: W x' + b = (W / \sigma) x + (b - W (\mu / \sigma))

    (``W`` is ``(out, in)``; :math:`\sigma` divides each input column).
    """
    from glassnet.cli._model import model_inputs

    params = net.parameters()
    if "layers.0.W" not in params or "layers.0.b" not in params:
        raise CLIError("cannot export a standardised model whose first layer is not Dense")
    W, b = params["layers.0.W"], params["layers.0.b"]
    model_inputs({"standardize": spec}, np.zeros((1, W.shape[1])))  # checks the recorded numbers' shapes
    mu, sigma = np.asarray(spec["mean"], dtype=np.float64), np.asarray(spec["scale"], dtype=np.float64)
    b[...] = b - W @ (mu / sigma)  # (out, in) @ (in,) -> (out,)
    W[...] = W / sigma  # (out, in) / (in,): each input column divided by its sigma
