"""Moved: the code lives in :mod:`glassnet.nn.gradcheck`; this name keeps old imports working."""

from glassnet._moved import alias

alias(__name__, "glassnet.nn.gradcheck")
