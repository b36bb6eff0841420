"""Moved: the code lives in :mod:`glassnet.nn.losses`; this name keeps old imports working."""

from glassnet._moved import alias

alias(
    __name__,
    "glassnet.nn.losses",
    (
        "absolute_error",
        "base",
        "binary_cross_entropy",
        "huber",
        "pinball",
        "poisson",
        "softmax_cross_entropy",
        "squared_error",
    ),
)
