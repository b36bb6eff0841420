"""The processes of a data-parallel session (:mod:`glassnet.training.parallel`): forking them, the signals
that start each phase in every worker and report it done, the error a worker sends back, and how the caller
notices a worker that died or was stopped.

The caller is process 0; workers ``1 .. n - 1`` are forked with the session's data and network and run
``serve(j)``: wait for ``go[j]``, run the phase the control block names, post ``done[j]``. The caller posts
every ``go``, runs its own part and waits for every ``done``; a worker's exception is pickled into shared
memory and raised by the caller. Finished workers are reaped in the background, so none is left a zombie.
"""

from __future__ import annotations

import mmap
import multiprocessing
import os
import pickle
import threading
import time
import warnings
from collections.abc import Callable

import numpy as np

#: how long a waiting process polls before it sleeps on the semaphore (seconds)
SPIN_SECONDS = 0.002

#: how long a worker may be stopped (SIGSTOP) before the fit gives up on it (seconds)
STOPPED_SECONDS = 10.0

#: how long the background reaper waits for a closed session's workers to exit (seconds)
REAP_SECONDS = 30.0


def _shared(n: int, dtype) -> np.ndarray:
    """A 1-D array in anonymous shared memory: forked children see the parent's writes and vice versa."""
    dtype = np.dtype(dtype)
    # MAP_POPULATE: the kernel allocates every page at once, faster than a fault on each first touch
    flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
    return np.frombuffer(mmap.mmap(-1, max(1, n) * dtype.itemsize, flags=flags), dtype=dtype, count=n)


def _is_stopped(pid: int) -> bool:
    """Whether process ``pid`` is stopped (state ``T`` or ``t`` in ``/proc/<pid>/stat``; False off Linux)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] in (b"T", b"t")


class _Signal:
    """A semaphore whose waiter polls for ``SPIN_SECONDS`` before it sleeps."""

    def __init__(self, ctx, spin: bool) -> None:
        self._sem, self._spin = ctx.Semaphore(0), spin

    def post(self) -> None:
        self._sem.release()

    def wait(self, alive=None, gone=None) -> None:
        """Wait for a post; while waiting, ``alive()`` is asked every second, and when it is False a
        ``RuntimeError`` says ``gone()`` (what is gone)."""
        if self._spin:
            deadline = time.perf_counter() + SPIN_SECONDS
            while time.perf_counter() < deadline:
                if self._sem.acquire(False):
                    return
        while not self._sem.acquire(timeout=1.0):
            if alive is not None and not alive():
                raise RuntimeError(
                    gone() if callable(gone) else "the other side of a data-parallel session is gone"
                )


class _ErrorSlot:
    """A worker's exception for the caller to raise: pickled into shared memory (8 bytes of length, then the
    bytes); an unpicklable or too large one travels as its text."""

    def __init__(self, size: int = 1 << 16) -> None:
        self._buffer = _shared(size, np.uint8)

    def put(self, exc: BaseException) -> None:
        try:
            blob = pickle.dumps(exc)
        except Exception:  # noqa: BLE001 - an unpicklable exception travels as its text
            blob = pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
        if len(blob) > self._buffer.size - 8:
            blob = pickle.dumps(RuntimeError(f"{type(exc).__name__}: {str(exc)[:4000]}"))
        self._buffer[:8] = np.frombuffer(np.int64(len(blob)).tobytes(), dtype=np.uint8)
        self._buffer[8 : 8 + len(blob)] = np.frombuffer(blob, dtype=np.uint8)

    def take(self) -> BaseException:
        size = int(np.frombuffer(self._buffer[:8].tobytes(), dtype=np.int64)[0])
        try:
            return pickle.loads(self._buffer[8 : 8 + size].tobytes())
        except Exception:  # noqa: BLE001
            return RuntimeError("A data-parallel worker failed and its error could not be read back.")


class _StopWatch:
    """How long each worker has been stopped (SIGSTOP, a debugger): after :data:`STOPPED_SECONDS` the fit
    raises a ``RuntimeError`` that names the worker, rather than waiting for it forever."""

    def __init__(self) -> None:
        self._since: dict[int, float] = {}  # worker -> when it was first seen stopped

    def check(self, j: int, pid: int) -> None:
        now = time.monotonic()
        if not _is_stopped(pid):
            self._since.pop(j, None)
            return
        since = self._since.setdefault(j, now)
        if now - since >= STOPPED_SECONDS:
            raise RuntimeError(
                f"data-parallel worker {j} (process {pid}) is stopped and has not answered for "
                f"{now - since:.0f} s (was it sent SIGSTOP, or paused in a debugger?). Resume it with "
                f"`kill -CONT {pid}`, or train with n_jobs=1."
            )


def _how_it_ended(exitcode: int | None) -> str:
    """A worker's end in words: ``killed by SIGKILL``, ``exited with status 1``."""
    if exitcode is None:
        return "ended"
    if exitcode < 0:
        try:
            import signal

            return f"was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"was killed by signal {-exitcode}"
    return f"exited with status {exitcode}"


class Workers:
    """The ``n - 1`` forked workers of a session and the signals between them and the caller.

    Parameters
    ----------
    n : int
        Processes, the caller included.
    spin : bool
        Whether a waiting process polls briefly before it sleeps (when there is a core for each process).
    """

    def __init__(self, n: int, spin: bool) -> None:
        ctx = multiprocessing.get_context("fork")
        self.n, self._ctx = n, ctx
        self.go = [_Signal(ctx, spin) for _ in range(n)]
        self.done = [_Signal(ctx, spin) for _ in range(n)]
        self.error = _ErrorSlot()
        self.parent = os.getpid()
        self.procs: list = []
        self.broken = False  # a worker died, stopped answering or the caller was interrupted mid-phase
        self._stop_watch = _StopWatch()
        self._dead = None  # (j, pid, exitcode) of the first worker found dead

    def start(self, serve: Callable[[int], None]) -> None:
        """Fork workers ``1 .. n - 1``, each running ``serve(j)``."""
        with warnings.catch_warnings():
            # Python >= 3.12 warns about fork in a process with threads (BLAS pools); the children run
            # only NumPy code on their own data and never take a lock those threads might hold
            warnings.simplefilter("ignore", DeprecationWarning)
            for j in range(1, self.n):
                proc = self._ctx.Process(target=serve, args=(j,), daemon=True)
                proc.start()
                self.procs.append(proc)

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc in self.procs]

    # --- the caller's side -------------------------------------------------------------------------------

    def run_phase(self, here: Callable[[], None]) -> None:
        """Start the phase in every worker, run ``here()`` in the caller, and wait until every worker is done."""
        for j in range(1, self.n):
            self.go[j].post()
        try:
            here()
        finally:
            try:
                for j in range(1, self.n):
                    self.done[j].wait(self.alive, self._what_is_gone)
            except BaseException:
                self.broken = True  # a worker may still post: the signals are out of step
                raise

    def alive(self) -> bool:
        """Whether every worker still runs; one stopped too long raises (see :class:`_StopWatch`)."""
        for j, proc in enumerate(self.procs, start=1):
            if not proc.is_alive():
                self._dead = (j, proc.pid, proc.exitcode)
                return False
            try:
                self._stop_watch.check(j, proc.pid)
            except RuntimeError:
                self.broken = True
                raise
        return True

    def _what_is_gone(self) -> str:
        if self._dead is None:
            return "the other side of a data-parallel session is gone"
        j, pid, code = self._dead
        return (
            f"data-parallel worker {j} (process {pid}) {_how_it_ended(code)} during a training step, so the "
            "other side of a data-parallel session is gone (out of memory? the kernel log says who killed it); "
            "train again, or with n_jobs=1"
        )

    def stop(self) -> None:
        """Post every worker's ``go`` (after the caller set the stop phase), end those that stopped answering,
        and reap them all in the background: the caller does not wait, and no zombie stays behind."""
        for j in range(1, len(self.procs) + 1):
            self.go[j].post()
        if self.broken:  # a worker that stopped answering will not read the stop signal: end it
            for proc in self.procs:
                if proc.is_alive():
                    proc.kill()
        if self.procs:
            # a worker's exit (unmapping its copy of this process) takes ~20 ms that nobody needs to wait for
            threading.Thread(
                target=_reap, args=(list(self.procs),), daemon=True, name="glassnet-reaper"
            ).start()

    # --- a worker's side ---------------------------------------------------------------------------------

    def wait_for_phase(self, j: int) -> bool:
        """In worker ``j``: wait for the next phase; False when the caller died without closing the session."""
        try:
            self.go[j].wait(lambda: os.getppid() == self.parent)
        except RuntimeError:
            return False
        return True


def _reap(procs) -> None:
    """Join finished workers (so they do not stay zombies until the next fit)."""
    deadline = time.monotonic() + REAP_SECONDS
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
