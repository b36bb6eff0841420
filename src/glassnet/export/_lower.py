r"""A trained network lowered to the few operations that inference needs.

Export needs from glassnet's layers only what they compute in evaluation mode:

* ``Dense``: an affine map :math:`z = x W^T + b`;
* ``BatchNorm``: in evaluation mode the affine map :math:`y = s \odot x + t` with
  :math:`s = \gamma / \sqrt{\bar\sigma^2 + \epsilon}` and :math:`t = \beta - s \odot \bar\mu`. Right after a
  ``Dense`` it is folded into it: :math:`y = x (s \odot W)^T + (s \odot b + t)`, one matrix product fewer;
* the layers that declare ``identity_in_eval`` (``Dropout``, ``Identity``): they vanish;
* the activation layers (:class:`~glassnet.nn.layers.ActivationLayer`), each of which declares how it lowers to
  ONNX and scikit-learn's name for it, if scikit-learn has it.

The network is read through its public description (``get_config()``, ``parameters()``, ``buffers()``,
``layers``), so a new layer that keeps those stable exports unchanged, a new activation exports as it declares,
and an unknown layer is refused. Folding is done in float64 and cast to the exported dtype afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glassnet.nn.layers import ActivationLayer

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
    """An activation layer (or the row-wise softmax), which declares its own lowering: ``layer.lower_onnx`` and
    ``layer.sklearn_name`` (see :class:`~glassnet.nn.layers.ActivationLayer`)."""

    layer: ActivationLayer

    @property
    def name(self) -> str:
        """The activation's registered name (``relu``, ``tanh``, ...)."""
        return str(self.layer.name)


Step = Affine | Scale | Activation


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
        elif network.layers[i].identity_in_eval:
            continue
        elif isinstance(network.layers[i], ActivationLayer):
            steps.append(Activation(network.layers[i]))
        else:
            raise TypeError(
                f"Cannot export layer {i} ({kind}): export knows Dense, BatchNorm, the activation layers "
                "(glassnet.nn.layers.ActivationLayer) and the layers that are the identity in evaluation mode "
                "(identity_in_eval). Replace the layer, or extend glassnet.export._lower for it."
            )
    return steps
