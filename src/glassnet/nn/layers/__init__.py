"""Layers: each one's forward and backward side by side.

Every layer class is known by its class name in :data:`LAYERS` (``Sequential.from_config`` and model files read
it; :func:`register_layer` adds one), and every activation by its name in :data:`ACTIVATION_LAYERS`
(:func:`register_activation` adds one; see :mod:`glassnet.nn.layers.activations`).
"""

from glassnet.nn.layers.activations import (
    ACTIVATION_LAYERS,
    GELU,
    ActivationLayer,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    default_init,
    hidden_activations,
    make_activation,
    register_activation,
    unregister_activation,
)
from glassnet.nn.layers.base import LAYERS, Layer, register_layer
from glassnet.nn.layers.batchnorm import BatchNorm
from glassnet.nn.layers.dense import Dense
from glassnet.nn.layers.dropout import Dropout

for _cls in (Dense, BatchNorm, Dropout):
    register_layer(_cls)  # the activations registered themselves
del _cls

__all__ = [
    "ACTIVATION_LAYERS",
    "ActivationLayer",
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
    "default_init",
    "hidden_activations",
    "make_activation",
    "register_activation",
    "register_layer",
    "unregister_activation",
]
