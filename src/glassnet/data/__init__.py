"""Data sets for glassnet: scikit-learn's digits, Fashion-MNIST and MNIST from IDX files, the user's files.

The loaders need scikit-learn only for ``digits`` and for splitting; the IDX reader needs only NumPy.
"""

from glassnet.data.datasets import (
    BUILTIN,
    Dataset,
    find_idx_dir,
    load_dataset,
    load_digits,
    load_idx_dataset,
    load_user_file,
)
from glassnet.data.errors import ChecksumError, DataError, DataNotFoundError, DownloadError
from glassnet.data.fetch import fetch, verify_file
from glassnet.data.idx import IDXFormatError, parse_idx, read_idx, write_idx
from glassnet.data.sources import SOURCES, DataSource, FileSpec, get_source, search_dirs

__all__ = [
    "BUILTIN",
    "ChecksumError",
    "DataError",
    "DataNotFoundError",
    "DataSource",
    "Dataset",
    "DownloadError",
    "FileSpec",
    "IDXFormatError",
    "SOURCES",
    "fetch",
    "find_idx_dir",
    "get_source",
    "load_dataset",
    "load_digits",
    "load_idx_dataset",
    "load_user_file",
    "parse_idx",
    "read_idx",
    "search_dirs",
    "verify_file",
    "write_idx",
]
