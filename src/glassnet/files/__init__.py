"""Floor 3, files on disk: model files and training checkpoints, read without pickle.

==================  ==========================================================================================
:mod:`.container`   the one file container of both: named arrays and checksummed JSON metadata in a
                    pickle-free ``.npz``, written atomically and read with one set of limits
:mod:`.model`       model files: a network's weights and description (:func:`save_model`, :func:`load_model`)
:mod:`.checkpoint`  training checkpoints that resume a run exactly, and :class:`ModelCheckpoint` that writes them
:mod:`.schema`      the validation of every metadata field a file may hold
==================  ==========================================================================================

Estimator files (:func:`glassnet.io.save_estimator`) are model files with an estimator section, written and
read by :mod:`glassnet.estimators.persistence`, one floor up.
"""

from glassnet.files.checkpoint import (
    Checkpoint,
    CheckpointError,
    ModelCheckpoint,
    load_checkpoint,
    resume,
    save_checkpoint,
)
from glassnet.files.model import ModelFileError, SavedModel, load_model, read_metadata, save_model

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "ModelCheckpoint",
    "ModelFileError",
    "SavedModel",
    "load_checkpoint",
    "load_model",
    "read_metadata",
    "resume",
    "save_checkpoint",
    "save_model",
]
