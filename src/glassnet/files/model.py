"""Model files: the weights and a JSON description in one ``.npz``, read without pickle.

Layout of a glassnet model file (a NumPy ``.npz``, i.e. a zip of ``.npy`` arrays)::

    __glassnet__        uint8 array: UTF-8 JSON metadata (format, versions, architecture, preprocessing, ...)
    layers.0.W          float32 array, the first Dense layer's weights, named as in ``net.parameters()``
    layers.0.b          ...
    estimator/classes_  (estimator files only) array-valued fitted attributes

What loading a file can do, and what it cannot:

- **No code.** Only the members the format names are opened, each ``.npy`` header is parsed and checked
  before any data is read, and no array may hold objects (nothing is unpickled). Layer and loss types are
  looked up by name among the registered ones, estimator classes among two, and only the estimator's
  declared fitted attributes (:data:`glassnet.files.schema.FITTED_JSON` and ``FITTED_ARRAYS``) can be
  restored: ``{"predict": 1}`` is refused.
- **Bounded memory.** The file is read through :mod:`glassnet.files.container` (the one container of
  model files and checkpoints, with its limits): the declared architecture is checked against the stored
  arrays' headers (shape, dtype, exact size in the zip) before anything is allocated, the arrays together
  may hold at most ``max_bytes`` (default :data:`MAX_BYTES`), the metadata at most
  :data:`MAX_METADATA_BYTES` and a bounded number of JSON values. :func:`load_model` builds the network
  and reads each array once, straight into the network's parameters: loading costs the network itself
  plus a few MB.
- **Every field validated.** All of the metadata (architecture, preprocessing, classes, estimator
  parameters and fitted attributes) is covered by a SHA-256 stored in the file and checked for type and
  bounds (:mod:`glassnet.files.schema`); estimator parameters also pass the estimator's own validation.
  Whatever is wrong, truncated or crafted ends in :class:`ModelFileError` naming the problem.

Why it is exact: every array is stored with its dtype and bytes and checked against its SHA-256 on load.
Why saving is safe: :func:`glassnet._files.write_atomic` writes a temporary file in the destination
folder, syncs it and renames it over the destination, so a crash leaves the old file or the new one; it
never replaces anything but a regular file, writes through a symbolic link to its target, keeps an
existing file's mode and gives a new file the umask's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from glassnet._version import __version__
from glassnet.files import container, schema
from glassnet.files.container import MAX_METADATA_BYTES, ContainerError, describe_file_start
from glassnet.nn.network import Sequential

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ModelFileError",
    "SavedModel",
    "describe_file_start",
    "save_model",
    "load_model",
    "read_metadata",
    "MAX_BYTES",
    "MAX_METADATA_BYTES",
]

FORMAT = "glassnet-model"
FORMAT_VERSION = 2  # 2: the metadata itself is checksummed (version 1 files still load, fully validated)
MAX_BYTES = 1 << 30  # default bound on the arrays of one file (1 GiB)
_META_KEY = "__glassnet__"
_DIGEST_AT = ("checksums", _META_KEY)  # where a file of version 2 keeps its metadata's own SHA-256
ESTIMATOR_PREFIX = "estimator/"


class ModelFileError(ContainerError):
    """A model file is truncated, corrupt, not a glassnet model, or written by a newer glassnet."""


LAYOUT = container.Layout(
    format=FORMAT,
    version=FORMAT_VERSION,
    meta_key=_META_KEY,
    what="glassnet model file",
    error=ModelFileError,
    digest_at=_DIGEST_AT,
    digest_since=2,
    hint="expected a .npz model file written by `glassnet train` or glassnet.files.model.save_model",
    others={"__glassnet_checkpoint__": " (it is a training checkpoint: resume from it with "
            "glassnet.files.checkpoint.resume, or glassnet train --resume)"},
)  # fmt: skip


@dataclass
class SavedModel:
    """A network loaded from a model file, with what is needed to use it.

    Attributes
    ----------
    network : Sequential
        The network, in evaluation mode.
    metadata : dict
        Everything stored: ``format``, ``format_version``, ``glassnet_version``, ``architecture``,
        ``preprocessing``, ``classes``, ``class_names``, ``info``.
    """

    network: Any
    metadata: dict = field(default_factory=dict)

    @property
    def preprocessing(self) -> dict:
        """How inputs were prepared (``scale``, ``image_shape``, ``light_on_dark``, ``dataset``, ...)."""
        return self.metadata.get("preprocessing") or {}

    @property
    def classes(self) -> list:
        """The class labels, index k for output k (``[]`` for regression)."""
        return list(self.metadata.get("classes") or [])

    @property
    def class_names(self) -> list[str]:
        """Display names of the classes."""
        names = self.metadata.get("class_names")
        return list(names) if names else [str(c) for c in self.classes]

    @property
    def info(self) -> dict:
        """Free-form training information (data set, recipe, accuracy, epochs, ...)."""
        return self.metadata.get("info") or {}


# --- writing -----------------------------------------------------------------------------------------------


def _sha256(array: np.ndarray) -> str:
    return container.sha256(array)


def json_default(value):
    return container._json_default(value)


def _metadata_digest(metadata: dict) -> str:
    """SHA-256 of the metadata in canonical JSON, without its own entry in ``checksums``."""
    return container.metadata_digest(metadata, _DIGEST_AT)


def write_model_file(path, arrays: dict[str, np.ndarray], metadata: dict) -> Path | None:
    """Write a model file: ``arrays`` by name, their checksums and the metadata (:mod:`.container`);
    ``path`` may be a binary file object."""
    metadata = dict(metadata)
    metadata["checksums"] = {name: _sha256(a) for name, a in arrays.items()}
    return container.write_container(path, LAYOUT, arrays, metadata)


def base_metadata(kind: str, network) -> dict:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "glassnet_version": __version__,
        "architecture": network.get_config(),
    }


def save_model(
    path: str | os.PathLike,
    network,
    *,
    preprocessing: dict | None = None,
    classes: list | None = None,
    class_names: list[str] | None = None,
    info: dict | None = None,
) -> Path:
    """Save a network with its preprocessing and classes to one ``.npz`` file, atomically.

    Parameters
    ----------
    path : str or path-like
        Destination, conventionally ending in ``.npz`` (written exactly there, no suffix is added). If it
        is a symbolic link, the file it points to is replaced; a folder, device or FIFO is refused
        (:class:`glassnet._files.NotARegularFileError`). An existing file keeps its permissions; a new one
        gets the umask's.
    network : Sequential
        The trained network; its parameters are saved by dotted name (``layers.0.W``) with their dtype.
    preprocessing : dict, optional
        How inputs are prepared, e.g. :attr:`glassnet.data.Dataset.preprocessing`.
    classes, class_names : list, optional
        Labels (JSON values) and display names, index k for output k.
    info : dict, optional
        JSON-able training information shown by ``glassnet evaluate``.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    arrays = {name: np.array(value) for name, value in network.state_dict().items()}
    metadata = base_metadata("network", network)
    metadata.update(
        preprocessing=preprocessing or {},
        classes=list(classes) if classes is not None else [],
        class_names=list(class_names) if class_names is not None else None,
        info=info or {},
    )
    return write_model_file(Path(path), arrays, metadata)


# --- reading -----------------------------------------------------------------------------------------------


def _check_version(path: Path, metadata: dict) -> int:
    """The metadata's format version, if this glassnet reads it (for readers of other containers)."""
    version = metadata.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"{path} has an invalid format version {str(version)[:40]!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was written by a newer glassnet ({str(metadata.get('glassnet_version', '?'))[:40]}, model "
            f"format version {version}); this glassnet {__version__} reads format version {FORMAT_VERSION} "
            "or older. Upgrade glassnet to load it."
        )
    return version


def _checked_checksums(path: Path, metadata: dict, version: int) -> dict:
    """The metadata's ``checksums`` object; from format version 2 on, the metadata's own must match."""
    checksums = metadata.get("checksums")
    if not isinstance(checksums, dict):
        raise ModelFileError(f"{path} has corrupt metadata: checksums must be a JSON object")
    if version >= 2:
        try:
            digest = _metadata_digest(metadata)
        except (TypeError, ValueError, RecursionError):
            digest = None
        if checksums.get(_META_KEY) != digest:
            raise ModelFileError(f"{path} is corrupt: the checksum of its metadata does not match")
    return checksums


def _expected_arrays(path: Path, metadata: dict) -> dict:
    """The arrays (name: shape and dtype) the validated metadata declares (:mod:`glassnet.files.schema`)."""
    try:
        return schema.validate_metadata(metadata, FORMAT, FORMAT_VERSION)
    except schema.SchemaError as exc:
        raise ModelFileError(f"{path} has invalid metadata: {exc}") from None
    except RecursionError:
        raise ModelFileError(f"{path} has invalid metadata: nested too deeply") from None


def _declare(metadata: dict, version: int) -> dict[str, container.Declared]:
    """The arrays a model file must hold: those of the validated architecture (and an estimator's fitted
    arrays), each listed in ``checksums``."""
    checksums = metadata.get("checksums")
    if not isinstance(checksums, dict):
        raise schema.SchemaError("checksums must be a JSON object")
    expected = schema.validate_metadata(metadata, FORMAT, FORMAT_VERSION)
    names = set(checksums) - {_META_KEY}
    undeclared, absent = sorted(names - set(expected)), sorted(set(expected) - names)
    if undeclared or absent:
        raise schema.SchemaError(
            f"the weights do not match the architecture (missing {absent[:5]}, unexpected {undeclared[:5]})"
        )
    return {
        name: container.Declared(shape, dtype, checksums[name]) for name, (shape, dtype) in expected.items()
    }


def open_model_file(path: str | os.PathLike, max_bytes: int = MAX_BYTES, fileobj=None) -> container.Container:
    """Open and check a model file (:func:`glassnet.files.container.open_container`); nothing is read yet."""
    return container.open_container(Path(path), LAYOUT, _declare, max_bytes=max_bytes, fileobj=fileobj)


def read_network(box: container.Container):
    """Build a checked model file's architecture (weights zero) and read its weights straight into it."""
    network = build_network(box.path, box.metadata, {})
    own = {**network.parameters(), **network.buffers()}
    stored = {name for name in box.names if not name.startswith(ESTIMATOR_PREFIX)}
    if set(own) != stored:  # the schema derives the arrays from the architecture: a mismatch is a bug
        raise ModelFileError(
            f"{box.path}: weights do not match the architecture ({sorted(set(own) ^ stored)[:5]})"
        )
    for name, view in own.items():
        box.read_into(name, view)
    return network


def read_model_file(path: Path, max_bytes: int = MAX_BYTES) -> tuple[dict, dict[str, np.ndarray]]:
    """The checked metadata and every array of a model file."""
    with open_model_file(path, max_bytes) as box:
        return box.metadata, {name: box.read(name) for name in box.names}


def read_metadata(path: str | os.PathLike, *, max_bytes: int = MAX_BYTES) -> dict:
    """Read and check a model file (its arrays' checksums included), returning only its metadata."""
    with open_model_file(path, max_bytes) as box:
        for name in box.names:
            box.read(name)
        return box.metadata


def build_network(path: Path, metadata: dict, weights: dict[str, np.ndarray]):
    """Build the (validated) architecture and load the (checked) ``weights`` into it (none: zeros)."""
    try:
        network = Sequential.from_config(metadata["architecture"])
        if weights:
            network.load_state_dict(weights)
    except (KeyError, ValueError, TypeError) as exc:
        raise ModelFileError(f"{path} has an invalid architecture description: {exc}") from None
    network.eval()
    return network


def load_model(path: str | os.PathLike, *, max_bytes: int = MAX_BYTES) -> SavedModel:
    """Load a model file written by :func:`save_model` (or the network of one written by
    :func:`save_estimator`).

    Parameters
    ----------
    path : str or path-like
        The model file.
    max_bytes : int
        The most bytes its arrays may hold together (default 1 GiB); checked before anything is read.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ModelFileError
        If the file is truncated, corrupt, not a glassnet model, of a newer format or has a metadata
        field of the wrong type or out of bounds; the message says which.
    """
    with open_model_file(path, max_bytes) as box:
        return SavedModel(read_network(box), box.metadata)
