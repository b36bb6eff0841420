"""Errors raised while finding, downloading or reading data sets."""

from __future__ import annotations

__all__ = ["DataError", "DataNotFoundError", "ChecksumError", "DownloadError"]


class DataError(ValueError):
    """A data set could not be used: bad file, bad column, unknown name."""


class DataNotFoundError(FileNotFoundError):
    """A data set's files are not on this machine; the message says where we looked and how to get them."""


class ChecksumError(ValueError):
    """A downloaded file does not match its published checksum."""


class DownloadError(OSError):
    """No mirror delivered a file."""
