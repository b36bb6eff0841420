"""Peak memory of one epoch for each framework, each in a fresh process (the speed benchmark's (mem) part)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from glassnet.bench import _frameworks as fw
from glassnet.bench._settings import SPEC_B

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
