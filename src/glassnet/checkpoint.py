"""Moved: checkpoints live in :mod:`glassnet.files.checkpoint`, ``resume_estimator`` in
:mod:`glassnet.estimators.persistence`; this name keeps old imports working."""

from glassnet.files.checkpoint import (
    FORMAT,
    FORMAT_VERSION,
    MAX_BYTES,
    Checkpoint,
    CheckpointError,
    ModelCheckpoint,
    checkpoint_name,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    resume,
    save_checkpoint,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_BYTES",
    "Checkpoint",
    "CheckpointError",
    "ModelCheckpoint",
    "checkpoint_name",
    "latest_checkpoint",
    "list_checkpoints",
    "load_checkpoint",
    "resume",
    "resume_estimator",  # noqa: F822 (lazy: needs scikit-learn)
    "save_checkpoint",
]


def __getattr__(name: str):
    # resume_estimator needs scikit-learn: imported when asked for, so this module works without it
    if name == "resume_estimator":
        from glassnet.estimators.persistence import resume_estimator

        return resume_estimator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
