"""Timing for the speed benchmark: frameworks in turn (:func:`alternate`), medians and spreads, and how busy
the machine was while a part ran (:class:`MachineLoad`)."""

from __future__ import annotations

import dataclasses
import os
import statistics
import time

from glassnet.bench import _frameworks as fw
from glassnet.bench._settings import BUSY_OTHER_CORES, BUSY_SPREAD
from glassnet.training.workplan import busy_cpu_seconds, own_cpu_seconds

# --- timing ------------------------------------------------------------------------------------------------------


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


class MachineLoad:
    """Measures how busy the machine was with *other* work while a part ran.

    Other processes' CPU use is the busy CPU time (``/proc/stat``) of the CPUs this process may run on minus
    this process's and its children's, per wall second, in cores; the load average (``os.getloadavg``) is recorded at both ends."""

    def __enter__(self):
        self._wall, self._busy, self._own = time.perf_counter(), busy_cpu_seconds(), own_cpu_seconds()
        self.load_start = _loadavg()
        return self

    def __exit__(self, *exc) -> None:
        wall = max(time.perf_counter() - self._wall, 1e-9)
        busy = busy_cpu_seconds()
        own = own_cpu_seconds() - self._own
        self.load_end = _loadavg()
        self.other_cores = (
            None if busy is None or self._busy is None else max(0.0, (busy - self._busy - own) / wall)
        )

    def report(self, times: dict[str, list[float]] | None = None) -> dict:
        spreads = {name: spread(t) for name, t in (times or {}).items()}
        worst = max(spreads.values(), default=0.0)
        reasons = []
        if self.other_cores is not None and self.other_cores > BUSY_OTHER_CORES:
            reasons.append(f"other processes used {self.other_cores:.2f} cores")
        if worst > BUSY_SPREAD:
            reasons.append(f"repeats spread by up to {100 * worst:.0f} %")
        return {
            "other_cores": self.other_cores,
            "loadavg": [self.load_start, self.load_end],
            "spread": spreads,
            "busy": bool(reasons),
            "why": "; ".join(reasons),
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
