"""Model files: the weights and a JSON description in one ``.npz``, read without pickle.

Layout of a glassnet model file (a NumPy ``.npz``, i.e. a zip of ``.npy`` arrays)::

    __glassnet__        uint8 array: UTF-8 JSON metadata (format, versions, architecture, preprocessing, ...)
    layers.0.W          float32 array, the first Dense layer's weights, named as in ``net.parameters()``
    layers.0.b          ...
    estimator/classes_  (estimator files only) array-valued fitted attributes

Why this is safe: :func:`numpy.load` is called with ``allow_pickle=False``, so no array can carry code;
the architecture is rebuilt by :meth:`glassnet.network.Sequential.from_config`, which only instantiates
known layer and loss types by name. Why it is exact: every array is stored with its dtype and bytes, and
the metadata holds a SHA-256 of each one, checked on load, so a corrupt file is reported, never loaded.
Why it is atomic: the file is written to a temporary file in the destination folder, flushed to disk and
renamed over the destination (``os.replace``), so a crash leaves the old file or the new one, never half.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from glassnet._version import __version__

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ModelFileError",
    "SavedModel",
    "save_model",
    "load_model",
    "save_estimator",
    "load_estimator",
    "read_metadata",
]

FORMAT = "glassnet-model"
FORMAT_VERSION = 1
_META_KEY = "__glassnet__"
_EST_PREFIX = "estimator/"
# estimator classes a file may name; anything else is refused (a file never chooses arbitrary code)
_ESTIMATORS = ("MLPClassifier", "MLPRegressor")


class ModelFileError(ValueError):
    """A model file is truncated, corrupt, not a glassnet model, or written by a newer glassnet."""


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
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store a {type(value).__name__} in a model file's metadata")


def _write_atomic(path: Path, arrays: dict[str, np.ndarray], metadata: dict) -> Path:
    metadata = dict(metadata)
    metadata["checksums"] = {name: _sha256(a) for name, a in arrays.items()}
    text = json.dumps(metadata, default=_json_default, sort_keys=True)
    payload = {_META_KEY: np.frombuffer(text.encode("utf-8"), dtype=np.uint8), **arrays}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
    return path


def _base_metadata(kind: str, network) -> dict:
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
        Destination, conventionally ending in ``.npz`` (written exactly there, no suffix is added).
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
    metadata = _base_metadata("network", network)
    metadata.update(
        preprocessing=preprocessing or {},
        classes=list(classes) if classes is not None else [],
        class_names=list(class_names) if class_names is not None else None,
        info=info or {},
    )
    return _write_atomic(Path(path), arrays, metadata)


# --- reading -----------------------------------------------------------------------------------------------


def _read(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    if not path.exists():
        raise FileNotFoundError(f"model file not found: {path}")
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder, not a model file")
    try:
        # open the file ourselves: np.load leaks its handle when the zip directory is unreadable
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as npz:
            names = list(npz.files)
            if _META_KEY not in names:
                raise ModelFileError(f"{path} is not a glassnet model file (no {_META_KEY} metadata entry)")
            arrays = {name: npz[name] for name in names}
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as exc:
        if path.stat().st_size == 0:
            raise ModelFileError(f"{path} is empty (an interrupted copy?)") from None
        raise ModelFileError(f"{path} is truncated or corrupt: {exc}") from None
    raw = arrays.pop(_META_KEY)
    try:
        metadata = json.loads(raw.astype(np.uint8).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path} has corrupt metadata: {exc}") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a glassnet model file (format {metadata.get('format')!r})")
    version = metadata.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{path} has an invalid format version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was written by a newer glassnet ({metadata.get('glassnet_version', '?')}, model format "
            f"version {version}); this glassnet {__version__} reads format version {FORMAT_VERSION} or "
            "older. Upgrade glassnet to load it."
        )
    checksums = metadata.get("checksums") or {}
    for name, array in arrays.items():
        expected = checksums.get(name)
        if expected is None:
            raise ModelFileError(f"{path} is corrupt: array {name!r} is not listed in the metadata")
        if _sha256(array) != expected:
            raise ModelFileError(f"{path} is corrupt: the checksum of array {name!r} does not match")
    missing = sorted(set(checksums) - set(arrays))
    if missing:
        raise ModelFileError(f"{path} is truncated or corrupt: missing arrays {missing}")
    return metadata, arrays


def read_metadata(path: str | os.PathLike) -> dict:
    """Read and check a model file, returning only its metadata."""
    metadata, _ = _read(Path(path))
    return metadata


def _build_network(path: Path, metadata: dict, weights: dict[str, np.ndarray]):
    from glassnet.network import Sequential

    try:
        network = Sequential.from_config(metadata["architecture"])
    except (KeyError, ValueError, TypeError) as exc:
        raise ModelFileError(f"{path} has an invalid architecture description: {exc}") from None
    expected = {**network.parameters(), **network.buffers()}  # buffers: batch norm's running statistics
    missing = sorted(set(expected) - set(weights))
    extra = sorted(set(weights) - set(expected))
    if missing or extra:
        raise ModelFileError(
            f"{path}: weights do not match the architecture (missing {missing}, unexpected {extra})"
        )
    for name, array in weights.items():
        if array.shape != expected[name].shape or array.dtype != expected[name].dtype:
            raise ModelFileError(
                f"{path}: weight {name!r} has shape {array.shape} and dtype {array.dtype}, the architecture "
                f"needs {expected[name].shape} and {expected[name].dtype}"
            )
    network.load_state_dict(weights)
    network.eval()
    return network


def load_model(path: str | os.PathLike) -> SavedModel:
    """Load a model file written by :func:`save_model` (or the network of one written by
    :func:`save_estimator`).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ModelFileError
        If the file is truncated, corrupt, not a glassnet model or of a newer format; the message says which.
    """
    path = Path(path)
    metadata, arrays = _read(path)
    weights = {k: v for k, v in arrays.items() if not k.startswith(_EST_PREFIX)}
    return SavedModel(_build_network(path, metadata, weights), metadata)


# --- estimators --------------------------------------------------------------------------------------------


def _split_fitted(estimator) -> tuple[dict, dict, list[str]]:
    """Fitted attributes (``name_``) as JSON values or arrays; returns (json_attrs, array_attrs, skipped)."""
    json_attrs, array_attrs, skipped = {}, {}, []
    for name, value in vars(estimator).items():
        if not name.endswith("_") or name.startswith("_") or name == "network_":
            continue
        if isinstance(value, np.ndarray):
            if value.dtype == object and all(isinstance(v, str) for v in value.ravel()):
                array_attrs[name + "object_str"] = value.astype(str)  # restored as dtype object
            elif value.dtype != object:
                array_attrs[name] = value
            else:
                skipped.append(name)
            continue
        try:
            json.dumps(value, default=_json_default)
        except (TypeError, ValueError):
            skipped.append(name)
            continue
        json_attrs[name] = value
    return json_attrs, array_attrs, skipped


def save_estimator(path: str | os.PathLike, estimator, *, preprocessing: dict | None = None,
                   info: dict | None = None) -> Path:  # fmt: skip
    """Save a fitted :class:`glassnet.MLPClassifier` or :class:`glassnet.MLPRegressor`, atomically.

    The file holds the estimator's network (so :func:`load_model` can use it as a plain network too), its
    hyper-parameters (``get_params()``, JSON values only) and its fitted attributes (``classes_``,
    ``loss_curve_``, ``n_iter_``, ...).
    """
    name = type(estimator).__name__
    if name not in _ESTIMATORS or not hasattr(estimator, "network_"):
        raise TypeError(f"save_estimator takes a fitted glassnet MLPClassifier or MLPRegressor, got {name}")
    network = estimator.network_
    params, skipped_params = {}, []
    for key, value in estimator.get_params(deep=False).items():
        try:
            json.dumps(value, default=_json_default)
        except (TypeError, ValueError):
            skipped_params.append(key)
            continue
        params[key] = value
    json_attrs, array_attrs, skipped = _split_fitted(estimator)
    arrays = {k: np.array(v) for k, v in network.state_dict().items()}
    arrays.update({_EST_PREFIX + k: v for k, v in array_attrs.items()})
    classes = getattr(estimator, "classes_", None)
    metadata = _base_metadata("estimator", network)
    metadata.update(
        estimator={
            "class": name,
            "params": params,
            # JSON has no tuples; remember which values were tuples (hidden_layer_sizes=(256, 128))
            "tuples": sorted(k for k, v in {**params, **json_attrs}.items() if isinstance(v, tuple)),
            "fitted": json_attrs,
            "skipped_params": skipped_params,
            "skipped_attributes": skipped,
        },
        preprocessing=preprocessing or {},
        classes=np.asarray(classes).tolist() if classes is not None else [],
        class_names=[str(c) for c in classes] if classes is not None else None,
        info=info or {},
    )
    return _write_atomic(Path(path), arrays, metadata)


def load_estimator(path: str | os.PathLike):
    """Load an estimator written by :func:`save_estimator`; its predictions equal the saved one's exactly.

    Raises
    ------
    ModelFileError
        As :func:`load_model`, and if the file holds a plain network rather than an estimator.
    """
    import glassnet.estimators as estimators

    path = Path(path)
    metadata, arrays = _read(path)
    spec = metadata.get("estimator")
    if metadata.get("kind") != "estimator" or not isinstance(spec, dict):
        raise ModelFileError(f"{path} holds a plain network, not an estimator; load it with load_model")
    cls_name = spec.get("class")
    if cls_name not in _ESTIMATORS:
        raise ModelFileError(f"{path} names an unknown estimator class {cls_name!r}")
    tuples = set(spec.get("tuples", []))

    def restore(key, value):
        return tuple(value) if key in tuples and isinstance(value, list) else value

    params = {k: restore(k, v) for k, v in spec.get("params", {}).items()}
    estimator = getattr(estimators, cls_name)(**params)
    weights = {k: v for k, v in arrays.items() if not k.startswith(_EST_PREFIX)}
    for key, value in spec.get("fitted", {}).items():
        setattr(estimator, key, restore(key, value))
    for key, value in arrays.items():
        if not key.startswith(_EST_PREFIX):
            continue
        attr = key[len(_EST_PREFIX) :]
        if attr.endswith("_object_str"):
            attr, value = attr[: -len("object_str")], value.astype(object)
        setattr(estimator, attr, value)
    estimator.network_ = _build_network(path, metadata, weights)
    return estimator
