"""Tests of `glassnet.data.fetch`: files served by a local HTTP server on 127.0.0.1, never the internet."""

import functools
import gzip
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

from glassnet.data import (
    SOURCES,
    ChecksumError,
    DataSource,
    DownloadError,
    FileSpec,
    fetch,
    load_idx_dataset,
    write_idx,
)

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def serve():
    """Serve a folder on 127.0.0.1 on a free port; yields a function folder -> base URL."""
    servers = []

    def start(folder):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join()


def _write_tiny_idx_set(folder: Path, n_train=12, n_test=5, seed=0):
    """Write four small IDX .gz files in the official layout; return a DataSource with their md5."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    specs = []
    for name, array in arrays.items():
        write_idx(folder / name, array)
        specs.append(FileSpec(name, md5=hashlib.md5((folder / name).read_bytes()).hexdigest()))
    source = DataSource(
        name="mnist",
        mirrors=("http://127.0.0.1:9/unused/",),
        train_images=specs[0],
        train_labels=specs[1],
        test_images=specs[2],
        test_labels=specs[3],
        class_names=SOURCES["mnist"].class_names,
    )
    return source, arrays


def test_fetch_downloads_and_verifies(tmp_path, serve):
    source, arrays = _write_tiny_idx_set(tmp_path / "server")
    url = serve(tmp_path / "server")
    seen = []
    dest = fetch(source, tmp_path / "data" / "mnist", base_url=url, progress=lambda *a: seen.append(a))
    assert sorted(p.name for p in dest.iterdir()) == sorted(arrays)
    assert {name for name, _, _ in seen} == set(arrays)
    data = load_idx_dataset("mnist", data_dir=tmp_path / "data")
    np.testing.assert_array_equal(data.y_train, arrays["train-labels-idx1-ubyte.gz"])
    np.testing.assert_allclose(
        data.X_test * 255, arrays["t10k-images-idx3-ubyte.gz"].reshape(5, -1), atol=1e-4
    )


def test_fetch_skips_verified_files(tmp_path, serve):
    source, _ = _write_tiny_idx_set(tmp_path / "server")
    url = serve(tmp_path / "server")
    dest = fetch(source, tmp_path / "d", base_url=url)
    seen = []
    fetch(source, dest, base_url=url, progress=lambda *a: seen.append(a))
    assert seen == []


def test_checksum_mismatch_keeps_no_file(tmp_path, serve):
    source, _ = _write_tiny_idx_set(tmp_path / "server")
    bad = FileSpec(source.train_images.name, md5="0" * 32)
    source = DataSource(
        source.name, source.mirrors, bad, source.train_labels, source.test_images, source.test_labels,
        source.class_names,
    )  # fmt: skip
    url = serve(tmp_path / "server")
    with pytest.raises(ChecksumError, match="checksum mismatch for train-images-idx3-ubyte.gz"):
        fetch(source, tmp_path / "d", base_url=url)
    assert list((tmp_path / "d").iterdir()) == []  # no partial or unverified file left behind


def test_missing_file_on_server_is_a_download_error(tmp_path, serve):
    source, _ = _write_tiny_idx_set(tmp_path / "server")
    (tmp_path / "server" / "t10k-labels-idx1-ubyte.gz").unlink()
    url = serve(tmp_path / "server")
    with pytest.raises(DownloadError, match="t10k-labels-idx1-ubyte.gz"):
        fetch(source, tmp_path / "d", base_url=url)
    assert not (tmp_path / "d" / "t10k-labels-idx1-ubyte.gz").exists()


def test_official_checksums_are_registered():
    for source in SOURCES.values():
        for spec in source.files:
            assert len(spec.md5) == 32, spec


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_real_fashion_mnist_checksums_accept_the_debian_files(tmp_path, serve):
    """Debian re-compressed the official files; the checksum of the decompressed data still matches."""
    url = serve(DEBIAN_FASHION)
    dest = fetch("fashion-mnist", tmp_path / "fm", base_url=url)
    for spec in SOURCES["fashion-mnist"].files:
        raw = gzip.decompress((dest / spec.name).read_bytes())
        assert hashlib.sha256(raw).hexdigest() == spec.sha256_raw
