"""Moved: the code lives in :mod:`glassnet.training.data`; this name keeps old imports working."""

from glassnet._moved import alias

alias(__name__, "glassnet.training.data")
