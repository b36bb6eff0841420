"""Tests of the IDX reader and writer (glassnet.data.idx)."""

import gzip

import numpy as np
import pytest

from glassnet.data import IDXFormatError, parse_idx, read_idx, write_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", [".gz", ""])
def test_round_trip(tmp_path, dtype, suffix):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal((3, 4, 5)) * 50).astype(dtype)
    path = tmp_path / f"a-idx3{suffix}"
    write_idx(path, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(back, array)


def test_header_layout_matches_the_official_format():
    labels = np.array([7, 2, 1], dtype=np.uint8)
    # magic 0x00000801 then count 3, big-endian, then the bytes
    data = bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1])
    np.testing.assert_array_equal(parse_idx(data), labels)


def test_gz_compressed_file_with_plain_name_is_detected(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 2, 5, 6])))
    np.testing.assert_array_equal(read_idx(path), [5, 6])


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x00\x00", "header alone needs 4"),
        (b"PK\x03\x04rest", "magic number"),
        (bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 0]), "unknown IDX element type 0x42"),
        (bytes([0, 0, 8, 3, 0, 0, 0, 2]), "truncated IDX header"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]), "truncated IDX file"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 1, 1, 2]), "unexpected bytes"),
    ],
)
def test_malformed_data_raises_clear_error(data, message):
    with pytest.raises(IDXFormatError, match=message):
        parse_idx(data, name="bad-file")


def test_truncated_gzip_names_the_problem(tmp_path):
    path = tmp_path / "x-idx1-ubyte.gz"
    write_idx(path, np.arange(1000, dtype=np.int32))
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(IDXFormatError, match="truncated gzip"):
        read_idx(path)


def test_corrupt_gzip_names_the_problem(tmp_path):
    path = tmp_path / "x-idx1-ubyte.gz"
    write_idx(path, np.arange(1000, dtype=np.int32))
    raw = bytearray(path.read_bytes())
    raw[12:40] = b"\xff" * 28
    path.write_bytes(bytes(raw))
    with pytest.raises(IDXFormatError, match="gzip"):
        read_idx(path)


def test_error_is_a_value_error():
    assert issubclass(IDXFormatError, ValueError)


def test_write_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(TypeError, match="uint8"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.complex64))
