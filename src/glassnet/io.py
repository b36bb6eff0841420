"""Model files in one place: networks (:mod:`glassnet.files.model`), safetensors
(:mod:`glassnet.files.safetensors`) and estimators (:mod:`glassnet.estimators.persistence`)."""

from glassnet.files.model import (
    FORMAT,
    FORMAT_VERSION,
    MAX_BYTES,
    MAX_METADATA_BYTES,
    ModelFileError,
    SavedModel,
    describe_file_start,
    load_model,
    read_metadata,
    save_model,
)
from glassnet.files.safetensors import load_safetensors, save_safetensors

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_BYTES",
    "MAX_METADATA_BYTES",
    "ModelFileError",
    "SavedModel",
    "describe_file_start",
    "load_estimator",  # noqa: F822 (lazy: needs scikit-learn)
    "load_model",
    "load_safetensors",
    "read_metadata",
    "save_estimator",  # noqa: F822 (lazy: needs scikit-learn)
    "save_model",
    "save_safetensors",
]

_LAZY = {  # these need scikit-learn: imported when asked for, so this module works without it
    "save_estimator": "glassnet.estimators.persistence",
    "load_estimator": "glassnet.estimators.persistence",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
