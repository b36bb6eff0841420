"""safetensors files: a network's weights by dotted name, its architecture and preprocessing in the metadata.

The safetensors format (Hugging Face's, read by PyTorch, JAX, MLX, ...) is three parts::

    8 bytes        N, the header's length: an unsigned 64-bit little-endian integer
    N bytes        the header: a UTF-8 JSON object (padded with spaces), one entry per tensor
                       "layers.0.W": {"dtype": "F32", "shape": [16, 4], "data_offsets": [0, 256]}
                   and "__metadata__", an object of strings only
    the rest       the data: each tensor's bytes (little-endian, C order) at [begin, end) of this part

glassnet writes one ``__metadata__`` entry, ``"glassnet"``: the same JSON a glassnet model file holds
(:mod:`glassnet.files.model`: format, versions, architecture, preprocessing, classes, info, and a SHA-256 of
every tensor and of the metadata itself). Other tools see plain tensors named ``layers.0.W``, ``layers.0.b``,
... with the Dense layers' weights in the ``(out_features, in_features)`` layout of ``torch.nn.Linear``.

Loading runs the model files' checks, and the format's own, before anything is allocated:

- the header's length must fit in the file and in :data:`MAX_HEADER_BYTES`; the header must be a JSON object
  whose tensors have known dtypes, non-negative shapes, and offsets that tile the data exactly (no gaps, no
  overlaps, nothing past the end), each as long as its shape and dtype say;
- the metadata is validated by :func:`glassnet.files.schema.validate_metadata` (every field's type and bounds;
  layer and loss types looked up among the registered ones) and its checksum must match;
- the tensors must be exactly those the architecture declares, of its shapes and dtypes, together at most
  ``max_bytes``; only then is each read into a fresh array and checked against its SHA-256.

Whatever is wrong (truncated, a wrong header length, bad JSON, offsets out of range, a dtype or shape that
does not match, huge declared sizes) ends in :class:`~glassnet.files.model.ModelFileError` naming the problem.
glassnet reads and writes the format itself (it needs only NumPy); the ``safetensors`` package
(``pip install 'glassnet[safetensors]'``) reads glassnet's files too, and the test suite checks both ways.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np

from glassnet._files import write_atomic
from glassnet.files import model as _model
from glassnet.files import schema
from glassnet.files.model import (
    FORMAT,
    FORMAT_VERSION,
    MAX_BYTES,
    MAX_METADATA_BYTES,
    ModelFileError,
    SavedModel,
)

__all__ = ["MAX_HEADER_BYTES", "load_safetensors", "save_safetensors"]

MAX_HEADER_BYTES = 2 * MAX_METADATA_BYTES  # the glassnet metadata and a table of up to ~100,000 tensors
_MAX_TENSORS = 100_000
_MAX_DIMS = 32
_KEY = "glassnet"  # the __metadata__ entry holding glassnet's JSON
# safetensors dtype codes -> NumPy dtypes (little-endian); BF16 and the 8-bit floats have no NumPy type
_DTYPES = {
    "BOOL": np.dtype("?"), "U8": np.dtype("u1"), "I8": np.dtype("i1"), "U16": np.dtype("<u2"),
    "I16": np.dtype("<i2"), "U32": np.dtype("<u4"), "I32": np.dtype("<i4"), "U64": np.dtype("<u8"),
    "I64": np.dtype("<i8"), "F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8"),
}  # fmt: skip
_CODES = {(dtype.kind, dtype.itemsize): code for code, dtype in _DTYPES.items()}


# --- writing -----------------------------------------------------------------------------------------------


def _network_of(model) -> tuple[object, dict]:
    """The network to save and the metadata defaults its owner brings (a SavedModel's, an estimator's classes)."""
    from glassnet.nn.network import Sequential

    if isinstance(model, Sequential):
        return model, {}
    if isinstance(model, SavedModel):
        meta = model.metadata
        return model.network, {"preprocessing": model.preprocessing, "classes": model.classes,
                               "class_names": meta.get("class_names"), "info": model.info}  # fmt: skip
    network = getattr(model, "network_", None)
    if isinstance(network, Sequential):  # a fitted glassnet estimator
        classes = getattr(model, "classes_", None)
        classes = np.asarray(classes).tolist() if classes is not None else None
        names = [str(c) for c in classes] if classes is not None else None
        return network, {"classes": classes, "class_names": names}
    raise TypeError(
        "save_safetensors takes a glassnet Sequential, a glassnet.files.model.SavedModel or a fitted MLPClassifier or "
        f"MLPRegressor; got {type(model).__name__}"
    )


def _header(arrays: dict[str, np.ndarray], metadata_text: str) -> bytes:
    """The JSON header, padded with spaces to a multiple of 8 bytes (so the data starts aligned)."""
    header: dict = {"__metadata__": {_KEY: metadata_text}}
    offset = 0
    for name, array in arrays.items():
        header[name] = {
            "dtype": _CODES[(array.dtype.kind, array.dtype.itemsize)],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    return text + b" " * (-len(text) % 8)


def save_safetensors(
    path: str | os.PathLike,
    model,
    *,
    preprocessing: dict | None = None,
    classes: list | None = None,
    class_names: list[str] | None = None,
    info: dict | None = None,
) -> Path:
    """Save a network's weights as a safetensors file, with its architecture and preprocessing, atomically.

    Parameters
    ----------
    path : str or path-like
        Destination, conventionally ending in ``.safetensors``; written as :func:`glassnet.files.model.save_model`
        writes (a temporary file renamed over it; a folder or device is refused).
    model : Sequential, glassnet.files.model.SavedModel or fitted MLPClassifier / MLPRegressor
        The network (an estimator's ``network_``, with its ``classes_`` as the classes). An estimator's
        hyper-parameters are not stored: a safetensors file holds a network; keep estimators in model files.
    preprocessing, classes, class_names, info
        As in :func:`glassnet.files.model.save_model`; for a SavedModel or an estimator, default to their own.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    TypeError
        If ``model`` is none of the above.
    ValueError
        If the description would not pass the checks a reader makes (a ``preprocessing`` field of the wrong
        type, more classes than outputs): nothing is written.
    """
    network, defaults = _network_of(model)
    given = {"preprocessing": preprocessing, "classes": classes, "class_names": class_names, "info": info}
    fields = {k: (v if v is not None else defaults.get(k)) for k, v in given.items()}
    arrays = {name: np.ascontiguousarray(value) for name, value in network.state_dict().items()}
    arrays = {name: a.astype(a.dtype.newbyteorder("<"), copy=False) for name, a in arrays.items()}
    metadata = _model.base_metadata("network", network)
    metadata.update(
        preprocessing=fields["preprocessing"] or {},
        classes=list(fields["classes"]) if fields["classes"] is not None else [],
        class_names=list(fields["class_names"]) if fields["class_names"] is not None else None,
        info=fields["info"] or {},
        checksums={name: _model._sha256(a) for name, a in arrays.items()},
    )
    metadata = json.loads(json.dumps(metadata, default=_model.json_default))  # exactly what a reader sees
    metadata["checksums"][_model._META_KEY] = _model._metadata_digest(metadata)
    try:
        schema.validate_metadata(metadata, FORMAT, FORMAT_VERSION)
    except schema.SchemaError as exc:
        raise ValueError(f"cannot save this model as safetensors: {exc}") from None
    header = _header(arrays, json.dumps(metadata, sort_keys=True))

    def write(f) -> None:
        f.write(struct.pack("<Q", len(header)))
        f.write(header)
        for array in arrays.values():
            f.write(array.tobytes(order="C"))

    return write_atomic(path, write)


# --- reading -----------------------------------------------------------------------------------------------


def _no_duplicates(pairs: list) -> dict:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"a JSON object names {sorted(k for k in set(keys) if keys.count(k) > 1)[:3]} twice")
    return dict(pairs)


def _json(text: bytes, where: str) -> object:
    try:
        return json.loads(text.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:200]
        raise ModelFileError(f"{where} is not valid JSON: {reason}") from None


def _read_header(path: Path, f, file_size: int) -> tuple[dict, int]:
    """The parsed header and the data part's size; the header's length is checked before it is read."""
    if file_size < 8:
        raise ModelFileError(
            f"{path} is truncated: {file_size} bytes, too short for a safetensors header length"
        )
    (length,) = struct.unpack("<Q", f.read(8))
    if length > MAX_HEADER_BYTES:
        f.seek(0)
        what = _model.describe_file_start(f.read(16))
        looks = f" (it looks like {what})" if what else ""
        raise ModelFileError(
            f"{path} is not a safetensors file{looks}, or is corrupt: its header length says {length} bytes, "
            f"more than the {MAX_HEADER_BYTES} a header may hold"
        )
    if 8 + length > file_size:
        raise ModelFileError(
            f"{path} is truncated or corrupt: its header length says {length} bytes, but only "
            f"{file_size - 8} follow"
        )
    text = f.read(length)
    if not text.startswith(b"{"):
        raise ModelFileError(f"{path} is not a safetensors file: its header does not start with '{{'")
    header = _json(text, f"{path}: the safetensors header")
    if not isinstance(header, dict):
        raise ModelFileError(f"{path}: the safetensors header is not a JSON object")
    return header, file_size - 8 - length


def _glassnet_metadata(path: Path, header: dict) -> dict:
    """glassnet's JSON from ``__metadata__`` (an object of strings, as the format requires)."""
    extra = header.pop("__metadata__", None)
    if extra is not None and (
        not isinstance(extra, dict) or not all(isinstance(v, str) for v in extra.values())
    ):
        raise ModelFileError(f"{path}: the safetensors __metadata__ must be an object of strings")
    text = (extra or {}).get(_KEY)
    if text is None:
        raise ModelFileError(
            f"{path} is a safetensors file without glassnet's metadata (no architecture to build a network "
            f"from; its tensors: {sorted(header)[:5]}); expected one written by glassnet.files.model.save_safetensors "
            "or `glassnet export --format safetensors`"
        )
    if len(text) > MAX_METADATA_BYTES:
        raise ModelFileError(
            f"{path} has {len(text)} characters of glassnet metadata, more than the {MAX_METADATA_BYTES} allowed"
        )
    metadata = _json(text.encode("utf-8"), f"{path}: the glassnet metadata")
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        shown = metadata.get("format") if isinstance(metadata, dict) else type(metadata).__name__
        raise ModelFileError(f"{path} does not hold a glassnet model (format {shown!r})")
    return metadata


def _tensor_table(
    path: Path, header: dict, data_size: int
) -> dict[str, tuple[tuple[int, ...], np.dtype, int, int]]:
    """name -> (shape, dtype, begin, end), once every entry is well-formed and the offsets tile the data."""
    if len(header) > _MAX_TENSORS:
        raise ModelFileError(f"{path} declares {len(header)} tensors, more than the {_MAX_TENSORS} allowed")
    table = {}
    for name, entry in header.items():
        where = f"{path}: tensor {name!r}"
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise ModelFileError(f"{where} must be an object with exactly dtype, shape and data_offsets")
        dtype = _DTYPES.get(entry["dtype"]) if isinstance(entry["dtype"], str) else None
        if dtype is None:
            raise ModelFileError(f"{where} has the unsupported dtype {str(entry['dtype'])[:20]!r}")
        shape, offsets = entry["shape"], entry["data_offsets"]
        if (not isinstance(shape, list) or len(shape) > _MAX_DIMS
                or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)):  # fmt: skip
            raise ModelFileError(f"{where} has an invalid shape {str(shape)[:80]} (a list of sizes >= 0)")
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(isinstance(n, int) and not isinstance(n, bool) for n in offsets)):  # fmt: skip
            raise ModelFileError(
                f"{where} has invalid data_offsets {str(offsets)[:80]} (a [begin, end] pair)"
            )
        begin, end = offsets
        if not 0 <= begin <= end <= data_size:
            raise ModelFileError(
                f"{path} is truncated or corrupt: tensor {name!r} lies at bytes [{begin}, {end}) of a data part "
                f"of {data_size} bytes"
            )
        nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize  # Python integers: no overflow
        if end - begin != nbytes:
            raise ModelFileError(
                f"{where} has shape {shape} and dtype {entry['dtype']} ({nbytes} bytes) but {end - begin} "
                "bytes of data"
            )
        table[name] = (tuple(shape), dtype, begin, end)
    position = 0  # the format's rule: the tensors tile the data part, no gaps, no overlaps
    for name, (_, _, begin, end) in sorted(table.items(), key=lambda item: (item[1][2], item[1][3])):
        if begin != position:
            raise ModelFileError(
                f"{path} is corrupt: tensor {name!r} begins at byte {begin} of the data, expected {position} "
                "(the tensors must follow each other without gaps or overlaps)"
            )
        position = end
    if position != data_size:
        raise ModelFileError(f"{path} is corrupt: {data_size - position} bytes after the last tensor")
    return table


def _check_against_architecture(
    path: Path, table: dict, expected: dict, checksums: dict, max_bytes: int
) -> None:
    """The stored tensors must be exactly the declared ones, of their shapes and dtypes, within ``max_bytes``."""
    names, declared = set(table), set(expected)
    listed = {k for k in checksums if k != _model._META_KEY}
    if names != declared:
        raise ModelFileError(
            f"{path}: weights do not match the architecture (missing {sorted(declared - names)[:5]}, "
            f"unexpected {sorted(names - declared)[:5]})"
        )
    if listed != names:
        raise ModelFileError(f"{path} is corrupt: the checksums list {sorted(listed ^ names)[:5]} otherwise")
    total = 0
    for name in sorted(names):
        shape, dtype, begin, end = table[name]
        want_shape, want_dtype = expected[name]
        if shape != want_shape or dtype != want_dtype:
            raise ModelFileError(
                f"{path}: tensor {name!r} is stored with shape {shape} and dtype {dtype}, but the architecture "
                f"declares {want_shape} and {np.dtype(want_dtype)}"
            )
        total += end - begin
        if total > max_bytes:
            raise ModelFileError(
                f"{path} holds more than {max_bytes} bytes of tensors (the limit; pass max_bytes= to load larger "
                "models)"
            )


def _read_tensors(path: Path, f, start: int, table: dict, checksums: dict) -> dict[str, np.ndarray]:
    """Each tensor read into a fresh array and checked against its SHA-256."""
    arrays = {}
    for name, (shape, dtype, begin, end) in sorted(table.items(), key=lambda item: item[1][2]):
        array = np.empty(shape, dtype=dtype)  # little-endian, as stored (the native order almost everywhere)
        f.seek(start + begin)
        if end > begin and f.readinto(memoryview(array.reshape(-1).view(np.uint8))) != end - begin:
            raise ModelFileError(f"{path} is truncated: tensor {name!r} ends past the end of the file")
        if _model._sha256(array) != checksums[name]:
            raise ModelFileError(f"{path} is corrupt: the checksum of tensor {name!r} does not match")
        arrays[name] = array
    return arrays


def load_safetensors(path: str | os.PathLike, *, max_bytes: int = MAX_BYTES) -> SavedModel:
    """Load a network from a safetensors file written by :func:`save_safetensors`.

    Parameters
    ----------
    path : str or path-like
        The ``.safetensors`` file.
    max_bytes : int
        The most bytes its tensors may hold together (default 1 GiB); checked before anything is read.

    Returns
    -------
    glassnet.files.model.SavedModel
        The network (in evaluation mode) with its metadata: preprocessing, classes, info.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ModelFileError
        If the file is truncated or corrupt, is not a safetensors file, holds no glassnet metadata, or its
        tensors or metadata do not pass the checks above; the message says which.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"safetensors file not found: {path}")
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder, not a safetensors file")
    with open(path, "rb") as f:
        file_size = os.fstat(f.fileno()).st_size
        header, data_size = _read_header(path, f, file_size)
        metadata = _glassnet_metadata(path, header)
        table = _tensor_table(path, header, data_size)
        version = _model._check_version(path, metadata)
        checksums = _model._checked_checksums(path, metadata, version)
        expected = _model._expected_arrays(path, metadata)
        if metadata.get("kind", "network") != "network":
            raise ModelFileError(f"{path}: a safetensors file holds a network, not an {metadata.get('kind')}")
        _check_against_architecture(path, table, expected, checksums, max_bytes)
        arrays = _read_tensors(path, f, file_size - data_size, table, checksums)
    return SavedModel(_model.build_network(path, metadata, arrays), metadata)
