r"""Speed benchmark: glassnet, scikit-learn's ``MLPClassifier``, PyTorch and JAX (CPU) side by side.

Run ``python -m glassnet.bench.speed`` (or ``glassnet bench speed``); ``--quick`` finishes in a few minutes.
Every task is run by each framework in turn, the order rotating from one repeat to the next, and the median of
the repeats is reported, so that a busy machine slows all of them alike. Each part also records how busy the
machine was while it ran (the CPU time other processes took, the load average, the spread of the repeats) and
the report says so next to the figures when they cannot be trusted.

=====  ==============================================================================================
(a)    the lab: digits, 64-80-70-10 sigmoid, full-batch gradient descent: milliseconds per epoch
(b)    Fashion-MNIST, 784-256-128-10 ReLU, Adam (lr 1e-3), batch 128: seconds per epoch, test accuracy
(c)    wide MLP 784-1024-1024-10 ReLU, plain SGD, batch 256: achieved GFLOP/s against the GFLOP/s of the
       very same matrix products done back to back by NumPy in the same run (the physical limit here)
(d)    prediction throughput (samples per second) at batch 1 and batch 1,024
(e)    the estimators with their defaults (``n_jobs`` unset): a wide network with batch 64, the lab's network
       through ``MLPClassifier``, a small network with ``batch_size='auto'``
(mem)  peak memory of one epoch of (b), each framework in a fresh process
=====  ==============================================================================================

Rows: ``glassnet`` (its ``Trainer``, ``--jobs`` data-parallel processes), ``glassnet, 1 process``,
``glassnet, NumPy path`` (the compiled kernels of :mod:`glassnet.fast` switched off: what they gain),
``jax`` (each epoch one XLA program, ``jax.jit`` of a ``lax.scan`` over the steps) and ``jax, jit step``
(one jitted step per batch), ``torch`` and ``sklearn``.

Fairness: the same architecture, batch size, optimizer, float32 data and number of threads (threadpoolctl for
the BLAS pools, ``torch.set_num_threads`` for PyTorch); each framework through its public training API.
GFLOP counts :math:`2mnk` per matrix product: the forward products, the weight gradients and the input
gradients of every layer but the first (no framework computes the gradient of the data).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from glassnet.bench import _frameworks as fw
from glassnet.bench._frameworks import MLPSpec
from glassnet.training.workplan import busy_cpu_seconds, own_cpu_seconds

SPEC_A = MLPSpec((64, 80, 70, 10), "logistic", "sgd", lr=0.5, batch_size=None, shuffle=False)
SPEC_B = MLPSpec((784, 256, 128, 10), "relu", "adam", lr=1e-3, batch_size=128)
SPEC_C = MLPSpec((784, 1024, 1024, 10), "relu", "sgd", lr=0.01, batch_size=256)
#: (e) the estimators' cases: a wide network with small batches, and a small one with batch_size='auto'
SPEC_E_WIDE = MLPSpec((784, 1024, 1024, 10), "relu", "adam", lr=1e-3, batch_size=64)
SPEC_E_SMALL = MLPSpec((64, 100, 10), "relu", "adam", lr=1e-3, batch_size=200)  # 'auto': min(200, n)

#: work per setting: (a) epochs per timed run, (b) training rows and epochs, (c) batches per run,
#: (d) predict calls at batch 1 and at batch 1024, repeats of every timing
SETTINGS = {
    "quick": dict(
        a_epochs=200,
        b_rows=10_000,
        b_epochs=2,
        c_batches=16,
        d_calls=(300, 10),
        e_rows=1600,
        e_epochs=(1, 100, 30),
        repeats=3,
    ),
    "full": dict(
        a_epochs=1000,
        b_rows=None,
        b_epochs=3,
        c_batches=48,
        d_calls=(2000, 40),
        e_rows=6400,
        e_epochs=(1, 500, 100),
        repeats=5,
    ),
}

#: issue 14's targets (the earlier ones against PyTorch are kept): epoch time against JAX's best on several
#: cores and on one thread, against scikit-learn, and the share of NumPy's matrix-product rate in (c)
TARGETS = {
    "epoch_time_vs_torch": 0.8,
    "epoch_time_vs_jax": {"cores": 0.8, "one_thread": 1.0},
    "epoch_time_vs_sklearn": 1 / 3,
    "gemm_fraction": {"cores": 0.75, "one_thread": 0.85},
}

#: a part is flagged busy when other processes took more than this many cores on average while it ran, or
#: when a row's repeats spread by more than this fraction (slowest over fastest, minus one)
BUSY_OTHER_CORES = 0.25
BUSY_SPREAD = 0.25


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
    with its compiled kernels off), JAX with a compiled epoch and with a compiled step, and the others."""
    out = {}
    for name in frameworks:
        if name == "glassnet":
            out[name] = lambda spec, X, y, epochs: fw.glassnet_fit(
                dataclasses.replace(spec, n_jobs=jobs), X, y, epochs
            )
            if jobs > 1:
                out[fw.ONE_PROCESS] = fw.glassnet_one_process_fit
            if numpy_path:
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


# --- the tasks ---------------------------------------------------------------------------------------------------


def bench_lab(frameworks, cfg, notes) -> dict:
    """(a) digits 64-80-70-10 sigmoid, full batch: milliseconds per epoch."""
    from glassnet.data import load_digits

    data = load_digits()
    X, y = data.X_train, data.y_train
    epochs = cfg["a_epochs"]
    fits = runners(frameworks, cfg["jobs"], cfg.get("numpy_path", False))
    _warm_up(fits, SPEC_A, X, y, slice(None), epochs=5)
    cpu, cpu_s = {}, {}
    with MachineLoad() as load:
        times = alternate(
            {name: lambda f=fit: f(SPEC_A, X, y, epochs) for name, fit in fits.items()},
            cfg["repeats"],
            cpu,
            cpu_s,
        )
    ms = {name: 1e3 * median(t) / epochs for name, t in times.items()}
    return {
        "task": "digits 64-80-70-10 sigmoid, full-batch GD",
        "rows": len(X),
        "epochs": epochs,
        "ms_per_epoch": ms,
        "ms_per_epoch_fastest": {name: 1e3 * min(t) / epochs for name, t in times.items()},
        "cpu_ms_per_epoch": {name: 1e3 * median(t) / epochs for name, t in cpu_s.items()},
        "cpu_per_wall": cpu,
        "machine_load": load.report(times),
    }


def _load_fashion(data_dir, rows, notes):
    from glassnet.data import DataNotFoundError, load_dataset

    try:
        data = load_dataset("fashion-mnist", data_dir=data_dir)
    except DataNotFoundError as exc:
        notes.append(f"(b) and the memory test use Fashion-MNIST, which is not installed here: {exc}")
        return None
    if rows is not None:
        data = data.subsample(n_train=rows, seed=0)
    return data


def bench_fashion(frameworks, cfg, data, notes) -> dict:
    """(b) Fashion-MNIST 784-256-128-10 ReLU, Adam, batch 128: seconds per epoch and test accuracy."""
    X, y = np.ascontiguousarray(data.X_train), data.y_train
    epochs = cfg["b_epochs"]
    tasks, models = {}, {}
    fits = runners(frameworks, cfg["jobs"], cfg.get("numpy_path", False))
    if "glassnet" in frameworks and "sklearn" in frameworks:
        fits["glassnet.MLPClassifier"] = fw.glassnet_default_estimator_fit  # default n_jobs: its own choice
    frameworks = list(fits)
    _warm_up(fits, SPEC_B, X, y, slice(0, 512))
    fw.PLANS.clear()

    accuracies: dict[str, list[float]] = {name: [] for name in frameworks}
    fit_times: dict[str, list[float]] = {name: [] for name in frameworks}
    fit_cpu: dict[str, list[float]] = {name: [] for name in frameworks}
    predict = {
        **fw.PREDICT,
        fw.ONE_PROCESS: fw.glassnet_predict,
        fw.NUMPY_PATH: fw.glassnet_predict,
        fw.JAX_STEP: fw.jax_predict,
        "glassnet.MLPClassifier": fw.sklearn_predict,
    }

    def task(name):
        # a new seed for every repeat, the same for every framework: an accuracy after a few epochs varies
        # by about a percentage point from seed to seed, so a single seed would compare luck
        spec = dataclasses.replace(SPEC_B, seed=len(accuracies[name]))
        start, start_cpu = time.perf_counter(), time.process_time()
        models[name] = fits[name](spec, X, y, epochs)
        fit_times[name].append(time.perf_counter() - start)  # training only, not the scoring below
        fit_cpu[name].append(time.process_time() - start_cpu)
        accuracies[name].append(float(np.mean(predict[name](models[name], data.X_test) == data.y_test)))

    for name in frameworks:
        tasks[name] = lambda name=name: task(name)
    cpu: dict = {}
    with MachineLoad() as load:
        alternate(tasks, max(1, cfg["repeats"] - 2), cpu)
    acc = {name: float(np.mean(a)) for name, a in accuracies.items()}
    return {
        "task": "Fashion-MNIST 784-256-128-10 ReLU, Adam lr 1e-3, batch 128",
        "rows": len(X),
        "epochs": epochs,
        "s_per_epoch": {name: median(t) / epochs for name, t in fit_times.items()},
        "s_per_epoch_fastest": {name: min(t) / epochs for name, t in fit_times.items()},
        "cpu_s_per_epoch": {name: median(t) / epochs for name, t in fit_cpu.items()},
        "test_accuracy": acc,
        "test_accuracy_per_seed": accuracies,
        "estimator_plans": sorted(set(fw.PLANS)),  # (shards, processes) of MLPClassifier() with n_jobs=None
        "cpu_per_wall": cpu,
        "machine_load": load.report(fit_times),
    }


def gemm_flops(sizes, batch: int) -> float:
    """Floating-point operations of the matrix products of one training step (2 m n k each)."""
    flops = 0.0
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        per_product = 2.0 * batch * fan_in * fan_out
        flops += 2 * per_product  # forward x W^T and the weight gradient dz^T x
        if i > 0:
            flops += per_product  # input gradient dz W (not for the data)
    return flops


def _gemm_reference(sizes, batch: int, rng):
    """A callable doing one step's matrix products in NumPy (same shapes and transposes as a Dense layer)."""
    Ws = [rng.standard_normal((o, i), dtype=np.float32) for i, o in zip(sizes[:-1], sizes[1:], strict=True)]
    xs = [rng.standard_normal((batch, i), dtype=np.float32) for i in sizes[:-1]]
    zs = [np.empty((batch, o), dtype=np.float32) for o in sizes[1:]]
    dWs = [np.empty_like(W) for W in Ws]
    dxs = [np.empty((batch, i), dtype=np.float32) for i in sizes[:-1]]

    def step():
        for i, W in enumerate(Ws):
            np.matmul(xs[i], W.T, out=zs[i])  # forward
        for i in reversed(range(len(Ws))):
            np.matmul(zs[i].T, xs[i], out=dWs[i])  # weight gradient
            if i > 0:
                np.matmul(zs[i], Ws[i], out=dxs[i])  # input gradient

    return step


def bench_wide(frameworks, cfg, notes) -> dict:
    """(c) 784-1024-1024-10, batch 256: GFLOP/s against NumPy's rate on the same matrix products."""
    rng = np.random.default_rng(0)
    batch, steps = SPEC_C.batch_size, cfg["c_batches"]
    X = rng.standard_normal((batch * steps, SPEC_C.sizes[0]), dtype=np.float32)
    y = rng.integers(0, SPEC_C.sizes[-1], size=len(X))
    reference = _gemm_reference(SPEC_C.sizes, batch, rng)

    def gemm_only():
        for _ in range(steps):
            reference()

    gemm_only()
    fits = runners(frameworks, cfg["jobs"], cfg.get("numpy_path", False))
    _warm_up(fits, SPEC_C, X, y, slice(0, 2 * batch))
    tasks = {"numpy matmul": gemm_only}
    tasks.update({name: lambda f=fit: f(SPEC_C, X, y, 1) for name, fit in fits.items()})
    cpu, cpu_s = {}, {}
    with MachineLoad() as load:
        times = alternate(tasks, cfg["repeats"], cpu, cpu_s)
    flops = gemm_flops(SPEC_C.sizes, batch) * steps
    gflops = {name: flops / median(t) / 1e9 for name, t in times.items()}
    peak = gflops.pop("numpy matmul")
    return {
        "task": "784-1024-1024-10 ReLU, SGD, batch 256",
        "rows": len(X),
        "gflop_per_epoch": flops / 1e9,
        "gemm_gflops": peak,
        "gflops": gflops,
        "fraction_of_gemm": {name: g / peak for name, g in gflops.items()},
        "fraction_of_gemm_cpu": {
            name: median(cpu_s["numpy matmul"]) / median(t)
            for name, t in cpu_s.items()
            if name != "numpy matmul"
        },
        "fraction_of_gemm_fastest": {
            name: min(times["numpy matmul"]) / min(t) for name, t in times.items() if name != "numpy matmul"
        },
        "cpu_per_wall": cpu,
        "machine_load": load.report(times),
    }


def bench_predict(frameworks, cfg, notes) -> dict:
    """(d) prediction throughput of the (b) network at batch 1 and batch 1024 (samples per second)."""
    rng = np.random.default_rng(1)
    X = rng.random((2048, SPEC_B.sizes[0]), dtype=np.float32)
    y = rng.integers(0, SPEC_B.sizes[-1], size=len(X))
    models = {name: fw.FIT[name](SPEC_B, X, y, 1) for name in frameworks}
    out, loads = {}, {}
    for batch, calls in zip((1, 1024), cfg["d_calls"], strict=True):
        Xb = X[:batch]
        tasks = {}
        for name in frameworks:
            predict, model = fw.PREDICT[name], models[name]
            predict(model, Xb)

            def task(predict=predict, model=model, Xb=Xb, calls=calls):
                for _ in range(calls):
                    predict(model, Xb)

            tasks[name] = task
        with MachineLoad() as load:
            times = alternate(tasks, cfg["repeats"])
        out[f"batch_{batch}"] = {name: batch * calls / median(t) for name, t in times.items()}
        loads[f"batch_{batch}"] = load.report(times)
    return {"task": "predict, 784-256-128-10 ReLU", "samples_per_s": out, "machine_load": loads}


def bench_estimators(frameworks, cfg, notes) -> dict:
    """(e) the estimators with default ``n_jobs``, on work the other parts do not name; seconds per fit.

    Three cases: a wide network (784-1024-1024-10 ReLU, Adam, batch 64, random data), the lab's network
    (digits, 64-80-70-10 sigmoid, full batch, SGD lr 0.5) through ``MLPClassifier``, and a small network
    (digits, 64-100-10 ReLU, Adam) with ``batch_size='auto'`` (scikit-learn's ``min(200, n)``). glassnet's and
    scikit-learn's estimators get the same parameters; PyTorch and JAX the same network and batch size."""
    from glassnet.data import load_digits

    rng = np.random.default_rng(2)
    rows = cfg["e_rows"]
    X_wide = rng.standard_normal((rows, SPEC_E_WIDE.sizes[0]), dtype=np.float32)
    y_wide = rng.integers(0, SPEC_E_WIDE.sizes[-1], size=rows)
    digits = load_digits()
    Xd, yd = digits.X_train, digits.y_train
    e_wide, e_lab, e_small = cfg["e_epochs"]
    cases = [
        ("wide", "784-1024-1024-10 ReLU, Adam, batch 64", SPEC_E_WIDE, X_wide, y_wide, e_wide, {}),
        ("lab", "the lab: digits 64-80-70-10 sigmoid, full batch, SGD", SPEC_A, Xd, yd, e_lab, {}),
        ("small", "digits 64-100-10 ReLU, Adam, batch_size='auto'", SPEC_E_SMALL, Xd, yd, e_small,
         {"batch_size": "auto"}),
    ]  # fmt: skip
    out = {}
    for key, title, spec, X, y, epochs, overrides in cases:
        fits = {}
        if "glassnet" in frameworks:
            fits[fw.ESTIMATOR] = lambda s, X, y, e, o=overrides: fw.glassnet_default_estimator_fit(
                s, X, y, e, **o
            )
            fits["glassnet"] = lambda s, X, y, e: fw.glassnet_fit(
                dataclasses.replace(s, n_jobs=cfg["jobs"]), X, y, e
            )
        if "sklearn" in frameworks:
            fits["sklearn"] = lambda s, X, y, e, o=overrides: fw.sklearn_fit(s, X, y, e, **o)
        if "torch" in frameworks:
            fits["torch"] = fw.torch_fit
        if "jax" in frameworks:
            fits["jax"] = fw.jax_fit
        _warm_up(fits, spec, X, y, slice(0, min(len(X), 256)))
        fw.PLANS.clear()
        cpu_s: dict = {}
        with MachineLoad() as load:
            times = alternate(
                {name: lambda f=fit, s=spec, X=X, y=y, e=epochs: f(s, X, y, e) for name, fit in fits.items()},
                cfg["repeats"],
                cpu_seconds=cpu_s,
            )
        out[key] = {
            "task": title,
            "rows": len(X),
            "epochs": epochs,
            "s_per_fit": {name: median(t) for name, t in times.items()},
            "s_per_fit_fastest": {name: min(t) for name, t in times.items()},
            "cpu_s_per_fit": {name: median(t) for name, t in cpu_s.items()},
            "estimator_plans": sorted(set(fw.PLANS)),  # (shards, processes) n_jobs=None chose, per fit
            "machine_load": load.report(times),
        }
    return out


# --- memory (each framework in a fresh process) ------------------------------------------------------------------


def _peak_rss_mib(reset: bool = False) -> float:
    """Peak resident memory of this process (VmHWM); ``reset=True`` first resets the peak to the current size.

    Linux only for the reset (``/proc/self/clear_refs``); elsewhere falls back to ``ru_maxrss``, which cannot
    be reset, so a peak reached while loading the data would hide the training's.
    """
    status = Path("/proc/self/status")
    if status.exists():
        if reset:
            try:
                Path("/proc/self/clear_refs").write_text("5")
            except OSError:
                pass
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20  # KiB on Linux, bytes on macOS


def _rss_mib() -> float:
    """Resident memory of this process now (VmRSS; 0 off Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return 0.0


def _private_mib(pid: int) -> float:
    """Memory that only process ``pid`` holds (its own and copied-on-write pages): Private_* of smaps_rollup."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0.0
    return sum(int(line.split()[1]) for line in lines if line.startswith("Private_")) / 1024  # kB


class _WorkerMemory:
    """A Trainer callback that records the largest private memory of the data-parallel workers."""

    def __init__(self) -> None:
        self.mib = 0.0

    def on_batch_end(self, trainer, batch, logs) -> None:
        if trainer.parallel is not None and batch % 50 == 0:
            self.mib = max(self.mib, sum(_private_mib(pid) for pid in trainer.parallel.worker_pids))


def memory_child(name: str, data_path: str, threads: int, jobs: int = 1) -> dict:
    """Train one epoch of (b) and report the peak resident memory above the size after loading the data.

    For glassnet with ``jobs > 1`` processes, the workers' private memory (sampled during the epoch) is added:
    the pages they share with this process (the data, the weights) are counted once, here. Each framework's
    imports come before the baseline (for glassnet, numba and its compiled kernels too), and their own cost is
    reported apart, as ``imports_mib`` (resident memory after the imports minus before)."""
    import tracemalloc

    limiter = fw.set_threads(threads)  # noqa: F841 (kept alive)
    before_imports = _rss_mib()
    if name == "torch":
        import torch  # noqa: F401
    elif name == "sklearn":
        import sklearn.neural_network  # noqa: F401
    elif name == "jax":
        import jax  # noqa: F401
    else:
        import glassnet.training  # noqa: F401
        from glassnet import fast

        fast.warm_up()  # numba and the kernels, loaded from numba's cache: a fixed cost, like importing torch
    imports = _rss_mib() - before_imports
    X, y = np.load(data_path + ".X.npy"), np.load(data_path + ".y.npy")
    baseline = _peak_rss_mib(reset=True)
    tracemalloc.start()
    workers = _WorkerMemory()
    if name == "glassnet":
        fw.glassnet_fit(dataclasses.replace(SPEC_B, n_jobs=jobs), X, y, 1, callbacks=[workers])
    else:
        fw.FIT[name](SPEC_B, X, y, 1)
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {
        "rss_peak_delta_mib": _peak_rss_mib() - baseline + workers.mib,
        "tracemalloc_peak_mib": traced,
        "workers_private_mib": workers.mib,
        "imports_mib": imports,
    }


def bench_memory(frameworks, data, threads: int, jobs: int, notes) -> dict:
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "data")
        np.save(path + ".X.npy", np.ascontiguousarray(data.X_train))
        np.save(path + ".y.npy", data.y_train)
        rows = [(name, name, jobs if name == "glassnet" else 1) for name in frameworks]
        if "glassnet" in frameworks and jobs > 1:
            rows.insert(1, (fw.ONE_PROCESS, "glassnet", 1))
        for row, name, n_jobs in rows:
            cmd = [
                sys.executable,
                "-m",
                "glassnet.bench.speed",
                "--memory-child",
                name,
                path,
                "--threads",
                str(threads),
                "--jobs",
                str(n_jobs),
            ]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                notes.append(f"memory test of {row} failed: {proc.stderr.strip()[-500:]}")
                continue
            out[row] = json.loads(proc.stdout.strip().splitlines()[-1])
    for name in ("torch", "jax"):
        if name in out:
            out[name]["tracemalloc_peak_mib"] = None  # PyTorch's and XLA's allocators are invisible to it
    return {
        "task": "one epoch of (b), each framework in a fresh process",
        "rows": len(data.X_train),
        "method": "peak resident set size (VmHWM, reset after imports and loading the data) minus the size "
        "then, plus the private memory of glassnet's data-parallel workers; tracemalloc peak for the "
        "NumPy-based ones",
        "peak": out,
    }


# --- report ------------------------------------------------------------------------------------------------------


def machine_info(threads: int) -> dict:
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "threads": threads,
        "numpy": np.__version__,
        "env": {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS", "OMP_", "MKL_"))},
    }
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = threadpool_info()
    except ImportError:
        info["blas"] = "threadpoolctl not installed"
    from importlib.metadata import PackageNotFoundError, version

    for module, dist in (("sklearn", "scikit-learn"), ("torch", "torch"), ("jax", "jax"), ("numba", "numba")):
        try:  # the installed version, without importing the framework (seconds for PyTorch and JAX)
            info[module] = version(dist)
        except PackageNotFoundError:
            info[module] = None
    from glassnet import __version__, fast

    info["glassnet"] = __version__
    info["glassnet_fast"] = fast.describe()
    info["loadavg_at_start"] = _loadavg()
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def _best(times: dict, names) -> float | None:
    values = [times[n] for n in names if n in times]
    return min(values) if values else None


#: the rows that are glassnet's own configurations ("its best configuration": the faster of them)
GLASSNET_ROWS = ("glassnet", fw.ONE_PROCESS)
JAX_ROWS = ("jax", fw.JAX_STEP)


def _verdict(name: str, value, limit: str, ok, busy: bool = False) -> dict:
    """One row of :func:`verdicts`: on a busy machine the target is not judged (``met`` is None)."""
    return {"target": name, "value": value, "limit": limit, "met": None if busy else ok, "busy": busy}


def _epoch_time_verdicts(results: dict, one_thread: bool, setting: str) -> list[dict]:
    """glassnet's epoch time in (a) and (b) against PyTorch's, JAX's best and scikit-learn's; pinned to one
    CPU, the CPU times too, which are judged even on a busy machine."""
    rows = []
    units = [("a", "(a) epoch time", "ms_per_epoch", False), ("b", "(b) epoch time", "s_per_epoch", False)]
    # CPU time per epoch: what other work on the machine changes least, but only pinned to one CPU is it one
    # core's work: unpinned, JAX keeps a second thread busy beside XLA's (measured: 1.7 cores at --threads 1)
    if one_thread and results.get("pinned"):
        units += [
            ("a", "(a) CPU time", "cpu_ms_per_epoch", True),
            ("b", "(b) CPU time", "cpu_s_per_epoch", True),
        ]
    for key, label, unit, by_cpu in units:
        res = results.get(key)
        if not res or unit not in res:
            continue
        t = res[unit]
        busy = res.get("machine_load", {}).get("busy", False) and not by_cpu
        mine = _best(t, GLASSNET_ROWS)
        for other, limit in (
            ("torch", TARGETS["epoch_time_vs_torch"]),
            ("jax", TARGETS["epoch_time_vs_jax"][setting]),
            ("sklearn", TARGETS["epoch_time_vs_sklearn"]),
        ):
            theirs = _best(t, JAX_ROWS) if other == "jax" else t.get(other)
            if theirs is None:
                continue
            r = _ratio(mine, theirs)
            rows.append(
                _verdict(
                    f"{label} glassnet/{other}", r, f"<= {limit:.2f}", None if r is None else r <= limit, busy
                )
            )
    return rows


def _accuracy_verdicts(results: dict) -> list[dict]:
    """(b)'s test accuracy: glassnet's against PyTorch's and scikit-learn's, within the noise of the seeds."""
    rows = []
    res = results.get("b")
    if res:
        acc = res["test_accuracy"]
        for other in ("torch", "sklearn"):
            if other in acc and "glassnet" in acc:
                diff = acc["glassnet"] - acc[other]
                rows.append(
                    _verdict(f"(b) accuracy glassnet - {other}", diff, ">= -0.005 (noise)", diff >= -0.005)
                )
    return rows


def _gemm_verdicts(results: dict, setting: str) -> list[dict]:
    """(c): glassnet's best share of NumPy's matrix-product rate; above 1, not measurable."""
    res = results.get("c")
    if not (res and "glassnet" in res["fraction_of_gemm"]):
        return []
    f = max(v for k, v in res["fraction_of_gemm"].items() if k in GLASSNET_ROWS)
    limit = TARGETS["gemm_fraction"][setting]
    busy = res.get("machine_load", {}).get("busy", False) or f > 1.0  # above the limit: not measurable
    return [_verdict("(c) glassnet GFLOP/s / NumPy matmul GFLOP/s", f, f">= {limit}", f >= limit, busy)]


def _memory_verdicts(results: dict) -> list[dict]:
    """(mem): the peak memory of glassnet's rows against scikit-learn's."""
    rows = []
    res = results.get("memory")
    if res and "sklearn" in res["peak"]:
        s = res["peak"]["sklearn"]["rss_peak_delta_mib"]
        for row in ("glassnet", fw.ONE_PROCESS):
            if row in res["peak"]:
                g = res["peak"][row]["rss_peak_delta_mib"]
                rows.append(_verdict(f"peak memory {row} - sklearn (MiB)", g - s, "<= 0", g <= s))
    return rows


def _estimator_verdicts(results: dict, setting: str) -> list[dict]:
    """Issue 14's target 2: ``MLPClassifier()`` with its default ``n_jobs``, in (b) and in each case of (e),
    against JAX's best and scikit-learn's, with the limits of the engine's own epoch-time targets."""
    rows = []
    cases = [("(b) MLPClassifier()", results.get("b"), "s_per_epoch")]
    cases += [(f"(e) {key} MLPClassifier()", r, "s_per_fit") for key, r in (results.get("e") or {}).items()]
    for label, res, unit in cases:
        if not res or fw.ESTIMATOR not in res.get(unit, {}):
            continue
        t = res[unit]
        busy = res.get("machine_load", {}).get("busy", False)
        for other, limit in (
            ("jax", TARGETS["epoch_time_vs_jax"][setting]),
            ("sklearn", TARGETS["epoch_time_vs_sklearn"]),
        ):
            theirs = _best(t, JAX_ROWS) if other == "jax" else t.get(other)
            r = _ratio(t[fw.ESTIMATOR], theirs) if theirs else None
            if r is not None:
                rows.append(_verdict(f"{label}/{other}", r, f"<= {limit:.2f}", r <= limit, busy))
    return rows


def verdicts(results: dict) -> list[dict]:
    """Each target of the issues, with the measured value and whether it is met (None: not measured or, on a
    busy machine, not measurable)."""
    one_thread = results.get("machine", {}).get("threads") == 1
    setting = "one_thread" if one_thread else "cores"
    return (
        _epoch_time_verdicts(results, one_thread, setting)
        + _accuracy_verdicts(results)
        + _estimator_verdicts(results, setting)
        + _gemm_verdicts(results, setting)
        + _memory_verdicts(results)
    )


def _fmt(value, digits=3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _busy_line(res: dict) -> str:
    load = res.get("machine_load") or {}
    if not load:
        return ""
    if "busy" not in load:  # several timings (d): the worst
        load = max(load.values(), key=lambda v: (v.get("busy", False), v.get("other_cores") or 0.0))
    other = load.get("other_cores")
    la = load.get("loadavg") or [None]
    spread_max = max((load.get("spread") or {}).values(), default=0.0)
    facts = (
        f"others used {_fmt(other, 2)} cores, load {_fmt(la[0], 2)}, repeats within {100 * spread_max:.0f} %"
    )
    cpu = res.get("cpu_per_wall") or {}
    ran = f"this process kept {min(cpu.values()):.2f}-{max(cpu.values()):.2f} cores busy" if cpu else ""
    facts += f"; {ran}" if ran else ""
    if load.get("busy"):
        why = load["why"] + (f"; {ran}" if ran else "")
        return (
            f"  !! MACHINE BUSY ({why}, load {_fmt(la[0], 2)}): these figures and ratios are not reliable; "
            "rerun on an idle machine (on one thread, read the CPU times)"
        )
    return f"  machine idle enough ({facts})"


#: the order of the rows in every table of the report
REPORT_ORDER = (
    "glassnet",
    fw.ONE_PROCESS,
    fw.NUMPY_PATH,
    fw.ESTIMATOR,
    "torch",
    "jax",
    fw.JAX_STEP,
    "sklearn",
)

#: what the report's lines are printed with: ``print`` into the report's file
Printer = Callable[..., None]


def _numpy_blas(info: dict) -> dict:
    """The BLAS pool that NumPy uses (threadpoolctl's record of it), else the first BLAS pool, else ``{}``."""
    pools = info["blas"] if isinstance(info["blas"], list) else []
    numpy_blas = [b for b in pools if b.get("user_api") == "blas" and "numpy" in b.get("filepath", "")]
    return (numpy_blas or [b for b in pools if b.get("user_api") == "blas"] or [{}])[0]


def _print_machine(results: dict, p: Printer) -> None:
    """The report's head: the processor, the threads, the libraries' versions, the load at the start."""
    info = results["machine"]
    blas = _numpy_blas(info)
    p(f"machine: {info['processor']}, {info['threads']} thread(s), glassnet n_jobs={results.get('jobs', 1)}; numpy {info['numpy']}, "
      f"BLAS {blas.get('internal_api', '?')} {blas.get('version', '')} kernel {blas.get('architecture', '?')}; "
      f"torch {info['torch']}, jax {info.get('jax')}, scikit-learn {info['sklearn']}")  # fmt: skip
    p(
        f"glassnet {info.get('glassnet')}: {info.get('glassnet_fast', '?')}; load average at start {_fmt(info.get('loadavg_at_start'), 2)}"
    )
    if info["env"]:
        p(f"environment: {info['env']}")


def _ratios(values: dict, base: str = "glassnet", label: str = "glassnet"):
    """``(name, value, "   label/name = r")`` in :data:`REPORT_ORDER`, ``r`` being ``values[base]`` over
    ``values[name]``; no ratio for ``base`` itself, nor for any row when ``base`` was not measured."""
    reference = values.get(base)
    for name in [n for n in REPORT_ORDER if n in values]:
        own = reference is None or name == base
        yield name, values[name], "" if own else f"   {label}/{name} = {reference / values[name]:.2f}"


def _print_busy(res: dict, p: Printer) -> None:
    """How busy the machine was while the part ``res`` ran (:func:`_busy_line`), when it was measured."""
    if _busy_line(res):
        p(_busy_line(res))


def _print_table(title: str, values: dict, unit: str, res: dict, cpu, one_thread: bool, p: Printer) -> None:
    """One timing per row, with its ratio to glassnet's; on one thread the CPU times too, which other work on
    the machine changes least."""
    p(f"\n{title}")
    for name, value, ratio in _ratios(values):
        p(f"  {name:24s} {_fmt(value):>10s} {unit}{ratio}")
    if cpu and one_thread:
        p(f"  CPU time, same {unit}:")
        for name, value, ratio in _ratios(cpu):
            p(f"  {name:24s} {_fmt(value):>10s} {unit}{ratio}")
    _print_busy(res, p)


def _print_lab(r: dict, one_thread: bool, p: Printer) -> None:
    """(a): milliseconds per epoch."""
    title = f"(a) {r['task']}"
    _print_table(title, r["ms_per_epoch"], "ms/epoch", r, r.get("cpu_ms_per_epoch"), one_thread, p)


def _print_fashion(r: dict, one_thread: bool, p: Printer) -> None:
    """(b): seconds per epoch, and the test accuracy reached."""
    title = f"(b) {r['task']}, {r['rows']} rows"
    _print_table(title, r["s_per_epoch"], "s/epoch", r, r.get("cpu_s_per_epoch"), one_thread, p)
    p("  mean test accuracy (one seed per repeat) after " + str(r["epochs"]) + " epochs: "
      + ", ".join(f"{k} {v:.4f}" for k, v in r["test_accuracy"].items()))  # fmt: skip
    _print_plans(r, p)


def _print_wide(r: dict, p: Printer) -> None:
    """(c): GFLOP/s, and their share of NumPy's own matrix-product rate."""
    p(f"\n(c) {r['task']}: NumPy's matmul on the same products: {r['gemm_gflops']:.1f} GFLOP/s")
    for name, g in r["gflops"].items():
        share = r["fraction_of_gemm"][name]
        if share > 1.0:  # more than the matrix products alone allow: the reference run was slowed
            what = "above NumPy's own rate: not measurable, the reference run was slowed"
        else:
            what = f"{100 * share:.0f} % of it"
        p(f"  {name:24s} {g:10.1f} GFLOP/s = {what}")
    _print_busy(r, p)


def _print_predict(r: dict, p: Printer) -> None:
    """(d): samples per second at each batch size."""
    for batch, values in r["samples_per_s"].items():
        p(f"\n(d) predict, {batch.replace('_', ' ')}: samples per second (higher is better)")
        for name, value, ratio in _ratios(values):
            p(f"  {name:24s} {value:12.0f}{ratio}")
    _print_busy(r, p)


def _print_estimators(cases: dict, p: Printer) -> None:
    """(e): seconds per fit of every case, with the ratios to glassnet's ``MLPClassifier``."""
    for r in cases.values():
        p(f"\n(e) {r['task']}, {r['rows']} rows, {r['epochs']} epoch(s): s per fit")
        for name, value, ratio in _ratios(r["s_per_fit"], base=fw.ESTIMATOR, label="MLPClassifier"):
            p(f"  {name:24s} {_fmt(value):>10s} s{ratio}")
        _print_plans(r, p)
        _print_busy(r, p)


def _print_plans(r: dict, p: Printer) -> None:
    """What ``MLPClassifier()``'s ``n_jobs=None`` chose (glassnet.training.workplan)."""
    plans = r.get("estimator_plans")
    if plans:
        text = "; ".join(f"{s} shard(s) in {n} process(es)" for s, n in plans)
        p(f"  {fw.ESTIMATOR} (n_jobs=None) chose: {text}")


def _print_memory(r: dict, p: Printer) -> None:
    """(mem): the peak memory of every framework, with what tracemalloc, the workers and the imports add."""
    p(f"\npeak memory, {r['task']} ({r['rows']} rows); {r['method']}")
    for name, m in r["peak"].items():
        traced = (
            "" if m["tracemalloc_peak_mib"] is None else f", tracemalloc {m['tracemalloc_peak_mib']:.0f} MiB"
        )
        workers = m.get("workers_private_mib") or 0.0
        in_workers = f" ({workers:.0f} MiB of it in the worker processes)" if workers else ""
        imports = f"; its imports {m['imports_mib']:.0f} MiB" if m.get("imports_mib") is not None else ""
        p(f"  {name:24s} {m['rss_peak_delta_mib']:8.0f} MiB{traced}{in_workers}{imports}")


def _print_targets(targets: list[dict], p: Printer) -> None:
    """Every target (:func:`verdicts`): the value measured, the limit, and met, missed or not measurable."""
    p("\ntargets:")
    for v in targets:
        mark = (
            "not measurable (busy machine)"
            if v.get("busy")
            else {True: "met", False: "MISSED", None: "-"}[v["met"]]
        )
        p(f"  {v['target']:46s} {_fmt(v['value']):>10s}  ({v['limit']})  {mark}")


def print_report(results: dict, out=None) -> None:
    """Print ``results`` (what :func:`main` measured) as tables, one per part, then the targets and the notes.

    Parameters
    ----------
    results : dict
        The results, as :func:`main` writes them to JSON, with their ``"targets"`` (:func:`verdicts`).
    out : file-like, optional
        Where to print; standard output by default.
    """
    out = sys.stdout if out is None else out
    p = lambda *a: print(*a, file=out)  # noqa: E731
    one_thread = results["machine"]["threads"] == 1
    _print_machine(results, p)
    if "a" in results:
        _print_lab(results["a"], one_thread, p)
    if "b" in results:
        _print_fashion(results["b"], one_thread, p)
    if "c" in results:
        _print_wide(results["c"], p)
    if "d" in results:
        _print_predict(results["d"], p)
    if "e" in results:
        _print_estimators(results["e"], p)
    if "memory" in results:
        _print_memory(results["memory"], p)
    _print_targets(results["targets"], p)
    for note in results["notes"]:
        p(f"note: {note}")


# --- command line ------------------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="glassnet bench speed",
        description="Train glassnet, scikit-learn and PyTorch on identical work, alternately, and print ratios.",
    )
    p.add_argument("--quick", action="store_true", help="less work (a couple of minutes)")
    p.add_argument(
        "--threads", type=int, default=None, help="threads for every framework (default: all cores)"
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="glassnet's data-parallel processes (n_jobs; default: the number of threads)",
    )
    p.add_argument("--repeats", type=int, default=None, help="repeats of every timing (median reported)")
    p.add_argument("--only", default="a,b,c,d,e,memory", help="comma-separated subset of a,b,c,d,e,memory")
    p.add_argument("--frameworks", default=",".join(fw.FRAMEWORKS), help="comma-separated subset")
    p.add_argument("--data-dir", default=None, help="where Fashion-MNIST's IDX files are")
    p.add_argument(
        "--json",
        default=None,
        help="write the results here ('' to skip; default: bench-results/speed-<date>-<threads>t.json)",
    )
    p.add_argument(
        "--pin",
        action="store_true",
        help="with --threads 1, pin the benchmark to one CPU, so that no framework uses a second core for its "
        "dispatch or helper threads (on an idle machine; on a busy one it shares that CPU with the others)",
    )
    p.add_argument(
        "--no-numpy-path",
        action="store_true",
        help="skip the row of glassnet with its compiled kernels off (shown when numba is installed)",
    )
    p.add_argument("--memory-child", nargs=2, metavar=("FRAMEWORK", "DATA"), help=argparse.SUPPRESS)
    return p


def _default_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _parallel_jobs(jobs: int, notes: list[str]) -> int:
    """``jobs``, or 1 (with a note why) where glassnet cannot train in several processes here."""
    if jobs > 1:
        from glassnet.training import parallel
        from glassnet.nn.network import build_mlp
        from glassnet.nn.optim import Adam

        reason = parallel.unsupported_reason(build_mlp([2, 2]), Adam())
        if reason is not None:
            notes.append(f"glassnet trained in one process: {reason}")
            jobs = 1
    return jobs


def _config(args: argparse.Namespace, jobs: int) -> dict:
    """The work of every part (:data:`SETTINGS`), glassnet's processes and whether to show the NumPy path."""
    from glassnet import fast

    cfg = dict(
        SETTINGS["quick" if args.quick else "full"],
        jobs=jobs,
        numpy_path=fast.enabled() and not args.no_numpy_path,
    )
    if args.repeats:
        cfg["repeats"] = args.repeats
    return cfg


def _parts(args: argparse.Namespace) -> set[str] | None:
    """The parts that ``--only`` names, or None (the error printed) when it names an unknown one."""
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = only - {"a", "b", "c", "d", "e", "memory"}
    if unknown:
        print(f"error: --only takes a, b, c, d, e, memory; got {sorted(unknown)}", file=sys.stderr)
        return None
    return only


def _requested_frameworks(args: argparse.Namespace) -> list[str] | None:
    """The frameworks that ``--frameworks`` names, or None (the error printed) when one is unknown."""
    requested = [s.strip() for s in args.frameworks.split(",") if s.strip()]
    if set(requested) - set(fw.FRAMEWORKS):
        print(f"error: --frameworks takes {', '.join(fw.FRAMEWORKS)}; got {requested}", file=sys.stderr)
        return None
    return requested


def _pin_to_one_cpu(threads: int, pin: bool, notes: list[str]) -> bool:
    """With ``--threads 1 --pin``, pin this process to one CPU (with a note); whether it was pinned."""
    if not (threads == 1 and pin and hasattr(os, "sched_setaffinity")):
        return False
    # one thread per framework is not one core: JAX dispatches from Python while XLA computes on a thread
    # of its own, and PyTorch keeps helper threads; pinned to one CPU, every framework gets one core
    cpu = sorted(os.sched_getaffinity(0))[-1]
    os.sched_setaffinity(0, {cpu})
    notes.append(f"pinned to CPU {cpu}: with --threads 1 every framework runs on one core")
    return True


def _steps(
    args: argparse.Namespace,
    only: set[str],
    frameworks: list[str],
    cfg: dict,
    threads: int,
    jobs: int,
    notes: list[str],
) -> list:
    """``(part, run)`` for every part in the order they run; (b) and the memory test only where Fashion-MNIST
    is installed (it is loaded once, here, when either is asked for)."""
    steps = [("a", lambda: bench_lab(frameworks, cfg, notes))]
    fashion = None
    if only & {"b", "memory"}:
        fashion = _load_fashion(args.data_dir, cfg["b_rows"], notes)
    if fashion is not None:
        steps.append(("b", lambda: bench_fashion(frameworks, cfg, fashion, notes)))
    steps += [
        ("c", lambda: bench_wide(frameworks, cfg, notes)),
        ("d", lambda: bench_predict(frameworks, cfg, notes)),
        ("e", lambda: bench_estimators(frameworks, cfg, notes)),
    ]
    if fashion is not None:
        mem_data = fashion if args.quick else fashion.subsample(n_train=20_000, seed=0)
        steps.append(("memory", lambda: bench_memory(frameworks, mem_data, threads, jobs, notes)))
    return steps


def _run_steps(steps: list, only: set[str], results: dict) -> None:
    """Run the steps that ``only`` names, each result into ``results`` under its part's key."""
    with warnings.catch_warnings():
        # JAX warns at every fork once its threads run; glassnet's data-parallel workers never call JAX
        warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called", category=RuntimeWarning)
        for key, run in steps:
            if key in only:
                print(f"running ({key}) ...", file=sys.stderr, flush=True)
                results[key] = run()


def _write_json(results: dict, path: str | None, threads: int) -> None:
    """Write ``results`` to ``path``: by default under bench-results/ (ignored by git), never with ``''``."""
    if path is None:  # not into the current folder: bench-results/ is ignored by git
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        path = os.path.join("bench-results", f"speed-{stamp}-{threads}t.json")
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"\nresults written to {path}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (``glassnet bench speed``), print its report and write its results as JSON.

    Parameters
    ----------
    argv : list of str, optional
        The command-line arguments (see ``--help``); ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        0, or 2 when ``--only`` or ``--frameworks`` names something unknown.
    """
    args = _parser().parse_args(argv)
    threads = args.threads or _default_threads()
    jobs = args.jobs or threads
    if args.memory_child:
        print(json.dumps(memory_child(*args.memory_child, threads, jobs)))
        return 0
    notes: list[str] = []
    jobs = _parallel_jobs(jobs, notes)
    cfg = _config(args, jobs)
    only = _parts(args)
    if only is None:
        return 2
    requested = _requested_frameworks(args)
    if requested is None:
        return 2
    limiter = fw.set_threads(threads)  # noqa: F841 (kept alive; before JAX is imported, which reads XLA_FLAGS)
    if limiter is None:
        notes.append("threadpoolctl is not installed: BLAS thread counts were not controlled")
    pinned = _pin_to_one_cpu(threads, args.pin, notes)
    frameworks = _frameworks(requested, notes)
    results: dict = {
        "mode": "quick" if args.quick else "full",
        "jobs": jobs,
        "pinned": pinned,
        "machine": machine_info(threads),
        "notes": notes,
    }
    started = time.perf_counter()
    _run_steps(_steps(args, only, frameworks, cfg, threads, jobs, notes), only, results)
    results["seconds"] = time.perf_counter() - started
    results["targets"] = verdicts(results)
    print_report(results)
    _write_json(results, args.json, threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
