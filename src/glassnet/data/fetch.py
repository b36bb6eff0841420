"""Download an IDX data set from its official mirror and verify the checksums.

Every file is downloaded to a temporary file in the destination folder, checked, and only then renamed
into place (:func:`glassnet._files.write_atomic`), so an interrupted or corrupted download never leaves a
file that looks valid; the files get the umask's permissions, as any download.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from glassnet._files import NotARegularFileError, write_atomic
from glassnet.data.errors import ChecksumError, DownloadError
from glassnet.data.sources import DataSource, FileSpec, default_fetch_dir, get_source

__all__ = ["fetch", "verify_file"]

_CHUNK = 1 << 16


def _digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _raw_sha256(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                h.update(chunk)
    except (OSError, EOFError):
        return "<not a valid gzip file>"
    return h.hexdigest()


def verify_file(path: str | os.PathLike, spec: FileSpec) -> None:
    """Check a file against the checksums of its :class:`FileSpec`.

    The file passes if its MD5 or SHA-256 equals the published one, or if the SHA-256 of its
    decompressed content equals ``spec.sha256_raw`` (a re-compressed copy of the same data).

    Raises
    ------
    ChecksumError
        If no checksum matches; the message gives the expected and the computed values.
    """
    path = Path(path)
    checks = []
    if spec.md5:
        got = _digest(path, "md5")
        if got == spec.md5:
            return
        checks.append(f"md5 {got} (expected {spec.md5})")
    if spec.sha256:
        got = _digest(path, "sha256")
        if got == spec.sha256:
            return
        checks.append(f"sha256 {got} (expected {spec.sha256})")
    if spec.sha256_raw:
        got = _raw_sha256(path)
        if got == spec.sha256_raw:
            return
        checks.append(f"sha256 of the decompressed data {got} (expected {spec.sha256_raw})")
    if not checks:
        return  # nothing published to check against
    raise ChecksumError(f"checksum mismatch for {spec.name}: " + "; ".join(checks))


def _download(url: str, f, timeout: float, progress: Callable[[int, int | None], None] | None):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        done = 0
        for chunk in iter(lambda: response.read(_CHUNK), b""):
            f.write(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    if total is not None and done != total:
        raise DownloadError(f"{url}: download incomplete, got {done} of {total} bytes")


def fetch(
    name: str | DataSource,
    dest: str | os.PathLike | None = None,
    base_url: str | None = None,
    *,
    timeout: float = 60.0,
    force: bool = False,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> Path:
    """Download the four files of an IDX data set and verify their checksums.

    Parameters
    ----------
    name : str or DataSource
        ``"fashion-mnist"``, ``"mnist"``, or a :class:`DataSource` (tests pass one with their own files).
    dest : str or path-like, optional
        Destination folder; default ``$GLASSNET_DATA/<name>`` or ``~/.cache/glassnet/data/<name>``.
    base_url : str, optional
        A mirror to use instead of the official ones (the file names are appended to it).
    timeout : float
        Seconds to wait for the server.
    force : bool
        Download again even if a verified file is already there.
    progress : callable, optional
        ``progress(file_name, bytes_done, bytes_total_or_None)``, called while downloading.

    Returns
    -------
    pathlib.Path
        The folder holding the verified files.

    Raises
    ------
    DownloadError
        If no mirror delivered a file.
    ChecksumError
        If a downloaded file does not match its published checksum (the file is not kept).
    """
    source = name if isinstance(name, DataSource) else get_source(name)
    dest = Path(dest) if dest is not None else default_fetch_dir() / source.name
    dest.mkdir(parents=True, exist_ok=True)
    mirrors = (base_url,) if base_url else source.mirrors
    for spec in source.files:
        final = dest / spec.name
        if final.exists() and not force:
            try:
                verify_file(final, spec)
                continue
            except ChecksumError:
                pass  # a stale or partial file: download it again
        errors = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + spec.name
            callback = None
            if progress is not None:

                def callback(done, total, _name=spec.name):
                    progress(_name, done, total)

            try:
                write_atomic(
                    final,
                    lambda f, _url=url, _cb=callback: _download(_url, f, timeout, _cb),
                    check=lambda tmp, _spec=spec: verify_file(tmp, _spec),
                )
                break
            except NotARegularFileError:
                raise  # the destination, not the mirror, is the problem
            except (urllib.error.URLError, OSError, DownloadError) as exc:
                reason = getattr(exc, "reason", exc)
                errors.append(f"{url}: {reason}")
        else:
            raise DownloadError(f"could not download {spec.name}: " + "; ".join(errors))
    return dest
