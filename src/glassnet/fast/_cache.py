"""numba's on-disk cache of glassnet's kernels, written by one process at a time and checked when read.

numba saves a compiled kernel in three moves (``numba.core.caching.IndexDataCacheFile.save``): it reads the
cache's index, picks the first free data file name, writes the index, then the data. Two processes that compile
two signatures of one kernel at the same moment (a float32 and a float64 fit started together, the workers of
Dask or joblib on a fresh install) can both pick the same file. The index then names one signature's file while
the file holds the other signature's code, and every later process that loads that signature fails ("can't
unbox array from PyObject", or worse) until the cache is cleared. numba's developers suggest a file lock for this
family of races (numba issue #10128). ``tests/nn/test_numba_cache.py`` makes that damage on purpose.

Here each of glassnet's kernels gets a cache that

- **saves under a lock**: ``fcntl.flock`` on a file in the cache's folder, so that no two processes interleave
  the three moves (where ``fcntl`` is missing, Windows, it saves as numba does);
- **checks what it loads**: an entry whose code was compiled for other argument types than the ones asked for
  is treated as missing, so the kernel is compiled again and the entry rewritten. A cache damaged by the race
  (or by a numba without this guard) heals itself on the next use.
"""

from __future__ import annotations

import contextlib
import os
from types import ModuleType

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

from numba.core import sigutils
from numba.core.caching import FunctionCache
from numba.core.dispatcher import Dispatcher

__all__ = ["GuardedCache", "guard"]

#: the lock file, in the folder of numba's cache files
LOCK_NAME = "glassnet-numba-cache.lock"


class GuardedCache(FunctionCache):
    """numba's cache of one function, saved under a lock and checked when loaded (see the module)."""

    def load_overload(self, sig, target_context):
        """The cached compilation for ``sig``, or ``None`` (missing, or compiled for other argument types)."""
        cres = super().load_overload(sig, target_context)
        if cres is None:
            return None
        wanted = tuple(sigutils.normalize_signature(sig)[0])
        return cres if tuple(cres.signature.args) == wanted else None

    def save_overload(self, sig, data):
        """Save as numba does, holding the cache folder's lock."""
        with _locked(self._cache_path):
            super().save_overload(sig, data)


@contextlib.contextmanager
def _locked(folder: str):
    """An exclusive ``flock`` on :data:`LOCK_NAME` in ``folder`` for the block (no lock where it cannot be had)."""
    handle = None
    if fcntl is not None:
        with contextlib.suppress(OSError):  # a read-only folder: numba will not save there either
            handle = open(os.path.join(folder, LOCK_NAME), "a")  # noqa: SIM115 (closed below)
            fcntl.flock(handle, fcntl.LOCK_EX)
    try:
        yield
    finally:
        if handle is not None:
            handle.close()  # closing releases the lock


def guard(module: ModuleType) -> None:
    """Give every cached numba kernel of ``module`` a :class:`GuardedCache`, before its first call."""
    for kernel in vars(module).values():
        cache = getattr(kernel, "_cache", None)
        if isinstance(kernel, Dispatcher) and type(cache) is FunctionCache:
            kernel._cache = GuardedCache(kernel.py_func)
