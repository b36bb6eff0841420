"""Where the image data sets live: official URLs, file names, checksums and local search paths.

Checksums
---------
``md5`` is the checksum of the official ``.gz`` file as published by the data set's authors
(Fashion-MNIST's README; for MNIST the values used by torchvision). Debian's ``dataset-fashion-mnist``
package ships the same data re-compressed (the gzip header differs), so each Fashion-MNIST file also
carries ``sha256_raw``, the SHA-256 of the *decompressed* IDX bytes, computed from the Debian files and
equal for the official download. A downloaded file is accepted if either checksum matches.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["FileSpec", "DataSource", "SOURCES", "get_source", "search_dirs", "default_fetch_dir"]


@dataclass(frozen=True)
class FileSpec:
    """One file of a data set: its name and checksums (hex digests; empty string if unknown)."""

    name: str
    md5: str = ""
    sha256: str = ""
    sha256_raw: str = ""


@dataclass(frozen=True)
class DataSource:
    """An IDX data set: name, mirrors, the four files and the class names."""

    name: str
    mirrors: tuple[str, ...]
    train_images: FileSpec
    train_labels: FileSpec
    test_images: FileSpec
    test_labels: FileSpec
    class_names: tuple[str, ...]
    system_dirs: tuple[str, ...] = field(default=())

    @property
    def files(self) -> tuple[FileSpec, FileSpec, FileSpec, FileSpec]:
        """The four files in the order train images, train labels, test images, test labels."""
        return (self.train_images, self.train_labels, self.test_images, self.test_labels)


FASHION_MNIST = DataSource(
    name="fashion-mnist",
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    train_images=FileSpec(
        "train-images-idx3-ubyte.gz",
        md5="8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        sha256_raw="c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    ),
    train_labels=FileSpec(
        "train-labels-idx1-ubyte.gz",
        md5="25c81989df183df01b3e8a0aad5dffbe",
        sha256_raw="bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    ),
    test_images=FileSpec(
        "t10k-images-idx3-ubyte.gz",
        md5="bef4ecab320f06d8554ea6380940ec79",
        sha256_raw="5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    ),
    test_labels=FileSpec(
        "t10k-labels-idx1-ubyte.gz",
        md5="bb300cfdad3c16e7a12a480ee83cd310",
        sha256_raw="0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    ),
    class_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    system_dirs=("/usr/share/datasets/fashion-mnist",),
)

MNIST = DataSource(
    name="mnist",
    # yann.lecun.com often refuses downloads; torchvision's S3 mirror holds the same files.
    mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    train_images=FileSpec("train-images-idx3-ubyte.gz", md5="f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    train_labels=FileSpec("train-labels-idx1-ubyte.gz", md5="d53e105ee54ea40749a09fcbcd1e9432"),
    test_images=FileSpec("t10k-images-idx3-ubyte.gz", md5="9fb629c4189551a2d022fa330f9573f3"),
    test_labels=FileSpec("t10k-labels-idx1-ubyte.gz", md5="ec29112dd5afa0611ce80d1b7f02629c"),
    class_names=tuple(str(d) for d in range(10)),
    system_dirs=("/usr/share/datasets/mnist",),
)

SOURCES: dict[str, DataSource] = {FASHION_MNIST.name: FASHION_MNIST, MNIST.name: MNIST}


def get_source(name: str) -> DataSource:
    """Look up an IDX data set by name (``"fashion-mnist"`` or ``"mnist"``)."""
    try:
        return SOURCES[name]
    except KeyError:
        raise ValueError(
            f"unknown image data set {name!r}; expected one of {', '.join(sorted(SOURCES))}"
        ) from None


def default_fetch_dir() -> Path:
    """Default folder of ``glassnet data fetch``: ``$GLASSNET_DATA`` or ``~/.cache/glassnet/data``."""
    env = os.environ.get("GLASSNET_DATA")
    if env:
        return Path(env)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "glassnet" / "data"


def search_dirs(name: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for a data set's files, in order.

    Order: ``data_dir`` (its ``<name>/`` sub-folder first, then itself), ``$GLASSNET_DATA`` (same),
    the default fetch folder ``~/.cache/glassnet/data/<name>``, then the system folders (Debian's
    ``/usr/share/datasets/fashion-mnist``). MNIST and Fashion-MNIST use the same file names, so a
    ``<name>/`` sub-folder is preferred over files lying directly in a root folder.
    """
    source = get_source(name)
    roots: list[Path] = []
    if data_dir is not None:
        roots.append(Path(data_dir))
    env = os.environ.get("GLASSNET_DATA")
    if env:
        roots.append(Path(env))
    roots.append(default_fetch_dir())
    dirs: list[Path] = []
    for root in roots:
        dirs.extend([root / name, root])
    dirs.extend(Path(d) for d in source.system_dirs)
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique
