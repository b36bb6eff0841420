r"""A trained network lowered to the few operations that inference needs (NumPy only).

Export does not need glassnet's layers, only what they compute in evaluation mode:

* ``Dense``: an affine map :math:`z = x W^T + b`;
* ``BatchNorm``: in evaluation mode the affine map :math:`y = s \odot x + t` with
  :math:`s = \gamma / \sqrt{\bar\sigma^2 + \epsilon}` and :math:`t = \beta - s \odot \bar\mu`. Right after a
  ``Dense`` it is folded into it: :math:`y = x (s \odot W)^T + (s \odot b + t)`, one matrix product fewer;
* ``Dropout`` and ``Identity``: the identity in evaluation mode, so they vanish;
* the activations, by name.

The network is read through its public description only (``get_config()``, ``parameters()``,
``buffers()``), so a new layer that keeps those stable exports unchanged, and an unknown one is refused.
Folding is done in float64 and cast to the exported dtype afterwards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Affine", "Activation", "Scale", "lower_network", "loss_name"]


@dataclass(frozen=True)
class Affine:
    """``z = x @ W.T + b`` with ``W`` of shape ``(out, in)`` (glassnet's ``Dense`` layout), float64."""

    W: np.ndarray
    b: np.ndarray


@dataclass(frozen=True)
class Scale:
    """``y = x * scale + shift`` per feature (a batch normalisation that follows no ``Dense``), float64."""

    scale: np.ndarray
    shift: np.ndarray


@dataclass(frozen=True)
class Activation:
    """An element-wise activation (or the row-wise softmax).

    ``name`` is one of ``relu``, ``tanh``, ``sigmoid``, ``leaky_relu`` (with ``alpha``, the negative slope),
    ``gelu_erf`` (exact GELU), ``gelu_tanh`` (its tanh approximation) and ``softmax``.
    """

    name: str
    alpha: float | None = None


Step = Affine | Scale | Activation

_SIMPLE = {"ReLU": "relu", "Tanh": "tanh", "Sigmoid": "sigmoid", "Softmax": "softmax"}
_VANISH = ("Dropout", "Identity")
_KNOWN = ("Dense", "BatchNorm", "GELU", "LeakyReLU", *_SIMPLE, *_VANISH)


def loss_name(network) -> str:
    """The name of the network's loss head (``softmax_cross_entropy``, ``poisson``, ...)."""
    return str(network.get_config()["loss"]["name"])


def lower_network(network) -> list[Step]:
    """The inference-time operations of a :class:`~glassnet.nn.network.Sequential`, in order.

    Parameters
    ----------
    network : Sequential

    Returns
    -------
    list of Affine, Scale and Activation

    Raises
    ------
    TypeError
        If the network holds a layer type that export does not know.
    """
    config = network.get_config()
    params = network.parameters()
    buffers = network.buffers()
    steps: list[Step] = []
    for i, spec in enumerate(config["layers"]):
        kind = spec["type"]
        prefix = f"layers.{i}."
        if kind == "Dense":
            W = np.asarray(params[prefix + "W"], dtype=np.float64)  # (out, in)
            b = np.asarray(params[prefix + "b"], dtype=np.float64)  # (out,)
            steps.append(Affine(W.copy(), b.copy()))
        elif kind == "BatchNorm":
            gamma = np.asarray(params[prefix + "gamma"], dtype=np.float64)
            beta = np.asarray(params[prefix + "beta"], dtype=np.float64)
            mean = np.asarray(buffers[prefix + "running_mean"], dtype=np.float64)
            var = np.asarray(buffers[prefix + "running_var"], dtype=np.float64)
            scale = gamma / np.sqrt(var + float(spec["eps"]))  # (D,)
            shift = beta - scale * mean
            if steps and isinstance(steps[-1], Affine):
                prev = steps.pop()
                # s * (x W^T + b) + t = x (s[:, None] * W)^T + (s * b + t)
                steps.append(Affine(prev.W * scale[:, None], prev.b * scale + shift))
            else:
                steps.append(Scale(scale, shift))
        elif kind in _VANISH:
            continue
        elif kind in _SIMPLE:
            steps.append(Activation(_SIMPLE[kind]))
        elif kind == "LeakyReLU":
            steps.append(Activation("leaky_relu", alpha=float(spec["negative_slope"])))
        elif kind == "GELU":
            steps.append(Activation(_gelu_form(network.layers[i], spec)))
        else:
            raise TypeError(
                f"Cannot export layer {i} ({kind}): export knows the layer types {sorted(_KNOWN)}. "
                "Replace the layer, or extend glassnet.export._lower for it."
            )
    return steps


def _gelu_form(layer, spec: dict) -> str:
    r"""``gelu_erf`` or ``gelu_tanh``: what this GELU layer computes.

    A configuration that names its form (``approximate='tanh'`` or ``'none'``, as in PyTorch and ONNX) is
    trusted; otherwise a fresh layer of the same configuration is evaluated at one point, where the two forms
    differ by about 1.5e-4: :math:`\mathrm{GELU}(1) = 0.841345` exactly, :math:`0.841192` with tanh.
    """
    approximate = spec.get("approximate")
    if approximate in ("tanh", "none"):
        return "gelu_tanh" if approximate == "tanh" else "gelu_erf"
    probe = type(layer)(**{k: v for k, v in spec.items() if k != "type"})
    value = float(np.asarray(probe.forward(np.array([[1.0]], dtype=np.float64))).ravel()[0])
    exact = 0.5 * (1.0 + math.erf(1.0 / math.sqrt(2.0)))
    approx = 0.5 * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (1.0 + 0.044715)))
    if abs(value - exact) < 1e-9:
        return "gelu_erf"
    if abs(value - approx) < 1e-9:
        return "gelu_tanh"
    raise TypeError(
        f"Cannot export this GELU layer: GELU(1) = {value!r} is neither the exact form ({exact!r}) nor the "
        f"tanh approximation ({approx!r})."
    )
