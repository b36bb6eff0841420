"""Reader and writer for the IDX format of MNIST and Fashion-MNIST.

An IDX file is a tiny header followed by a dense big-endian array::

    bytes 0-1   zero
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    4 * d bytes the size of each dimension, big-endian uint32
    rest        the elements, big-endian, C order

The official files are gzip-compressed (``train-images-idx3-ubyte.gz``). :func:`read_idx` reads both the
compressed and the plain form and checks that the file holds exactly the data its header announces, so a
truncated download or a file of another format gives an :class:`IDXFormatError` that names the problem
instead of a reshape error deep inside NumPy.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

__all__ = ["IDXFormatError", "read_idx", "write_idx", "parse_idx"]

# element type code -> big-endian NumPy dtype
_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dtype.newbyteorder("="): code for code, dtype in _TYPES.items()}


class IDXFormatError(ValueError):
    """An IDX file is malformed: bad magic number, truncated data, trailing bytes or corrupt gzip."""


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse the bytes of an (uncompressed) IDX file.

    Parameters
    ----------
    data : bytes
        The whole file content.
    name : str
        A name for error messages (usually the file path).

    Returns
    -------
    numpy.ndarray
        The array in native byte order, shape given by the header.

    Raises
    ------
    IDXFormatError
        If the header is not an IDX header or the data size does not match it.
    """
    if len(data) < 4:
        raise IDXFormatError(f"{name}: not an IDX file: {len(data)} bytes, the header alone needs 4")
    if data[0] != 0 or data[1] != 0:
        raise IDXFormatError(
            f"{name}: not an IDX file: the magic number must start with two zero bytes, got {data[:2].hex()}"
        )
    code, ndim = data[2], data[3]
    if code not in _TYPES:
        known = ", ".join(f"0x{c:02X}" for c in _TYPES)
        raise IDXFormatError(f"{name}: unknown IDX element type 0x{code:02X} (expected one of {known})")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise IDXFormatError(
            f"{name}: truncated IDX header: {ndim} dimensions need {header_size} bytes, file has {len(data)}"
        )
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = _TYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(data) - header_size
    if actual < expected:
        raise IDXFormatError(
            f"{name}: truncated IDX file: header announces shape {shape} ({expected} bytes of data), "
            f"found {actual} bytes"
        )
    if actual > expected:
        raise IDXFormatError(
            f"{name}: malformed IDX file: {actual - expected} unexpected bytes after the {expected} bytes "
            f"of data announced by the header (shape {shape})"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, gzip-compressed (by content, whatever the name) or plain.

    Parameters
    ----------
    path : str or path-like
        The file, e.g. ``train-images-idx3-ubyte.gz``.

    Returns
    -------
    numpy.ndarray
        The stored array, e.g. ``(60000, 28, 28)`` uint8 for the MNIST training images.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    IDXFormatError
        If the file is a corrupt or truncated gzip stream or not a well-formed IDX file.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":  # gzip magic number
        try:
            raw = gzip.decompress(raw)
        except EOFError as exc:
            raise IDXFormatError(f"{path}: truncated gzip file (download incomplete?)") from exc
        except (OSError, zlib.error) as exc:
            raise IDXFormatError(f"{path}: corrupt gzip file: {exc}") from exc
    return parse_idx(raw, name=str(path))


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> None:
    """Write an array as an IDX file (gzip-compressed if the name ends in ``.gz`` or ``compress``).

    Parameters
    ----------
    path : str or path-like
        Destination.
    array : numpy.ndarray
        Array of uint8, int8, int16, int32, float32 or float64, at most 255 dimensions.
    compress : bool, optional
        Force or suppress gzip compression; by default decided by the ``.gz`` suffix.
    """
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _CODES:
        raise TypeError(
            f"IDX stores uint8, int8, int16, int32, float32 or float64 arrays, got dtype {array.dtype}"
        )
    if array.ndim > 255:
        raise ValueError(f"IDX stores at most 255 dimensions, got {array.ndim}")
    code = _CODES[native]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=_TYPES[code]).tobytes()
    path = Path(path)
    if compress is None:
        compress = path.suffix == ".gz"
    if compress:
        payload = gzip.compress(payload, mtime=0)
    path.write_bytes(payload)
