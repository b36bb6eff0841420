"""Timing for the speed benchmark: frameworks in turn (:func:`alternate`), medians and spreads, and how busy
the machine was with other processes' work while a part ran (:class:`MachineLoad`, from ``/proc``)."""

from __future__ import annotations

import dataclasses
import os
import statistics
import time
from pathlib import Path

from glassnet.bench import _frameworks as fw
from glassnet.bench._settings import BUSY_OTHER_CORES, NOISY_SPREAD

# --- timing ------------------------------------------------------------------------------------------------------


def children_cpu() -> float | None:
    """CPU seconds of this process's ended and reaped children (``None`` where ``resource`` is missing)."""
    try:
        import resource
    except ImportError:  # not on Unix
        return None
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def alternate(
    tasks: dict, repeats: int, cpu: dict | None = None, cpu_seconds: dict | None = None
) -> dict[str, list[float]]:
    """Run every ``tasks[name]()`` ``repeats`` times, interleaved with a rotating order; seconds per call.

    ``cpu``, if given, receives per name the CPU seconds this process spent per wall second (summed over its
    threads: 2.0 means it kept two cores busy; well below 1 on one thread means other work took the core), and
    ``cpu_seconds`` the CPU seconds of every call (this process's threads, not its child processes)."""
    names = list(tasks)
    times: dict[str, list[float]] = {name: [] for name in names}
    cpu_calls: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start, start_cpu = time.perf_counter(), time.process_time()
            tasks[name]()
            times[name].append(time.perf_counter() - start)
            cpu_calls[name].append(time.process_time() - start_cpu)
    if cpu is not None:
        cpu.update({name: sum(cpu_calls[name]) / max(sum(times[name]), 1e-12) for name in names})
    if cpu_seconds is not None:
        cpu_seconds.update(cpu_calls)
    return times


def spread(values) -> float:
    """How far apart the repeats are: slowest over fastest, minus one (0.1: 10 %)."""
    values = list(values)
    return max(values) / min(values) - 1.0 if values and min(values) > 0 else 0.0


# --- how busy the machine was -----------------------------------------------------------------------------------

#: where the kernel's process and CPU accounting is read (Linux)
PROC = Path("/proc")


@dataclasses.dataclass(frozen=True)
class CpuReading:
    """CPU seconds spent so far (since boot), read from ``/proc`` (:func:`read_cpu`).

    ``machine``: the busy time of the CPUs this process may run on (user, nice, system, irq and softirq of
    ``/proc/stat``'s per-CPU lines); ``steal``: the time the hypervisor gave those CPUs to other guests;
    ``own``: this process and every live descendant (its threads, the data-parallel workers, a framework's
    subprocess and that one's workers), each with the children it has reaped (``utime + stime + cutime +
    cstime`` of ``/proc/<pid>/stat``), so that a child is ours whether it still runs or has ended;
    ``resolution``: how far the figures may be off, each being counted in whole clock ticks (a tick for every
    CPU and one for this process's tree)."""

    machine: float
    steal: float
    own: float
    resolution: float = 0.0


def read_cpu(proc: Path = PROC, pid: int | None = None, cpus=None) -> CpuReading | None:
    """The CPU seconds of :class:`CpuReading` now; ``None`` where ``proc/stat`` cannot be read (off Linux).

    ``pid`` is this process by default, ``cpus`` the CPUs it may run on (its affinity); tests pass a folder
    of recorded readings as ``proc``. Read between fits, when no child is being reaped (a child reaped while
    the process table is read could be missed or counted twice)."""
    try:
        stat = (proc / "stat").read_text()
    except OSError:
        return None
    pid = os.getpid() if pid is None else pid
    if cpus is None:
        cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    busy, steal = _machine_ticks(stat, cpus)
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    own = _own_ticks(_process_table(proc), pid)
    return CpuReading(busy / tick, steal / tick, own / tick, resolution=(len(set(cpus)) + 1) / tick)


def _machine_ticks(stat: str, cpus) -> tuple[int, int]:
    """Busy and stolen clock ticks of the CPUs ``cpus`` in the text of ``/proc/stat``."""
    allowed = {f"cpu{i}" for i in cpus}
    busy = steal = 0
    for line in stat.splitlines():
        fields = line.split()
        if not fields or fields[0] not in allowed:
            continue
        user, nice, system, _idle, _iowait, irq, softirq, stolen = (
            int(v) for v in (fields[1:] + ["0"] * 8)[:8]
        )
        busy += user + nice + system + irq + softirq
        steal += stolen
    return busy, steal


def _process_table(proc: Path) -> dict[int, tuple[int, int]]:
    """``pid -> (parent's pid, clock ticks of the process and of the children it reaped)`` of every process
    in ``proc`` (threads are inside their process's figures)."""
    table = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:  # the name may hold spaces and parentheses: the fields start after its last ')'
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            table[int(entry.name)] = (int(fields[1]), sum(int(v) for v in fields[11:15]))
        except (OSError, IndexError, ValueError):
            continue  # ended while the table was read
    return table


def _own_ticks(table: dict[int, tuple[int, int]], pid: int) -> int:
    """Clock ticks of ``pid`` and of all its descendants in ``table`` (found by their parents' pids: the
    kernel's ``/proc/<pid>/task/<tid>/children`` lists are missing on kernels built without them)."""
    children: dict[int, list[int]] = {}
    for child, (parent, _) in table.items():
        children.setdefault(parent, []).append(child)
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += table.get(p, (0, 0))[1]
        todo += children.get(p, [])
    return total


def other_cores(start: CpuReading | None, end: CpuReading | None, wall: float) -> tuple[float | None, float]:
    r"""Cores that other work kept busy on average between two readings ``wall`` seconds apart, and the
    part of it the hypervisor stole; ``(None, 0.0)`` without readings.

    .. math:: \text{others} = \frac{\Delta \text{busy} + \Delta \text{steal} - \Delta \text{own}
              - r_{start} - r_{end}}{\Delta t}

    with :math:`r` the readings' resolutions (whole clock ticks: over a short window a few ticks of rounding
    would otherwise read as other work). The load average is no evidence: it counts this process's threads
    and children."""
    if start is None or end is None:
        return None, 0.0
    wall = max(wall, 1e-9)
    stolen = max(0.0, end.steal - start.steal)
    others = (end.machine - start.machine) + stolen - (end.own - start.own)
    return max(0.0, others - start.resolution - end.resolution) / wall, stolen / wall


class MachineLoad:
    """Measures how busy the machine was with *other* work while a part ran (:func:`other_cores`).

    Only other processes' CPU time flags a part busy (more than :data:`BUSY_OTHER_CORES` cores on average):
    neither the load average, which counts this benchmark's own threads, nor the spread of the repeats, which
    its own work widens too (a thread pool still spinning after the previous row's call, first calls, forked
    workers). Both are recorded and printed beside the figures. ``read`` and ``clock`` are for tests."""

    def __init__(self, read=read_cpu, clock=time.perf_counter) -> None:
        self._read, self._clock = read, clock

    def __enter__(self):
        self._wall, self._start = self._clock(), self._read()
        self.load_start = _loadavg()
        return self

    def __exit__(self, *exc) -> None:
        end, wall = self._read(), self._clock() - self._wall
        self.other_cores, self.steal_cores = other_cores(self._start, end, wall)
        self.load_end = _loadavg()

    def report(self, times: dict[str, list[float]] | None = None) -> dict:
        """``other_cores`` (None: not measurable here), ``steal_cores``, ``loadavg`` at both ends, the
        ``spread`` of every row's repeats, whether the part was ``busy`` and ``why``."""
        spreads = {name: spread(t) for name, t in (times or {}).items()}
        busy = self.other_cores is not None and self.other_cores > BUSY_OTHER_CORES
        why = ""
        if busy:
            why = f"other processes used {self.other_cores:.2f} cores"
            if self.steal_cores >= 0.05:
                why += f" ({self.steal_cores:.2f} of them taken by the hypervisor)"
        return {
            "other_cores": self.other_cores,
            "steal_cores": self.steal_cores,
            "loadavg": [self.load_start, self.load_end],
            "spread": spreads,
            "noisy": max(spreads.values(), default=0.0) > NOISY_SPREAD,
            "busy": busy,
            "why": why,
        }


def _loadavg() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def median(values) -> float:
    return float(statistics.median(values))


def runners(frameworks, jobs: int, numpy_path: bool = False) -> dict:
    """The training callables by row name: glassnet with ``jobs`` data-parallel processes (and, when
    ``jobs > 1``, glassnet in one process beside it, its BLAS using the threads; with ``numpy_path``, glassnet
    with its compiled epoch off and with every compiled kernel off), JAX with a compiled epoch and with a compiled step, and the others."""
    out = {}
    for name in frameworks:
        if name == "glassnet":
            out[name] = lambda spec, X, y, epochs: fw.glassnet_fit(
                dataclasses.replace(spec, n_jobs=jobs), X, y, epochs
            )
            if jobs > 1:
                out[fw.ONE_PROCESS] = fw.glassnet_one_process_fit
            if numpy_path:  # numba is on: the per-step loop and the NumPy path beside the compiled epoch
                out[fw.STEP_LOOP] = lambda spec, X, y, epochs: fw.glassnet_step_loop(
                    fw.glassnet_fit, dataclasses.replace(spec, n_jobs=jobs), X, y, epochs
                )
                out[fw.NUMPY_PATH] = lambda spec, X, y, epochs: fw.glassnet_numpy_fit(
                    dataclasses.replace(spec, n_jobs=jobs), X, y, epochs
                )
        elif name == "jax":
            out["jax"] = fw.jax_fit
            out[fw.JAX_STEP] = fw.jax_step_fit
        else:
            out[name] = fw.FIT[name]
    return out


def _warm_up(fits: dict, spec, X, y, small: slice, epochs: int = 1) -> None:
    """First calls outside the timings (imports, first-call costs). JAX compiles one program per array shape,
    so its rows are warmed up on the very arrays they will be timed on."""
    for name, fit in fits.items():
        if name in ("jax", fw.JAX_STEP):
            fit(spec, X, y, 1)
        else:
            fit(spec, X[small], y[small], epochs)


def _frameworks(selected: list[str], notes: list[str]) -> list[str]:
    usable = []
    for name in selected:
        why = fw.available(name)
        if why is None:
            usable.append(name)
        else:
            notes.append(f"{name} skipped: {why}")
    return usable
