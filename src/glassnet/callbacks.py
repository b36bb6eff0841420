"""Moved: the callbacks live in :mod:`glassnet.training.callbacks`, ``ModelCheckpoint`` in
:mod:`glassnet.files.checkpoint`; this name keeps old imports working."""

from glassnet.files.checkpoint import ModelCheckpoint
from glassnet.training.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    EpochScoring,
    GradientClipping,
    History,
    OptunaPruning,
    ReduceLROnPlateau,
)

__all__ = [
    "CSVLogger",
    "Callback",
    "EarlyStopping",
    "EpochScoring",
    "GradientClipping",
    "History",
    "ModelCheckpoint",
    "OptunaPruning",
    "ReduceLROnPlateau",
]
