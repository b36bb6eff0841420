"""Layers: each one's forward and backward side by side."""

from glassnet.nn.layers.activations import (
    ACTIVATION_LAYERS,
    GELU,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    make_activation,
)
from glassnet.nn.layers.base import Layer
from glassnet.nn.layers.batchnorm import BatchNorm
from glassnet.nn.layers.dense import Dense
from glassnet.nn.layers.dropout import Dropout

#: layer type name -> class, used to rebuild a network from its configuration
LAYERS: dict[str, type[Layer]] = {
    cls.__name__: cls
    for cls in (Dense, BatchNorm, Dropout, Identity, Sigmoid, Tanh, ReLU, LeakyReLU, GELU, Softmax)
}


def register_layer(cls: type[Layer]) -> type[Layer]:
    """Class decorator that makes a new layer type known to ``Sequential.from_config``."""
    LAYERS[cls.__name__] = cls
    return cls


__all__ = [
    "ACTIVATION_LAYERS",
    "BatchNorm",
    "GELU",
    "LAYERS",
    "Dense",
    "Dropout",
    "Identity",
    "Layer",
    "LeakyReLU",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "make_activation",
    "register_layer",
]
