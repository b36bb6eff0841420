"""One file container for model files and checkpoints: named arrays and a checksummed JSON description in a
pickle-free ``.npz``, written atomically and read with one set of limits.

A container is a NumPy ``.npz`` (a zip of ``.npy`` arrays)::

    <meta_key>.npy      uint8 array: the UTF-8 JSON metadata; it names every other member with its SHA-256
    <name>.npy          one array per declared name (``layers.0.W``, ``optimizer/_m``, ...)

Each format (:mod:`glassnet.files.model`, :mod:`glassnet.files.checkpoint`) is a :class:`Layout` (its format
name, newest version, metadata member and error class) and a ``declare`` function that validates the parsed
metadata against its schema (:mod:`glassnet.files.schema`) and returns the arrays the file must hold. The
container does everything else, in this order, and stops at the first problem with the format's error:

1. **The file.** Only a regular file is opened (a folder, device such as ``/dev/zero`` or FIFO is refused
   from its ``stat``, and a FIFO is never waited on); an empty file or one that is not a zip is named.
2. **The zip.** At most :data:`MAX_MEMBERS` entries (counted before the directory is parsed), no name twice,
   only ``.npy`` members, stored or deflated, not encrypted, whose sizes fit in the file.
3. **The metadata**: at most :data:`MAX_METADATA_BYTES`, valid UTF-8, at most :data:`MAX_JSON_VALUES` JSON
   values (counted from the brackets and commas before parsing, so ``[],[],...`` cannot cost more than a few
   MB), of this format and a version this glassnet reads, its own SHA-256 matching, then the format's schema.
4. **The members**: exactly the declared ones (no excess, no missing); every ``.npy`` header is parsed by
   this module (never by ``eval`` or a tokenizer: one corrupt byte is a corrupt header), must hold a plain
   number or short string type in C order, match its declaration and make the member's size exact; all
   arrays together at most ``max_bytes``. Nothing is allocated until all of this holds.
5. **The data**: each array is read once, in 1 MiB pieces, straight into its final buffer (a network's
   parameters, see :meth:`Container.read_into`) while its SHA-256 is computed; a mismatch is an error.

So reading any file costs at most its declared arrays (once) plus a few MB, and the time to read them.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from glassnet._files import NotARegularFileError, open_regular, write_atomic

__all__ = [
    "MAX_JSON_VALUES",
    "MAX_MEMBERS",
    "MAX_METADATA_BYTES",
    "Container",
    "ContainerError",
    "Declared",
    "Layout",
    "describe_file_start",
    "metadata_digest",
    "open_container",
    "sha256",
    "write_container",
]

MAX_METADATA_BYTES = 8 << 20  # the JSON description of one file
MAX_JSON_VALUES = 200_000  # lists, objects and values in it: at most ~15 MB once parsed
MAX_MEMBERS = 50_000  # arrays in one file (a network of 10,000 BatchNorm layers has 40,000)
MAX_NDIM = 32
MAX_HEADER_BYTES = 16 << 10  # a .npy header (NumPy writes 128 bytes; its own reader stops at 10,000)
MAX_STRING_LENGTH = 1000  # characters of one element of a string array
_CHUNK = 1 << 20
_NUMBER_TYPES = {"b1", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8"}
# what a damaged zip may raise from zipfile, zlib or the file underneath
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError, ValueError,
               struct.error, NotImplementedError, RuntimeError, OverflowError, KeyError, IndexError)  # fmt: skip


class ContainerError(ValueError):
    """A file is truncated, corrupt, crafted, or not of the expected format (the message says which).

    The formats raise their own subclasses: :class:`~glassnet.files.model.ModelFileError` and
    :class:`~glassnet.files.checkpoint.CheckpointError`."""


@dataclass(frozen=True)
class Layout:
    """What distinguishes one format stored in the container from another."""

    format: str  # the metadata's "format" value, e.g. "glassnet-model"
    version: int  # the newest format version this glassnet reads (and writes)
    meta_key: str  # the member holding the metadata, without ".npy"
    what: str  # "glassnet model file", for messages
    error: type[ContainerError]
    digest_at: tuple[str, ...]  # where the metadata's own SHA-256 is stored (a path of keys)
    digest_since: int = 1  # the first format version whose files store it
    hint: str = ""  # how such a file is made, appended to "not a ..." messages
    others: dict[str, str] = field(default_factory=dict)  # another format's meta_key -> what to say


@dataclass(frozen=True)
class Declared:
    """An array a file must hold: ``shape`` (``None``: 1-D of any length), ``dtype`` (or, with ``shape``
    ``None``, a string of allowed dtype kinds) and the SHA-256 of its bytes in C order."""

    shape: tuple[int, ...] | None
    dtype: Any
    sha256: str | None


# --- checksums ---------------------------------------------------------------------------------------------


def sha256(array: np.ndarray) -> str:
    """SHA-256 of an array's bytes in C order (what the container stores for each member)."""
    return hashlib.sha256(np.ascontiguousarray(array).data).hexdigest()


def _without(metadata: dict, at: tuple[str, ...]) -> dict:
    """``metadata`` without the entry at the key path ``at`` (copying only the dicts on the path)."""
    body = dict(metadata)
    if len(at) == 1:
        body.pop(at[0], None)
    elif isinstance(body.get(at[0]), dict):
        body[at[0]] = _without(body[at[0]], at[1:])
    return body


def metadata_digest(metadata: dict, at: tuple[str, ...]) -> str:
    """SHA-256 of the metadata as canonical JSON (sorted keys, no spaces, ASCII), without the digest itself."""
    text = json.dumps(_without(metadata, at), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _set(metadata: dict, at: tuple[str, ...], value) -> None:
    for key in at[:-1]:
        metadata = metadata.setdefault(key, {})
    metadata[at[-1]] = value


# --- writing -----------------------------------------------------------------------------------------------


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value).name  # a dtype or NumPy type (an estimator's dtype=np.float32): 'float32'
    raise TypeError(f"cannot store a {type(value).__name__} in a file's metadata")


def write_container(
    path: str | os.PathLike | BinaryIO, layout: Layout, arrays: dict[str, np.ndarray], metadata: dict
) -> Path | None:
    """Write ``arrays`` and ``metadata`` (JSON; its digest is added at ``layout.digest_at``), atomically.

    The metadata must already list the arrays' checksums (:func:`sha256`) where the format keeps them; it
    is stored exactly as a reader will parse it, so that its digest matches. ``path`` may also be a binary
    file object (a container held inside another, such as an estimator inside a checkpoint); nothing is
    returned then."""
    metadata = json.loads(json.dumps(metadata, default=_json_default))
    _set(metadata, layout.digest_at, metadata_digest(metadata, layout.digest_at))
    text = json.dumps(metadata, sort_keys=True)
    payload = {layout.meta_key: np.frombuffer(text.encode("utf-8"), dtype=np.uint8), **arrays}
    if hasattr(path, "write"):
        np.savez(path, **payload)
        return None
    return write_atomic(path, lambda f: np.savez(f, **payload))


# --- what a file that is not a container looks like ----------------------------------------------------------

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


# --- reading -----------------------------------------------------------------------------------------------


@dataclass
class _Member:
    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    dtype: np.dtype
    offset: int  # bytes of the .npy header before the data
    sha256: str | None

    @property
    def nbytes(self) -> int:
        return _count(self.shape) * self.dtype.itemsize


def _count(shape: tuple[int, ...]) -> int:
    n = 1
    for side in shape:
        n *= side
    return n


class Container:
    """An open container whose metadata, members and headers have all been checked (:func:`open_container`).

    Attributes
    ----------
    path : Path
        The file (for messages).
    metadata : dict
        The parsed, checksummed and schema-validated metadata.
    version : int
        Its format version.
    names : list of str
        The declared arrays, sorted.
    """

    def __init__(self, path: Path, layout: Layout, fileobj: BinaryIO, zf: zipfile.ZipFile) -> None:
        self.path, self.layout, self._file, self._zf = path, layout, fileobj, zf
        self.metadata: dict = {}
        self.version = 0
        self._members: dict[str, _Member] = {}

    @property
    def names(self) -> list[str]:
        return sorted(self._members)

    def shape(self, name: str) -> tuple[int, ...]:
        return self._members[name].shape

    def _fail(self, text: str) -> ContainerError:
        return self.layout.error(f"{self.path} {text}")

    def read(self, name: str) -> np.ndarray:
        """The array ``name``, read into a new buffer and checked against its SHA-256."""
        member = self._members[name]
        out = np.empty(member.shape, dtype=member.dtype)
        self.read_into(name, out)
        return out

    def read_into(self, name: str, out: np.ndarray) -> None:
        """Read the array ``name`` straight into ``out`` (C-contiguous, its shape; another dtype is cast
        through one temporary), checking its SHA-256 while reading."""
        member = self._members[name]
        if out.shape != member.shape:
            raise ValueError(f"{name}: the file holds shape {member.shape}, the buffer has {out.shape}")
        if out.dtype != member.dtype or not out.flags.c_contiguous:
            out[...] = self.read(name)
            return
        data = memoryview(out.reshape(-1).view(np.uint8))
        digest = hashlib.sha256()
        where = f"is truncated or corrupt: array {name!r}"
        try:
            with self._zf.open(member.info) as stream:
                stream.read(member.offset)  # the header, parsed before
                done = 0
                while done < member.nbytes:
                    got = stream.readinto(data[done : done + _CHUNK])
                    if not got:
                        raise self._fail(f"{where} is shorter than its header says")
                    digest.update(data[done : done + got])
                    done += got
                if stream.read(1):  # also makes zipfile check the CRC at the member's end
                    raise self._fail(f"{where} has data past its declared size")
        except ContainerError:
            raise
        except _ZIP_ERRORS as exc:
            raise self._fail(f"{where}: {exc}") from None
        if member.sha256 is not None and digest.hexdigest() != member.sha256:
            raise self._fail(f"is corrupt: the checksum of array {name!r} does not match")

    def close(self) -> None:
        self._zf.close()
        self._file.close()

    def __enter__(self) -> Container:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _read_exact(stream, n: int) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise EOFError(f"expected {n} bytes, got {len(data)}")
    return data


def _npy_header(stream) -> tuple[tuple[int, ...], np.dtype, int]:
    """Parse a ``.npy`` header: ``(shape, dtype, header size)``; ValueError if it is not one glassnet reads.

    The header is a Python dict literal; :func:`ast.literal_eval` reads it (bounded: at most
    :data:`MAX_HEADER_BYTES`), which evaluates no code. NumPy's own reader may go through ``tokenize``,
    whose errors are not ValueErrors."""
    magic = _read_exact(stream, 8)
    if magic[:6] != b"\x93NUMPY":
        raise ValueError("not a .npy array")
    version = (magic[6], magic[7])
    if version == (1, 0):
        (length,), start = struct.unpack("<H", _read_exact(stream, 2)), 10
    elif version in ((2, 0), (3, 0)):
        (length,), start = struct.unpack("<I", _read_exact(stream, 4)), 12
    else:
        raise ValueError(f"unsupported .npy format version {version}")
    if length > MAX_HEADER_BYTES:
        raise ValueError(f"a header of {length} bytes")
    text = _read_exact(stream, length).decode("utf-8" if version == (3, 0) else "latin1")
    try:
        header = ast.literal_eval(text)
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        raise ValueError("an unreadable header") from None
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise ValueError("a header without exactly descr, fortran_order and shape")
    descr, shape = header["descr"], header["shape"]
    if not isinstance(descr, str) or not _plain_dtype(descr):
        shown = "object" if "O" in str(descr) else f"{str(descr)[:40]!r}"
        raise _TypeRefused(f"holds {shown} data; a glassnet file holds only numbers and short strings")
    if header["fortran_order"] is not False:
        raise ValueError("an array in Fortran order")
    if not isinstance(shape, tuple) or len(shape) > MAX_NDIM:
        raise ValueError(f"the shape {str(shape)[:40]}")
    if not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**62 for n in shape):
        raise ValueError(f"the shape {str(shape)[:40]}")
    return shape, np.dtype(descr), start + length


def _plain_dtype(descr: str) -> bool:
    """Little-endian numbers and bool, or unicode strings of at most 1000 characters (checked before
    ``np.dtype`` sees it: ``<U500000000`` is a 2 GB element)."""
    if len(descr) < 3 or descr[0] not in "<|":
        return False
    code = descr[1:]
    if code in _NUMBER_TYPES:
        return True
    return code[0] == "U" and code[1:].isdigit() and code[1] != "0" and int(code[1:]) <= MAX_STRING_LENGTH


def _count_members(fileobj: BinaryIO, size: int) -> int | None:
    """The number of entries the zip's end record declares (read before zipfile parses the directory)."""
    tail = min(size, 22 + 65535)
    fileobj.seek(size - tail)
    data = fileobj.read(tail)
    at = data.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(data):
        return None
    count = struct.unpack("<H", data[at + 10 : at + 12])[0]
    fileobj.seek(0)
    return None if count == 0xFFFF else count  # 0xFFFF: a zip64 count, checked after parsing


def open_container(
    path: str | os.PathLike,
    layout: Layout,
    declare: Callable[[dict, int], dict[str, Declared]],
    *,
    max_bytes: int,
    fileobj: BinaryIO | None = None,
) -> Container:
    """Open and check a container (steps 1-4 of the module docstring); read its arrays from the result.

    Parameters
    ----------
    path : path-like
        The file. With ``fileobj``, only the name used in messages.
    layout : Layout
        The format expected.
    declare : callable
        ``declare(metadata, version)`` validates the parsed metadata (raising ``ValueError`` with a message
        that names the field) and returns the arrays the file must hold, by name.
    max_bytes : int
        The most bytes the arrays may hold together.
    fileobj : binary file, optional
        Read this instead of opening ``path`` (a file held inside another file).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ContainerError
        ``layout.error``, naming what is wrong.
    """
    path = Path(path)
    error = layout.error
    if fileobj is None:
        try:
            fileobj = open_regular(path)
        except NotARegularFileError as exc:
            raise error(f"{path} is a {exc.kind}, not a {layout.what}") from None
        except FileNotFoundError:
            raise FileNotFoundError(f"{layout.what} not found: {path}") from None
        except OSError as exc:
            raise error(f"{path} cannot be read: {exc.strerror or exc}") from None
    try:
        return _open(path, layout, declare, max_bytes, fileobj)
    except BaseException:
        fileobj.close()
        raise


def _open(path: Path, layout: Layout, declare, max_bytes: int, fileobj: BinaryIO) -> Container:
    error = layout.error
    size = fileobj.seek(0, os.SEEK_END)
    fileobj.seek(0)
    if size == 0:
        raise error(f"{path} is empty (an interrupted copy?)")
    head = fileobj.read(16)
    if not head.startswith(b"PK\x03\x04"):
        looks = describe_file_start(head)
        raise error(
            f"{path} is not a {layout.what}{f' (it looks like {looks})' if looks else ''}; {layout.hint}"
        )
    count = _count_members(fileobj, size)
    if count is not None and count > MAX_MEMBERS:
        raise error(f"{path} is not a {layout.what} ({count} entries, more than {MAX_MEMBERS})")
    try:
        zf = zipfile.ZipFile(fileobj)
    except _ZIP_ERRORS as exc:
        raise error(f"{path} is truncated or corrupt: {exc}") from None
    box = Container(path, layout, fileobj, zf)
    try:
        infos = _zip_entries(box, size)
        box.metadata, box.version = _metadata(box, infos, declare)
        declared = _declarations(box, declare)
        _check_members(box, infos, declared, max_bytes)
    except BaseException:
        zf.close()
        raise
    return box


def _zip_entries(box: Container, size: int) -> dict[str, zipfile.ZipInfo]:
    """The zip's entries by array name: bounded in number, no name twice, plain ``.npy`` members only."""
    infos = box._zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise box._fail(f"is not a {box.layout.what} ({len(infos)} entries, more than {MAX_MEMBERS})")
    entries = {}
    for info in infos:
        name = info.filename
        if not name.endswith(".npy"):
            raise box._fail(f"is corrupt: its entry {name[:80]!r} is not an array")
        if name[:-4] in entries:
            raise box._fail(f"is corrupt: it holds two entries named {name[:80]!r}")
        if info.flag_bits & 0x1:
            raise box._fail(f"is corrupt: its entry {name[:80]!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise box._fail(
                f"is corrupt: its entry {name[:80]!r} uses compression method {info.compress_type}"
            )
        stored = info.compress_type == zipfile.ZIP_STORED
        if (
            info.compress_size > size
            or info.header_offset > size
            or (stored and info.compress_size != info.file_size)
        ):
            raise box._fail(f"is truncated or corrupt: the sizes of entry {name[:80]!r} do not fit the file")
        entries[name[:-4]] = info
    return entries


class _TypeRefused(ValueError):
    """A well-formed header of a type glassnet does not read (objects, records, long strings)."""


def _header(box: Container, info: zipfile.ZipInfo, label: str) -> tuple[tuple[int, ...], np.dtype, int]:
    try:
        with box._zf.open(info) as stream:
            return _npy_header(stream)
    except _TypeRefused as exc:
        raise box._fail(f"is refused: {label} {exc}") from None
    except _ZIP_ERRORS as exc:
        raise box._fail(f"is truncated or corrupt: {label} has {exc}") from None


def _metadata(box: Container, entries: dict, declare) -> tuple[dict, int]:
    """The metadata: bounded, parsed, of this format and a readable version, its own checksum matching."""
    layout = box.layout
    info = entries.get(layout.meta_key)
    if info is None:
        other = next((text for key, text in layout.others.items() if key in entries), "")
        raise box._fail(
            f"is not a {layout.what}{other} (a .npz without glassnet's {layout.meta_key} entry); {layout.hint}"
        )
    shape, dtype, offset = _header(box, info, "the metadata entry")
    if len(shape) != 1 or dtype != np.uint8:
        raise box._fail(f"has corrupt metadata: a {dtype} array of shape {shape}, not text")
    if shape[0] > MAX_METADATA_BYTES:
        raise box._fail(
            f"has {shape[0]} bytes of metadata, more than the {MAX_METADATA_BYTES} a {layout.what} may hold"
        )
    _check_size(box, layout.meta_key, info, shape[0], offset)
    box._members[layout.meta_key] = _Member(info, shape, dtype, offset, None)
    raw = box.read(layout.meta_key).tobytes()
    del box._members[layout.meta_key]
    metadata = parse_json(raw, box)
    if not isinstance(metadata, dict) or metadata.get("format") != layout.format:
        shown = metadata.get("format") if isinstance(metadata, dict) else type(metadata).__name__
        raise box._fail(f"is not a {layout.what} (format {str(shown)[:80]!r})")
    version = metadata.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise box._fail(f"has an invalid format version {str(version)[:40]!r}")
    if version > layout.version:
        from glassnet._version import __version__

        raise box._fail(
            f"was written by a newer glassnet ({str(metadata.get('glassnet_version', '?'))[:40]}, format "
            f"version {version}); this glassnet {__version__} reads format version {layout.version} or "
            "older. Upgrade glassnet to read it."
        )
    if version >= layout.digest_since:
        stored = _get(metadata, layout.digest_at)
        try:
            digest = metadata_digest(metadata, layout.digest_at)
        except (TypeError, ValueError, RecursionError):
            digest = None
        if stored != digest:
            raise box._fail("is corrupt: the checksum of its metadata does not match")
    return metadata, version


def _get(metadata: dict, at: tuple[str, ...]):
    for key in at:
        if not isinstance(metadata, dict):
            return None
        metadata = metadata.get(key)
    return metadata


def parse_json(raw: bytes, box: Container):
    """Parse the metadata with bounded memory: at most :data:`MAX_JSON_VALUES` lists, objects and values.

    Every value but the first follows a comma or opens a list or object, so counting ``[``, ``{`` and
    ``,`` (inside strings too: an over-count only) bounds them before any is built; ``json`` then parses
    (nesting beyond the interpreter's recursion limit is a RecursionError, caught)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise box._fail(f"has corrupt metadata: {exc}") from None
    values = text.count("[") + text.count("{") + text.count(",")
    if values > MAX_JSON_VALUES:
        raise box._fail(f"has corrupt metadata: more than {MAX_JSON_VALUES} JSON values")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        detail = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:200]
        raise box._fail(f"has corrupt metadata: {detail}") from None


def _declarations(box: Container, declare) -> dict[str, Declared]:
    try:
        return declare(box.metadata, box.version)
    except ContainerError:
        raise
    except RecursionError:
        raise box._fail("has invalid metadata: nested too deeply") from None
    except (ValueError, TypeError) as exc:
        raise box._fail(f"has invalid metadata: {exc}") from None


def _check_size(box: Container, name: str, info: zipfile.ZipInfo, nbytes: int, offset: int) -> None:
    if info.file_size < offset + nbytes:
        raise box._fail(f"is truncated or corrupt: array {name!r} is shorter than its header says")
    if info.file_size > offset + nbytes:
        raise box._fail(f"is corrupt: array {name!r} has data past the size its header says")


def _check_members(box: Container, entries: dict, declared: dict[str, Declared], max_bytes: int) -> None:
    """Exactly the declared arrays, each header as declared, all within ``max_bytes``; nothing read yet."""
    stored = set(entries) - {box.layout.meta_key}
    unexpected, missing = sorted(stored - set(declared)), sorted(set(declared) - stored)
    if unexpected:
        raise box._fail(f"is corrupt: entries {unexpected[:5]} are not listed in the metadata")
    if missing:
        raise box._fail(f"is truncated or corrupt: missing arrays {missing[:5]}")
    total = 0
    for name in sorted(declared):
        want = declared[name]
        info = entries[name]
        shape, dtype, offset = _header(box, info, f"array {name!r}")
        if want.shape is None:  # 1-D of any length, of the allowed kinds
            if len(shape) != 1 or dtype.kind not in want.dtype:
                raise box._fail(
                    f"has an array {name!r} of shape {shape} and dtype {dtype}; expected a 1-D array"
                )
        elif shape != tuple(want.shape) or dtype != want.dtype:
            raise box._fail(
                f"is corrupt: array {name!r} is stored with shape {shape} and dtype {dtype}, but the "
                f"metadata declares {tuple(want.shape)} and {np.dtype(want.dtype)}"
            )
        member = _Member(info, shape, dtype, offset, want.sha256)
        total += member.nbytes
        if total > max_bytes:
            raise box._fail(
                f"holds more than {max_bytes} bytes of arrays (the limit; pass max_bytes= to read larger files)"
            )
        _check_size(box, name, info, member.nbytes, offset)
        box._members[name] = member
