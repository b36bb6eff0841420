"""Floor 1, the textbook: a neural network in NumPy, one concept a module. Read it in this order:

=====================  ====================================================================================
:mod:`.functional`     stable sigmoid, softmax, log-softmax, activations and their derivatives
:mod:`.initializers`   Glorot, He and scikit-learn's initial weights; explicit random generators
:mod:`.layers`         ``Dense``, the activation layers, ``Dropout``, ``BatchNorm``: forward and backward side by side
:mod:`.losses`         one module per loss, all from logits, with sample weights
:mod:`.network`        ``Sequential`` on one flat parameter vector, and ``build_mlp``
:mod:`.optim`          ``SGD`` (momentum, Nesterov), ``Adam``, ``AdamW``
:mod:`.schedules`      learning-rate schedules
:mod:`.gradcheck`      central differences in float64 against every backward pass
:mod:`.trace`          one training step, every intermediate array named
:mod:`.registries`     the activations, losses, optimizers and schedules by name, and the menus built from them
=====================  ====================================================================================

Everything here needs only NumPy (and the compiled kernels of :mod:`glassnet.fast`, when installed).

A new activation, loss, optimizer or schedule is one class that registers itself with
:func:`register_activation`, :func:`register_loss`, :func:`register_optimizer` or :func:`register_schedule`;
the estimators, ``glassnet train``, the playground and export then offer it (see :mod:`.registries`).
"""

from glassnet.nn.layers import register_activation
from glassnet.nn.losses import register_loss
from glassnet.nn.optim import register_optimizer
from glassnet.nn.registries import registry_menus
from glassnet.nn.schedules import register_schedule

__all__ = [
    "register_activation",
    "register_loss",
    "register_optimizer",
    "register_schedule",
    "registry_menus",
]
