"""Moved: the code lives in :mod:`glassnet.nn.layers`; this name keeps old imports working."""

from glassnet._moved import alias

alias(__name__, "glassnet.nn.layers", ("activations", "base", "batchnorm", "dense", "dropout"))
