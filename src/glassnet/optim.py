"""Moved: the code lives in :mod:`glassnet.nn.optim`; this name keeps old imports working."""

from glassnet._moved import alias

alias(__name__, "glassnet.nn.optim")
