"""Tests of glassnet._files: atomic writes that never destroy what is at the path."""

import errno
import os
import stat
import threading
import time

import numpy as np
import pytest

from glassnet import _files
from glassnet._files import NotARegularFileError, check_writable, write_atomic
from glassnet.network import build_mlp


def _write(data: bytes):
    return lambda f: f.write(data)


def _umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old


def test_writes_and_replaces(tmp_path):
    path = tmp_path / "a.bin"
    assert write_atomic(path, _write(b"one")) == path
    write_atomic(path, _write(b"two"))
    assert path.read_bytes() == b"two"
    assert os.listdir(tmp_path) == ["a.bin"]


def test_refuses_a_folder(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(NotARegularFileError, match="is a folder, not a regular file"):
        write_atomic(tmp_path / "d", _write(b"x"))
    assert (tmp_path / "d").is_dir() and os.listdir(tmp_path) == ["d"]


def test_refuses_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(NotARegularFileError, match="is a FIFO"):
        write_atomic(fifo, _write(b"x"))
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and os.listdir(tmp_path) == ["pipe"]


def test_refuses_a_device():
    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null")
    with pytest.raises(NotARegularFileError, match="is a character device"):
        write_atomic("/dev/null", _write(b"x"))
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_writes_through_a_symlink(tmp_path):
    target = tmp_path / "real.bin"
    target.write_bytes(b"old")
    link = tmp_path / "link.bin"
    link.symlink_to(target.name)
    assert write_atomic(link, _write(b"new")) == target
    assert link.is_symlink() and target.read_bytes() == b"new"


def test_symlink_to_a_device_is_refused(tmp_path):
    link = tmp_path / "null"
    link.symlink_to("/dev/null")
    with pytest.raises(NotARegularFileError, match="character device"):
        write_atomic(link, _write(b"x"))
    assert link.is_symlink()


def test_keeps_an_existing_files_mode(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(b"old")
    os.chmod(path, 0o664)
    write_atomic(path, _write(b"new"))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o664


def test_new_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "a", _write(b"x"))
        os.umask(0o002)
        write_atomic(tmp_path / "b", _write(b"x"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "a").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(tmp_path / "b").st_mode) == 0o664


def test_model_files_follow_the_umask(tmp_path):
    from glassnet.io import save_model

    path = save_model(tmp_path / "m.npz", build_mlp([3, 2], seed=0))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~_umask()


def test_error_removes_the_temp_file_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "m.bin"
    path.write_bytes(b"old")

    def half_then_fail(f):
        f.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_atomic(path, half_then_fail)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["m.bin"]


def test_full_disk_dev_full_leaves_nothing(tmp_path, monkeypatch):
    # a full disk at flush/fsync time: the temp file's writes go to /dev/full
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    real_open = os.open
    opened = []

    def open_full(path, flags, mode=0o777, **kwargs):
        if os.path.basename(str(path)).endswith(_files._TEMP_SUFFIX):
            opened.append(path)
            os.close(real_open(path, flags, mode, **kwargs))  # the temp file exists, as on a full disk
            return real_open("/dev/full", os.O_WRONLY)
        return real_open(path, flags, mode, **kwargs)

    monkeypatch.setattr(_files.os, "open", open_full)
    with pytest.raises(OSError) as info:
        write_atomic(tmp_path / "m.bin", _write(b"x" * 100_000))
    assert info.value.errno == errno.ENOSPC
    assert opened and os.listdir(tmp_path) == []


def test_keyboard_interrupt_removes_the_temp_file(tmp_path):
    def interrupted(f):
        f.write(b"x")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "m.bin", interrupted)
    assert os.listdir(tmp_path) == []


def test_check_runs_on_the_complete_temp_file(tmp_path):
    seen = []

    def check(tmp):
        seen.append(tmp.read_bytes())
        raise ValueError("bad download")

    with pytest.raises(ValueError, match="bad download"):
        write_atomic(tmp_path / "f", _write(b"data"), check=check)
    assert seen == [b"data"] and os.listdir(tmp_path) == []


def test_a_255_byte_name_works(tmp_path):
    name = "m" * 251 + ".npz"
    assert len(name) == 255
    write_atomic(tmp_path / name, _write(b"x"))
    assert os.listdir(tmp_path) == [name]


def test_temp_names_are_short_unique_and_recognisable(tmp_path):
    path = tmp_path / ("x" * 255)
    names = {_files._temp_name(path) for _ in range(50)}
    assert len(names) == 50
    for n in names:
        assert len(os.fsencode(n)) <= 255 and _files._is_temp_for(n, path.name)
    assert not _files._is_temp_for(_files._temp_name(tmp_path / "other"), path.name)


def test_stale_temp_is_cleaned_by_the_next_save(tmp_path):
    path = tmp_path / "m.npz"
    stale = tmp_path / _files._temp_name(path, pid=2**22 + 12345)  # a process that no longer exists
    stale.write_bytes(b"left by a SIGKILL")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    fresh = tmp_path / _files._temp_name(path, pid=2**22 + 12346)  # a writer that may still be at work
    fresh.write_bytes(b"being written")
    lookalikes = [".m.npz.tmp", ".m.npz.abc.tmp", "m.npz.tmp", ".other.npz.0.0.gntmp", "notes.txt"]
    for name in lookalikes:
        (tmp_path / name).write_bytes(b"keep")
        os.utime(tmp_path / name, (old, old))
    write_atomic(path, _write(b"x"))
    assert not stale.exists()
    assert fresh.exists()
    assert all((tmp_path / name).exists() for name in lookalikes)


def test_stale_temp_of_a_live_process_is_kept(tmp_path):
    path = tmp_path / "m.npz"
    live = tmp_path / _files._temp_name(path, pid=os.getpid())
    live.write_bytes(b"a slow writer in this process")
    old = time.time() - 3600
    os.utime(live, (old, old))
    write_atomic(path, _write(b"x"))
    assert live.exists()


def test_concurrent_writers_to_one_path_all_succeed(tmp_path):
    path = tmp_path / "r.html"
    errors = []

    def writer(k):
        try:
            for _ in range(20):
                write_atomic(path, _write(str(k).encode() * 1000))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    data = path.read_bytes()
    assert len(set(data)) == 1 and len(data) == 1000
    assert os.listdir(tmp_path) == ["r.html"]


def test_check_writable(tmp_path):
    check_writable(tmp_path / "new" / "m.npz")  # a folder that will be created
    assert not (tmp_path / "new").exists() or os.listdir(tmp_path / "new") == []
    with pytest.raises(NotARegularFileError):
        check_writable(tmp_path)
    os.mkfifo(tmp_path / "p")
    with pytest.raises(NotARegularFileError):
        check_writable(tmp_path / "p")
    assert sorted(os.listdir(tmp_path)) == ["p"] or sorted(os.listdir(tmp_path)) == ["new", "p"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_check_writable_read_only_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o555)
    try:
        with pytest.raises(PermissionError, match="cannot write"):
            check_writable(ro / "m.npz")
    finally:
        os.chmod(ro, 0o755)


def test_check_writable_full_disk(tmp_path, monkeypatch):
    real_write = os.write

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_files.os, "write", full)
    with pytest.raises(OSError, match="cannot write .*No space left"):
        check_writable(tmp_path / "m.npz")
    monkeypatch.setattr(_files.os, "write", real_write)
    assert os.listdir(tmp_path) == []


def test_save_model_refuses_a_fifo(tmp_path):
    from glassnet.io import save_model

    os.mkfifo(tmp_path / "m.npz")
    with pytest.raises(NotARegularFileError):
        save_model(tmp_path / "m.npz", build_mlp([3, 2], seed=0))
    assert stat.S_ISFIFO(os.lstat(tmp_path / "m.npz").st_mode)


def test_save_model_through_symlink_updates_the_target(tmp_path):
    from glassnet.io import load_model, save_model

    target = tmp_path / "models" / "v2.npz"
    target.parent.mkdir()
    save_model(target, build_mlp([3, 2], seed=0))
    (tmp_path / "current.npz").symlink_to(target)
    net = build_mlp([3, 2], seed=1)
    save_model(tmp_path / "current.npz", net)
    assert (tmp_path / "current.npz").is_symlink()
    W = load_model(target).network.parameters()["layers.0.W"]
    np.testing.assert_array_equal(W, net.parameters()["layers.0.W"])


def test_write_report_concurrent_writers(tmp_path):
    from glassnet.report.html import Section, write_report

    errors = []

    def writer(k):
        try:
            for _ in range(15):
                write_report(tmp_path / "report.html", f"t{k}", [Section("s", ["x"])])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert os.listdir(tmp_path) == ["report.html"]
    assert stat.S_IMODE(os.stat(tmp_path / "report.html").st_mode) == 0o666 & ~_umask()


def test_fetched_files_follow_the_umask(tmp_path, monkeypatch):
    import hashlib
    import importlib
    import io as _io

    from glassnet.data.sources import DataSource, FileSpec

    contents = {f"f{k}.gz": bytes([k]) * 100 for k in range(4)}
    specs = [FileSpec(name, md5=hashlib.md5(data).hexdigest()) for name, data in contents.items()]

    class Response(_io.BytesIO):
        headers = {}

    def urlopen(url, timeout):
        return Response(contents[url.rsplit("/", 1)[1]])

    fetch_module = importlib.import_module("glassnet.data.fetch")
    monkeypatch.setattr(fetch_module.urllib.request, "urlopen", urlopen)
    source = DataSource("mnist", ("http://127.0.0.1:9/",), *specs, class_names=tuple("0123456789"))
    old = os.umask(0o022)
    try:
        dest = fetch_module.fetch(source, tmp_path / "d")
    finally:
        os.umask(old)
    assert sorted(os.listdir(dest)) == sorted(contents)
    for name in contents:
        assert stat.S_IMODE(os.stat(dest / name).st_mode) == 0o644
        assert (dest / name).read_bytes() == contents[name]


def test_check_writable_permission_denied(tmp_path, monkeypatch):
    def denied(path, flags, mode=0o777, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(_files.os, "open", denied)
    with pytest.raises(PermissionError, match=r"cannot write .*m\.npz: Permission denied"):
        check_writable(tmp_path / "m.npz")


def test_train_checks_the_output_before_training(tmp_path, monkeypatch, capsys):
    import glassnet.data
    from glassnet.cli import main

    def no_training(*args, **kwargs):
        raise AssertionError("the data was loaded before the output was checked")

    monkeypatch.setattr(glassnet.data, "load_dataset", no_training)
    os.mkfifo(tmp_path / "m.npz")
    code = main(["train", "--dataset", "digits", "-o", str(tmp_path / "m.npz"), "--no-report"])
    assert code == 1
    assert "is a FIFO (named pipe), not a regular file" in capsys.readouterr().err
    assert stat.S_ISFIFO(os.lstat(tmp_path / "m.npz").st_mode)


def test_sigkill_during_a_save_keeps_the_old_file_and_the_next_save_cleans_up(tmp_path):
    import signal
    import subprocess
    import sys

    path = tmp_path / "m.npz"
    path.write_bytes(b"old model")
    script = (
        "import importlib.util, sys, time\n"
        f"spec = importlib.util.spec_from_file_location('f', {_files.__file__!r})\n"
        "f = importlib.util.module_from_spec(spec); spec.loader.exec_module(f)\n"
        "def slow(out):\n"
        "    out.write(b'new' * 100000); out.flush()\n"
        "    print('writing', flush=True); time.sleep(60)\n"
        f"f.write_atomic({str(path)!r}, slow)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "writing\n"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    temps = [n for n in os.listdir(tmp_path) if _files._is_temp_for(n, path.name)]
    assert path.read_bytes() == b"old model" and len(temps) == 1
    old = time.time() - 120
    os.utime(tmp_path / temps[0], (old, old))
    write_atomic(path, _write(b"new model"))
    assert os.listdir(tmp_path) == ["m.npz"] and path.read_bytes() == b"new model"
