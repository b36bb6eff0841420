"""Atomic, safe file writing: the one function every glassnet writer uses (model files, reports, downloads).

:func:`write_atomic` writes to a temporary file in the destination's folder, flushes it to disk
(``fsync``), renames it over the destination (``os.replace``) and syncs the folder, so a crash, a kill or a
full disk leaves the old file or the new one, never half of one. What it guarantees besides:

- **Nothing but a regular file is replaced.** A destination that exists and is a folder, a device, a FIFO
  or a socket is refused with :class:`NotARegularFileError` (``glassnet train -o /dev/null`` cannot delete
  ``/dev/null``, even as root).
- **A symbolic link is written through**, as editors do: the file it points to is replaced and the link
  stays a link (a link to something that is not a regular file is refused like that thing).
- **Permissions**: an existing file keeps its mode (and, where allowed, its owner); a new file gets
  ``0o666`` minus the umask, as any file a program creates (not ``0o600``).
- **Temporary files** are named ``.<name>.<tag>.<pid>.<random>.gntmp``: unique (two writers to the same
  path or folder never collide), never longer than the file system allows (the name part is shortened
  for long names; ``<tag>`` is a hash of the full name), removed on any error (``KeyboardInterrupt``
  included), and recognisable: a temporary left by a killed process (``SIGKILL``) is removed by the next
  write to the same path once it is older than a minute and its process is gone (or older than a day).
  No other file is ever touched.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["NotARegularFileError", "check_writable", "open_regular", "write_atomic"]

_TEMP_SUFFIX = ".gntmp"
_TEMP_RE = re.compile(
    r"^\.(?P<stem>.*)\.(?P<tag>[0-9a-f]{8})\.(?P<pid>[0-9]{1,10})\.[0-9a-f]{8}\.gntmp$", re.S
)
_STALE_AFTER_S = 60.0  # a temp this old whose process is gone was left by a kill
_ABANDONED_AFTER_S = 86400.0  # this old: removed whatever its process id says (the id may be reused)


class NotARegularFileError(OSError):
    """The path exists and is not a regular file (a folder, device, FIFO or socket): not replaced, not read.

    ``kind`` names what it is (``"folder"``, ``"character device"``, ``"FIFO (named pipe)"``, ...)."""

    kind = "special file"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def _resolve(path: str | os.PathLike) -> tuple[Path, os.stat_result | None]:
    """The file to replace (a symlink's target) and its stat (``None`` if it does not exist yet)."""
    given = Path(path)
    target = Path(os.path.realpath(given)) if given.is_symlink() else given
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return target, None
    if not stat.S_ISREG(st.st_mode):
        via = f" (the symbolic link {given} points to {target})" if target != given else ""
        error = NotARegularFileError(
            f"refusing to write {target}{via}: it is a {_kind(st.st_mode)}, not a regular file; "
            "give the path of a file to create or replace"
        )
        error.kind = _kind(st.st_mode)
        raise error
    return target, st


def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


def _tag(name: str) -> str:
    return hashlib.sha256(os.fsencode(name)).hexdigest()[:8]


def _temp_name(path: Path, pid: int | None = None) -> str:
    """A unique temporary name for ``path``, in its folder, within the file system's name length limit."""
    pid = os.getpid() if pid is None else pid
    tail = f".{_tag(path.name)}.{pid}.{secrets.token_hex(4)}{_TEMP_SUFFIX}"
    budget = min(_name_max(path.parent) if path.parent.exists() else 255, 255) - 1 - len(tail)
    stem = path.name
    while len(os.fsencode(stem)) > budget:
        stem = stem[:-1]
    return f".{stem}{tail}"


def _is_temp_for(name: str, target_name: str) -> bool:
    """Whether ``name`` is one of :func:`write_atomic`'s temporary files for a file called ``target_name``."""
    match = _TEMP_RE.match(name)
    return bool(match) and match["tag"] == _tag(target_name) and target_name.startswith(match["stem"])


def _process_gone(pid: int) -> bool:
    if pid == os.getpid() or os.name == "nt":  # on Windows os.kill(pid, 0) would end the process
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, OSError):
        return False  # alive under another user, or not checkable: keep it
    return False


def _remove_stale(target: Path) -> None:
    """Remove temporaries for ``target`` left by killed writers (never another file)."""
    now = time.time()
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        if not entry.name.endswith(_TEMP_SUFFIX) or not _is_temp_for(entry.name, target.name):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        age = now - st.st_mtime
        pid = int(_TEMP_RE.match(entry.name)["pid"])
        if stat.S_ISREG(st.st_mode) and (
            age > _ABANDONED_AFTER_S or (age > _STALE_AFTER_S and _process_gone(pid))
        ):
            try:
                os.unlink(entry.path)
            except OSError:
                pass


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # not possible on this platform: the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(
    path: str | os.PathLike,
    write: Callable[[BinaryIO], object],
    *,
    check: Callable[[Path], object] | None = None,
) -> Path:
    """Write a file atomically: ``write(f)`` fills a temporary file that then replaces ``path``.

    Parameters
    ----------
    path : str or path-like
        Destination. Missing folders are created. If it is a symbolic link, the file it points to is
        replaced (the link stays); if it exists and is not a regular file, nothing is written.
    write : callable
        ``write(f)`` writes the content to ``f``, a binary file open for writing.
    check : callable, optional
        ``check(temp_path)`` runs on the complete, synced temporary file before it replaces ``path``
        (a download's checksum); an exception leaves ``path`` as it was.

    Returns
    -------
    pathlib.Path
        The file written (a symbolic link's target).

    Raises
    ------
    NotARegularFileError
        If ``path`` (or a link's target) is a folder, device, FIFO or socket.
    OSError
        If writing fails (a full disk, no permission); the temporary file is removed and ``path`` is
        unchanged.
    """
    target, st = _resolve(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    tmp = target.parent / _temp_name(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(tmp, flags, 0o666)  # the umask applies, as for any new file
    try:
        with os.fdopen(fd, "wb") as f:
            if st is not None:
                _copy_mode(f.fileno(), tmp, st)
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if check is not None:
            check(tmp)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(target.parent)
    return target


def _copy_mode(fd: int, tmp: Path, st: os.stat_result) -> None:
    """Give the temporary file the mode (and, where permitted, the owner) of the file it replaces."""
    if hasattr(os, "fchown") and (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
        try:
            os.fchown(fd, st.st_uid, st.st_gid)
        except OSError:
            pass  # not ours to give away: the new file is the writer's
    if hasattr(os, "fchmod"):
        os.fchmod(fd, stat.S_IMODE(st.st_mode))
    else:  # pragma: no cover - Windows
        os.chmod(tmp, stat.S_IMODE(st.st_mode))


def open_regular(path: str | os.PathLike) -> BinaryIO:
    """Open an existing regular file for reading; anything else is refused before a byte is read.

    ``/dev/zero`` would be read until memory runs out and opening a FIFO waits for a writer: the path's
    ``stat`` is checked first, the file is opened without blocking, and its ``fstat`` is checked again (the
    path may have been replaced in between).

    Raises
    ------
    FileNotFoundError
        If nothing is there.
    NotARegularFileError
        If it is a folder, device, FIFO or socket (``.kind`` says which).
    """

    def refuse(mode: int) -> NotARegularFileError:
        error = NotARegularFileError(f"{path} is a {_kind(mode)}, not a regular file")
        error.kind = _kind(mode)
        return error

    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise refuse(mode)
    flags = (
        os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    )
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise refuse(mode)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def check_writable(path: str | os.PathLike) -> None:
    """Check, before long work, that :func:`write_atomic` can write ``path`` (nothing is left behind).

    A small temporary file is written, synced and removed in the destination's folder, so a read-only
    folder or a full disk is reported now. A folder that does not exist yet is not created; its nearest
    existing parent must be writable.

    Raises
    ------
    NotARegularFileError
        If ``path`` exists and is not a regular file.
    OSError
        ``PermissionError`` and the like, with a message that starts ``cannot write <path>``.
    """
    target, _ = _resolve(path)
    folder = target.parent
    try:
        if not folder.exists():
            ancestor = folder
            while not ancestor.exists() and ancestor != ancestor.parent:
                ancestor = ancestor.parent
            if not ancestor.is_dir():
                raise NotADirectoryError(20, f"{ancestor} is not a folder")
            if not os.access(ancestor, os.W_OK | os.X_OK):
                raise PermissionError(13, f"no permission to create folders in {ancestor}")
            return
        tmp = folder / _temp_name(target)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            os.write(fd, b"\0" * 4096)
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(tmp)
    except NotARegularFileError:
        raise
    except OSError as exc:
        error = type(exc)(f"cannot write {target}: {exc.strerror or exc}")
        error.errno = exc.errno  # the message alone is printed; the errno stays for callers to test
        raise error from None
