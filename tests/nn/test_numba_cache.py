"""numba's on-disk cache of glassnet's kernels (glassnet.fast._cache): saved under a lock, checked when loaded.

The damage the guard prevents is made here on purpose: an index that names, for one signature, a data file that
holds another signature's code (what two processes compiling at the same moment can leave behind)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("numba")
fcntl = pytest.importorskip("fcntl")

from glassnet import fast  # noqa: E402
from glassnet.fast import _cache  # noqa: E402

KERNEL = """
from numba import njit

@njit(cache=True)
def total(x):
    s = x.dtype.type(0)
    for i in range(x.size):
        s += x[i] * x[i]
    return s
"""

USE = """
import sys
import numpy as np
sys.path.insert(0, {folder!r})
import {name} as kernel
if {guarded}:
    from glassnet.fast import _cache
    _cache.guard(kernel)
for dtype in (np.float64, np.float32):
    x = np.arange(5, dtype=dtype)
    print(float(kernel.total(x)), sum(kernel.total.stats.cache_hits.values()))
"""


def _kernel_module(tmp_path, name):
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(KERNEL))
    return tmp_path


def _use(folder, name, guarded):
    script = USE.format(folder=str(folder), name=name, guarded=guarded)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)


def test_glassnets_kernels_get_the_guarded_cache():
    assert fast._k() is not None
    from glassnet.fast import _numba

    kernels = [k for k in vars(_numba).values() if hasattr(k, "_cache") and hasattr(k, "py_func")]
    assert kernels and all(isinstance(k._cache, _cache.GuardedCache) for k in kernels)
    if fast.load_epochs():
        from glassnet.fast import _epoch

        assert isinstance(_epoch.run._cache, _cache.GuardedCache)


def test_a_save_holds_the_cache_folders_lock(tmp_path, monkeypatch):
    """While numba writes the index, another open of the lock file cannot take it."""
    from numba.core import caching

    folder = _kernel_module(tmp_path, "kernel_lock")
    monkeypatch.syspath_prepend(str(folder))
    import kernel_lock

    _cache.guard(kernel_lock)
    held = []
    original = caching.IndexDataCacheFile._save_index

    def save_index(self, overloads):
        with open(os.path.join(self._cache_path, _cache.LOCK_NAME), "a") as other:
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held.append(False)
                fcntl.flock(other, fcntl.LOCK_UN)
            except BlockingIOError:
                held.append(True)
        return original(self, overloads)

    monkeypatch.setattr(caching.IndexDataCacheFile, "_save_index", save_index)
    assert kernel_lock.total(np.arange(3, dtype=np.float32)) == 5.0
    assert held == [True]


def test_a_cache_holding_another_signatures_code_is_compiled_again(tmp_path):
    folder = _kernel_module(tmp_path, "kernel_mixed")
    first = _use(folder, "kernel_mixed", guarded=False)  # compiles float64 (.1.nbc), then float32 (.2.nbc)
    assert first.returncode == 0, first.stderr
    cache = folder / "__pycache__"
    data = sorted(p for p in cache.iterdir() if p.suffix == ".nbc")
    assert len(data) == 2
    swap = cache / "swap"
    os.replace(data[0], swap)  # each signature's index entry now names the other's code
    os.replace(data[1], data[0])
    os.replace(swap, data[1])

    damaged = _use(folder, "kernel_mixed", guarded=False)
    assert damaged.returncode != 0 and "unbox" in damaged.stderr  # what numba alone makes of it

    healed = _use(folder, "kernel_mixed", guarded=True)
    assert healed.returncode == 0, healed.stderr
    assert [line.split()[0] for line in healed.stdout.splitlines()] == ["30.0", "30.0"]
    again = _use(folder, "kernel_mixed", guarded=False)  # the entries were rewritten: numba alone loads them
    assert again.returncode == 0, again.stderr
    assert [line.split() for line in again.stdout.splitlines()] == [
        ["30.0", "1"],
        ["30.0", "2"],
    ]  # both from the cache
