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
- **Bounded memory.** The declared architecture is checked against the stored arrays' headers (shape,
  dtype, size in the zip) before anything is allocated, and the arrays together may hold at most
  ``max_bytes`` (default :data:`MAX_BYTES`); the metadata at most :data:`MAX_METADATA_BYTES`. A small
  file cannot make glassnet allocate a large network.
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

import hashlib
import json
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from glassnet._files import write_atomic
from glassnet._version import __version__
from glassnet.files import schema
from glassnet.nn.network import Sequential

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ModelFileError",
    "SavedModel",
    "save_model",
    "load_model",
    "read_metadata",
    "MAX_BYTES",
    "MAX_METADATA_BYTES",
]

FORMAT = "glassnet-model"
FORMAT_VERSION = 2  # 2: the metadata itself is checksummed (version 1 files still load, fully validated)
MAX_BYTES = 1 << 30  # default bound on the arrays of one file (1 GiB)
MAX_METADATA_BYTES = 8 << 20
_MAX_MEMBERS = 100_000
_META_KEY = "__glassnet__"
ESTIMATOR_PREFIX = "estimator/"


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


def json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store a {type(value).__name__} in a model file's metadata")


def _metadata_digest(metadata: dict) -> str:
    """SHA-256 of the metadata in canonical JSON, without its own entry in ``checksums``."""
    body = dict(metadata)
    body["checksums"] = {k: v for k, v in (metadata.get("checksums") or {}).items() if k != _META_KEY}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def write_model_file(path: Path, arrays: dict[str, np.ndarray], metadata: dict) -> Path:
    metadata = dict(metadata)
    metadata["checksums"] = {name: _sha256(a) for name, a in arrays.items()}
    metadata = json.loads(json.dumps(metadata, default=json_default))  # exactly what a reader will see
    metadata["checksums"][_META_KEY] = _metadata_digest(metadata)
    text = json.dumps(metadata, sort_keys=True)
    payload = {_META_KEY: np.frombuffer(text.encode("utf-8"), dtype=np.uint8), **arrays}
    write_atomic(path, lambda f: np.savez(f, **payload))
    return path


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

_MAGIC = (
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"BM", "a BMP image"), (b"II*\x00", "a TIFF image"), (b"MM\x00*", "a TIFF image"),
    (b"RIFF", "a RIFF file (WebP, WAV, ...)"), (b"\x93NUMPY", "a single NumPy array (.npy)"),
    (b"%PDF", "a PDF document"), (b"\x1f\x8b", "a gzip file"), (b"\x80", "a Python pickle"),
)  # fmt: skip


def describe_file_start(head: bytes) -> str | None:
    """What a file's first bytes look like (``"a JPEG image"``, ``"a text file"``), or ``None``."""
    what = next((name for magic, name in _MAGIC if head.startswith(magic)), None)
    if what is None and head and all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        what = "a text file"
    return what


def _not_a_model(path: Path, head: bytes) -> ModelFileError:
    what = describe_file_start(head)
    looks = f" (it looks like {what})" if what else ""
    return ModelFileError(
        f"{path} is not a glassnet model file{looks}; expected a .npz model file written by "
        "`glassnet train` or glassnet.files.model.save_model"
    )


def _npy_header(stream, where: str) -> tuple[tuple[int, ...], np.dtype]:
    """Parse a ``.npy`` header from ``stream``: (shape, dtype); refuses object and structured arrays."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except (ValueError, OSError, EOFError, SyntaxError, TypeError, zipfile.BadZipFile, zlib.error) as exc:
        raise ModelFileError(f"{where} is truncated or corrupt (unreadable header: {exc})") from None
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise ModelFileError(f"{where} holds {dtype} data; model files hold only numbers and strings")
    return tuple(int(n) for n in shape), dtype


def _check_member(
    path: Path,
    name: str,
    info: zipfile.ZipInfo,
    shape,
    dtype,
    expected,
    file_size: int,
    budget: int,
    max_bytes: int,
) -> int:
    """Check one array's header against what the metadata declares; return its size in bytes."""
    want_shape, want = expected
    where = f"{path}: array {name!r}"
    if want_shape is None:  # an estimator's array attribute: 1-D, of the allowed kinds
        if len(shape) != 1 or dtype.kind not in want:
            raise ModelFileError(f"{where} has shape {shape} and dtype {dtype}; expected a 1-D array")
    elif shape != want_shape or dtype != want:
        raise ModelFileError(
            f"{where} is stored with shape {shape} and dtype {dtype}, but the architecture declares "
            f"{want_shape} and {want}"
        )
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if nbytes > budget:
        raise ModelFileError(
            f"{path} holds more than {max_bytes} bytes of arrays (the limit; pass max_bytes= to load larger models)"
        )
    if info.file_size < nbytes:
        raise ModelFileError(
            f"{path} is truncated or corrupt: array {name!r} is shorter than its header says"
        )
    if info.compress_type == zipfile.ZIP_STORED and info.header_offset + info.compress_size > file_size:
        raise ModelFileError(f"{path} is truncated or corrupt: array {name!r} runs past the end of the file")
    return nbytes


_ZIP_ERRORS = (
    ValueError,
    OSError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
    NotImplementedError,
    RuntimeError,
)


def _header_of(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> tuple[tuple[int, ...], np.dtype]:
    """Open one member and parse only its ``.npy`` header (a bad local header, an encrypted or oddly
    compressed member are corrupt files too)."""
    try:
        with zf.open(info) as member:
            return _npy_header(member, where)
    except ModelFileError:
        raise
    except _ZIP_ERRORS as exc:
        raise ModelFileError(f"{where} is truncated or corrupt: {exc}") from None


def _read_array(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> np.ndarray:
    try:
        with zf.open(info) as member:
            return np.lib.format.read_array(member, allow_pickle=False)
    except _ZIP_ERRORS as exc:
        raise ModelFileError(f"{where} is truncated or corrupt: {exc}") from None


def _parse_metadata(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, file_size: int) -> dict:
    shape, dtype = _header_of(zf, info, f"{path}: the metadata entry")
    if len(shape) != 1 or dtype != np.uint8:
        raise ModelFileError(f"{path} has corrupt metadata: a {dtype} array of shape {shape}, not text")
    if shape[0] > MAX_METADATA_BYTES:
        raise ModelFileError(
            f"{path} has {shape[0]} bytes of metadata, more than the {MAX_METADATA_BYTES} a model file may hold"
        )
    _check_member(path, _META_KEY, info, shape, dtype, (shape, dtype), file_size, shape[0], shape[0])
    raw = _read_array(zf, info, f"{path}: the metadata entry")
    try:
        metadata = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        text = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ModelFileError(f"{path} has corrupt metadata: {text}") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        shown = metadata.get("format") if isinstance(metadata, dict) else type(metadata).__name__
        raise ModelFileError(f"{path} is not a glassnet model file (format {shown!r})")
    return metadata


def _check_version(path: Path, metadata: dict) -> int:
    version = metadata.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"{path} has an invalid format version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was written by a newer glassnet ({str(metadata.get('glassnet_version', '?'))[:40]}, model "
            f"format version {version}); this glassnet {__version__} reads format version {FORMAT_VERSION} "
            "or older. Upgrade glassnet to load it."
        )
    return version


def read_model_file(path: Path, max_bytes: int = MAX_BYTES) -> tuple[dict, dict[str, np.ndarray]]:
    if not path.exists():
        raise FileNotFoundError(f"model file not found: {path}")
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder, not a model file")
    file_size = path.stat().st_size
    if file_size == 0:
        raise ModelFileError(f"{path} is empty (an interrupted copy?)")
    with open(path, "rb") as f:
        head = f.read(16)
        f.seek(0)
        try:
            zf = zipfile.ZipFile(f)
        except _ZIP_ERRORS as exc:
            if head.startswith(b"PK\x03\x04"):
                raise ModelFileError(f"{path} is truncated or corrupt: {exc}") from None
            raise _not_a_model(path, head) from None
        with zf:
            return _read_zip(path, zf, file_size, max_bytes)


def _zip_members(path: Path, zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The zip's entries by name: a bounded number of them, no name twice."""
    infos = zf.infolist()
    if len(infos) > _MAX_MEMBERS:
        raise ModelFileError(f"{path} is not a glassnet model file ({len(infos)} entries)")
    members = {i.filename: i for i in infos}
    if len(members) != len(infos):
        raise ModelFileError(f"{path} is corrupt: it holds two entries of the same name")
    return members


def _metadata_entry(path: Path, members: dict[str, zipfile.ZipInfo]) -> zipfile.ZipInfo:
    """The zip entry holding glassnet's metadata; a ``.npz`` without one is not a model file."""
    meta_info = members.get(_META_KEY + ".npy")
    if meta_info is None:
        raise ModelFileError(
            f"{path} is not a glassnet model file (a .npz without glassnet's {_META_KEY} metadata entry); "
            "expected a model file written by `glassnet train` or glassnet.files.model.save_model"
        )
    return meta_info


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


def _array_names(path: Path, members: dict, checksums: dict, expected: dict) -> set[str]:
    """The names of the stored arrays, once the zip, the checksums and the architecture all list the same."""
    names = {k for k in checksums if k != _META_KEY}
    stored = {m[: -len(".npy")] for m in members if m.endswith(".npy")} - {_META_KEY}
    unexpected = sorted(stored - names) + sorted(m for m in members if not m.endswith(".npy"))
    if unexpected:
        raise ModelFileError(f"{path} is corrupt: entries {unexpected[:5]} are not listed in the metadata")
    missing = sorted(names - stored)
    if missing:
        raise ModelFileError(f"{path} is truncated or corrupt: missing arrays {missing[:5]}")
    undeclared = sorted(names - set(expected))
    absent = sorted(set(expected) - names)
    if undeclared or absent:
        raise ModelFileError(
            f"{path}: weights do not match the architecture (missing {absent[:5]}, unexpected {undeclared[:5]})"
        )
    return names


def _check_headers(path: Path, zf: zipfile.ZipFile, members: dict, names: set[str], expected: dict,
                   file_size: int, max_bytes: int) -> None:  # fmt: skip
    """Every array's header must match the architecture and all fit in ``max_bytes``; nothing is read or
    allocated before all agree."""
    total = 0
    for name in sorted(names):
        info = members[name + ".npy"]
        shape, dtype = _header_of(zf, info, f"{path}: array {name!r}")
        total += _check_member(
            path, name, info, shape, dtype, expected[name], file_size, max_bytes - total, max_bytes
        )


def _read_arrays(path: Path, zf: zipfile.ZipFile, members: dict, names: set[str],
                 checksums: dict) -> dict[str, np.ndarray]:  # fmt: skip
    """The named arrays, each checked against its SHA-256."""
    arrays = {}
    for name in sorted(names):
        array = _read_array(zf, members[name + ".npy"], f"{path}: array {name!r}")
        if _sha256(array) != checksums[name]:
            raise ModelFileError(f"{path} is corrupt: the checksum of array {name!r} does not match")
        arrays[name] = array
    return arrays


def _read_zip(path: Path, zf: zipfile.ZipFile, file_size: int, max_bytes: int):
    """The checked metadata and arrays of an open model file: every check passes before any array is read."""
    members = _zip_members(path, zf)
    metadata = _parse_metadata(path, zf, _metadata_entry(path, members), file_size)
    version = _check_version(path, metadata)
    checksums = _checked_checksums(path, metadata, version)
    expected = _expected_arrays(path, metadata)
    names = _array_names(path, members, checksums, expected)
    _check_headers(path, zf, members, names, expected, file_size, max_bytes)
    return metadata, _read_arrays(path, zf, members, names, checksums)


def read_metadata(path: str | os.PathLike, *, max_bytes: int = MAX_BYTES) -> dict:
    """Read and check a model file, returning only its metadata."""
    metadata, _ = read_model_file(Path(path), max_bytes)
    return metadata


def build_network(path: Path, metadata: dict, weights: dict[str, np.ndarray]):
    """Build the (validated) architecture and load the (checked) weights into it."""
    try:
        network = Sequential.from_config(metadata["architecture"])
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
    path = Path(path)
    metadata, arrays = read_model_file(path, max_bytes)
    weights = {k: v for k, v in arrays.items() if not k.startswith(ESTIMATOR_PREFIX)}
    return SavedModel(build_network(path, metadata, weights), metadata)
