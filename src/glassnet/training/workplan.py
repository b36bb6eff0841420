r"""How a fit uses the cores when ``n_jobs`` is left to glassnet (``None``, the default).

Two decisions, made at the start of each fit:

1. **Shards** (:func:`choose_shards`): how many pieces each batch is cut into (:mod:`glassnet.training.parallel`).
   It depends on the work, on the cores this process may use and on whether it may start processes, never
   on how busy the cores are:

   .. math:: S = \min\left(\text{cores},\ 8,\ \left\lfloor \frac{6\, n_{rows} |W|}{F_{shard}} \right\rfloor,\
             \left\lfloor \frac{n_{rows}}{R_{shard}} \right\rfloor\right)

   :math:`6\, n_{rows} |W|` is a step's floating-point work (forward, and the two products of the backward
   pass, for every weight :math:`|W|` and row), :math:`F_{shard}` (:data:`SHARD_FLOPS`) the least work a
   shard must carry to pay for its two hand-overs per step, :math:`R_{shard}` (:data:`SHARD_ROWS`) the
   fewest rows it may have. Tiny steps get one shard: the plain one-process path. So do steps whose largest
   matrix product is large enough for BLAS threads (:data:`glassnet.training.threads.LARGE_PRODUCT_FLOPS`), which
   share such a product better than processes share the rows. So does a fit too short
   to pay for starting the workers (about 20 ms): one whose steps are estimated at under
   :data:`MIN_FIT_SECONDS` in all (:func:`fit_seconds`). And so do all fits where processes cannot be
   started or are not welcome: off Linux, in a daemon process (a multiprocessing pool's worker), outside the
   main thread (a thread pool's or a web server's), or where BLAS has been limited to one thread
   (``OMP_NUM_THREADS=1``, as joblib's and Dask's workers set it, or ``threadpoolctl``): those callers share
   the cores out themselves.
2. **Processes** (:func:`choose_processes`): how many of the shards run at once, one process each, up to
   the cores that are idle now. Since every shard has its own random stream and the gradients are summed
   in shard order, the processes change the time and not the model: a busy machine trains the same
   weights in one process, only slower (the shards' smaller products and extra calls cost 10-30 % over the
   plain path). The processes follow the machine during the fit too (:class:`Processes`): every
   :data:`REPLAN_SECONDS`, at the start of an epoch, the cores that other work used since the last look
   decide again, and the session is reopened with more or fewer processes; two processes that wait for
   each other on a core another job has taken run many times slower than one.

``n_jobs=1`` always trains the plain one-process path, the same model on every machine with the same BLAS;
an explicit ``n_jobs=k`` uses ``k`` shards in ``k`` processes.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from glassnet.training import parallel
from glassnet.training.threads import LARGE_PRODUCT_FLOPS, callers_blas_threads, largest_product_flops

__all__ = [
    "MIN_FIT_SECONDS",
    "SHARD_FLOPS",
    "SHARD_ROWS",
    "choose_processes",
    "choose_shards",
    "fit_seconds",
    "idle_cores",
    "step_flops",
]

#: the least floating-point work of a shard's step. A data-parallel step costs two hand-overs between the
#: processes and the update's extra pass, about 60 us in all on the 2-core machine (Intel Xeon, idle), so
#: small steps lose: fits grouped by setting, two processes took 2.2 times one's time on 0.23 MFLOP steps
#: (digits 64-16-10, batches of 32), 1.6 on 2.8 MFLOP, 1.16 on 9 MFLOP (64-100-10, batches of 200), 0.94 on
#: 38 MFLOP (64-256-128-10, batches of 128), 0.67 on 150 MFLOP, 0.59 on the lab's full batch (98 MFLOP).
#: (Fits alternated between the settings gave other ratios: a one-process fit right after a data-parallel
#: one ran up to 35 % slower, which made small steps look worth sharding.) Above the threads' threshold
#: the other way pays: 784-1024-1024-10 with batches of 64 (a 134 MFLOP product) took 0.55 s an epoch of
#: 6,400 rows in one process on two BLAS threads and 0.64 s in two processes; with batches of 256 (411
#: MFLOP) it ran at 73 % of NumPy's two-thread matrix-product rate on threads, at 66 % in two processes.
SHARD_FLOPS = 2e7

#: the fewest rows a shard may have
SHARD_ROWS = 16

#: the most shards a batch is cut into, however many cores (each process adds a hand-over to every step;
#: measured on 2 cores only, so more are not assumed to pay)
MAX_SHARDS = 8

#: the shortest fit (its steps' estimated seconds, :func:`fit_seconds`) worth starting workers for: a
#: data-parallel session takes about 20 ms to start, and saves about a fifth of the time
MIN_FIT_SECONDS = 0.2

#: the estimate of a step's time: a fixed cost (the Python calls of a small network's step) plus its
#: floating-point work at a modest rate for one core
STEP_SECONDS, FLOP_RATE = 1e-4, 3e10

#: how long :func:`idle_cores` watches the machine (seconds) and how long its answer is reused
IDLE_WINDOW, IDLE_REUSE = 0.02, 2.0

#: how often (seconds) a fit with ``n_jobs=None`` looks again at the idle cores, at the start of an epoch
REPLAN_SECONDS = 1.0

_idle_cache: dict[str, float] = {}


def step_flops(net, rows: int) -> float:
    r"""Floating-point operations of a training step on ``rows`` rows, :math:`6\, rows\, |W|`, :math:`|W|`
    the parameters that layers declare as weights (``Layer.decay``)."""
    weights = sum(layer.params[name].size for layer in net.layers for name in layer.decay)
    return 6.0 * rows * weights


def fit_seconds(net, rows: int, steps: int) -> float:
    """A rough estimate of ``steps`` steps of ``rows`` rows in one process: :data:`STEP_SECONDS` each plus
    their floating-point work at :data:`FLOP_RATE`."""
    return steps * (STEP_SECONDS + step_flops(net, rows) / FLOP_RATE)


def choose_shards(net, optimizer, rows: int, steps: int, callbacks=()) -> int:
    """Shards for a fit of ``steps`` steps of ``rows`` rows (see the module's formula); 1 for a fit too short
    to pay for the workers, where shards cannot work (a network with batch statistics, an optimizer without
    declared state, a callback that looks at the gradient before the update: ``on_gradients``, which only
    the one-process path calls) or where processes may not be started (see the module's docstring)."""
    cores = parallel.available_cpus()
    if cores < 2 or parallel.shard_unsupported_reason(net, optimizer) is not None:
        return 1
    if (
        fit_seconds(net, rows, steps) < MIN_FIT_SECONDS
        or largest_product_flops(net, rows) >= LARGE_PRODUCT_FLOPS
    ):
        return 1
    shards = min(cores, MAX_SHARDS, int(step_flops(net, rows) // SHARD_FLOPS), rows // SHARD_ROWS)
    if shards < 2:  # before _may_fork, which asks threadpoolctl about every loaded library (a millisecond)
        return 1
    if any(callable(getattr(cb, "on_gradients", None)) for cb in callbacks) or not _may_fork():
        return 1
    return shards


def _may_fork() -> bool:
    """Whether this process may start data-parallel workers: it can fork, it is in the main thread, and
    BLAS has not been limited to one thread by the caller."""
    if parallel.fork_unsupported_reason() is not None:
        return False
    return threading.current_thread() is threading.main_thread() and not _blas_limited_to_one()


def choose_processes(shards: int) -> int:
    """Processes for ``shards`` shards: as many as there are idle cores (:func:`idle_cores`), at most
    ``shards``."""
    return processes_for(idle_cores(), shards) if shards >= 2 else 1


def processes_for(idle: float, shards: int) -> int:
    """One process per idle core (a core three quarters idle counts), at least one, at most ``shards``."""
    return max(1, min(shards, int(idle + 0.25)))


class Processes:
    """The data-parallel session of a fit, its processes following the idle cores when ``follow`` is set.

    ``open_session(processes)`` returns a session (a :class:`glassnet.training.parallel.DataParallel`, or a context
    whose value is ``None`` for one shard). :meth:`for_epoch`, called at the start of each epoch, returns the
    session to use; every :data:`REPLAN_SECONDS` it measures how many cores other work used since the last
    look (``/proc/stat``, less this process's and its workers' own time) and, if the processes should change,
    closes the session and opens one with the new number. The weights, the optimizer's state and the random
    streams (a function of the shard and the epoch) carry over, so the model is the one a single session
    would have trained.
    """

    def __init__(self, open_session, shards: int, processes: int, follow: bool) -> None:
        self._open, self.shards, self.processes = open_session, shards, processes
        self.follow = follow and shards > 1
        self.session, self._context, self.reopened = None, None, 0

    def __enter__(self) -> Processes:
        self._start(self.processes)
        return self

    def __exit__(self, *exc) -> None:
        self._stop()

    def for_epoch(self):
        """The session for the next epoch (``None``: one shard, the plain path)."""
        if self.follow and time.monotonic() - self._since >= REPLAN_SECONDS:
            others = self._others()
            wanted = self.processes if others is None else processes_for(idle_given(others), self.shards)
            if wanted != self.processes:
                self._stop()
                self.reopened += 1
                self._start(wanted)
            else:
                self._look()
        return self.session

    def _start(self, processes: int) -> None:
        self.processes = processes
        self._context = self._open(processes)
        self.session = self._context.__enter__()
        if self.follow:  # a window of measurement only where for_epoch reads it (it reads /proc/stat)
            self._look()

    def _stop(self) -> None:
        if self._context is not None:
            context, self._context, self.session = self._context, None, None
            context.__exit__(None, None, None)

    def _look(self) -> None:
        """Start a new window of measurement, with this session's workers as this process's own."""
        self._window = _Window(getattr(self.session, "worker_pids", []))
        self._since = self._window.since

    def _others(self) -> float | None:
        """Cores that other work used on average since the last look (``None`` off Linux)."""
        return self._window.others()


class _Window:
    """A window of measurement: the cores that other work used on average since it began (``/proc/stat``,
    less the CPU time of this process and of ``pids``)."""

    def __init__(self, pids=()) -> None:
        self.pids = list(pids)
        self.since = time.monotonic()
        self.busy, self.own = busy_cpu_seconds(), _cpu_seconds_of(self.pids)

    def others(self) -> float | None:
        """``None`` off Linux."""
        busy = busy_cpu_seconds()
        if busy is None or self.busy is None:
            return None
        wall = max(time.monotonic() - self.since, 1e-9)
        return max(0.0, (busy - self.busy) - (_cpu_seconds_of(self.pids) - self.own)) / wall


def _cpu_seconds_of(pids) -> float:
    """CPU seconds of this process and of the processes ``pids`` (its data-parallel workers)."""
    t = os.times()
    total = t.user + t.system
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total


def _blas_limited_to_one() -> bool:
    """Whether BLAS runs on one thread here by the caller's choice (environment or threadpoolctl; glassnet's
    own limits for small products, :mod:`glassnet.training.threads`, do not count)."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(name, "").strip() == "1":
            return True
    return callers_blas_threads() == 1


def idle_cores() -> float:
    """Cores of this process's CPUs that nothing else used over the last :data:`IDLE_WINDOW` seconds
    (``/proc/stat``, less this process's own time; its children, a pool of the caller's say, count as
    others); reused for :data:`IDLE_REUSE` seconds. Off Linux, every core counts as idle.

    ``/proc/stat`` counts in ticks of 10 ms, half a core of a 20 ms window: where the window saw any other
    work, it is watched as long again, so that one stray tick (a kernel thread, a previous fit's workers
    leaving) costs a quarter of a core, not the second process of an idle machine."""
    now = time.monotonic()
    if now - _idle_cache.get("at", -1e9) < IDLE_REUSE:
        return _idle_cache["cores"]
    window, cpus = _Window(), float(parallel.available_cpus())
    if window.busy is None:
        return cpus
    time.sleep(IDLE_WINDOW)
    cores = idle_given(window.others())
    if cores < cpus:
        time.sleep(IDLE_WINDOW)
        cores = idle_given(window.others())  # the average over both windows
    _idle_cache.update(at=time.monotonic(), cores=cores)
    return cores


def idle_given(others: float) -> float:
    """Idle cores when other work uses ``others`` of the CPUs this process may run on, at most the cores it
    may use (:func:`glassnet.training.parallel.available_cpus`: a container's quota caps them)."""
    return max(0.0, min(float(parallel.available_cpus()), parallel.affinity_cpus() - others))


def busy_cpu_seconds() -> float | None:
    """CPU seconds that all processes have used since boot on the CPUs this process may run on
    (``/proc/stat``), or ``None`` off Linux."""
    try:
        lines = Path("/proc/stat").read_text().splitlines()
        allowed = {f"cpu{i}" for i in os.sched_getaffinity(0)}
    except (OSError, AttributeError):
        return None
    total = 0
    for line in lines:
        fields = line.split()
        if not fields or fields[0] not in allowed:
            continue
        user, nice, system, _idle, _iowait, irq, softirq, steal = (
            int(v) for v in (fields[1:] + ["0"] * 8)[:8]
        )
        total += user + nice + system + irq + softirq + steal
    return total / os.sysconf("SC_CLK_TCK")
