r"""Speed benchmark: glassnet, scikit-learn's ``MLPClassifier`` and PyTorch (CPU) side by side.

Run ``python -m glassnet.bench.speed`` (or ``glassnet bench speed``); ``--quick`` finishes in a couple of
minutes. Every task is run by each framework in turn, the order rotating from one repeat to the next, and the
median of the repeats is reported, so that a busy machine slows all three alike.

=====  ==============================================================================================
(a)    the lab: digits, 64-80-70-10 sigmoid, full-batch gradient descent: milliseconds per epoch
(b)    Fashion-MNIST, 784-256-128-10 ReLU, Adam (lr 1e-3), batch 128: seconds per epoch, test accuracy
(c)    wide MLP 784-1024-1024-10 ReLU, plain SGD, batch 256: achieved GFLOP/s against the GFLOP/s of the
       very same matrix products done back to back by NumPy in the same run (the physical limit here)
(d)    prediction throughput (samples per second) at batch 1 and batch 1,024
(mem)  peak memory of one epoch of (b), each framework in a fresh process
=====  ==============================================================================================

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
from pathlib import Path

import numpy as np

from glassnet.bench import _frameworks as fw
from glassnet.bench._frameworks import MLPSpec

SPEC_A = MLPSpec((64, 80, 70, 10), "logistic", "sgd", lr=0.5, batch_size=None, shuffle=False)
SPEC_B = MLPSpec((784, 256, 128, 10), "relu", "adam", lr=1e-3, batch_size=128)
SPEC_C = MLPSpec((784, 1024, 1024, 10), "relu", "sgd", lr=0.01, batch_size=256)

#: work per setting: (a) epochs per timed run, (b) training rows and epochs, (c) batches per run,
#: (d) predict calls at batch 1 and at batch 1024, repeats of every timing
SETTINGS = {
    "quick": dict(a_epochs=200, b_rows=10_000, b_epochs=2, c_batches=16, d_calls=(300, 10), repeats=3),
    "full": dict(a_epochs=1000, b_rows=None, b_epochs=3, c_batches=48, d_calls=(2000, 40), repeats=5),
}

TARGETS = {
    "epoch_time_vs_torch": 0.8,
    "epoch_time_vs_sklearn": 1 / 3,
    "gemm_fraction": 0.7,
}


# --- timing ------------------------------------------------------------------------------------------------------


def alternate(tasks: dict, repeats: int) -> dict[str, list[float]]:
    """Run every ``tasks[name]()`` ``repeats`` times, interleaved with a rotating order; seconds per call."""
    names = list(tasks)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = time.perf_counter()
            tasks[name]()
            times[name].append(time.perf_counter() - start)
    return times


def median(values) -> float:
    return float(statistics.median(values))


def runners(frameworks, jobs: int) -> dict:
    """The training callables by row name: glassnet with ``jobs`` data-parallel processes (and, when
    ``jobs > 1``, glassnet in one process beside it, its BLAS using the threads), and the others."""
    out = {}
    for name in frameworks:
        if name == "glassnet":
            out[name] = lambda spec, X, y, epochs: fw.glassnet_fit(
                dataclasses.replace(spec, n_jobs=jobs), X, y, epochs
            )
            if jobs > 1:
                out[fw.ONE_PROCESS] = fw.glassnet_one_process_fit
        else:
            out[name] = fw.FIT[name]
    return out


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
    fits = runners(frameworks, cfg["jobs"])
    for fit in fits.values():  # warm-up: imports, first-call costs
        fit(SPEC_A, X, y, 5)
    times = alternate(
        {name: lambda f=fit: f(SPEC_A, X, y, epochs) for name, fit in fits.items()}, cfg["repeats"]
    )
    ms = {name: 1e3 * median(t) / epochs for name, t in times.items()}
    return {
        "task": "digits 64-80-70-10 sigmoid, full-batch GD",
        "rows": len(X),
        "epochs": epochs,
        "ms_per_epoch": ms,
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
    fits = runners(frameworks, cfg["jobs"])
    if "glassnet" in frameworks and "sklearn" in frameworks:
        fits["glassnet.MLPClassifier"] = lambda spec, X, y, epochs: fw.glassnet_estimator_fit(
            dataclasses.replace(spec, n_jobs=cfg["jobs"]), X, y, epochs
        )
    frameworks = list(fits)
    small = slice(0, 512)
    for name in frameworks:  # warm-up
        fits[name](SPEC_B, X[small], y[small], 1)

    accuracies: dict[str, list[float]] = {name: [] for name in frameworks}
    fit_times: dict[str, list[float]] = {name: [] for name in frameworks}
    predict = {
        **fw.PREDICT,
        fw.ONE_PROCESS: fw.glassnet_predict,
        "glassnet.MLPClassifier": fw.sklearn_predict,
    }

    def task(name):
        # a new seed for every repeat, the same for every framework: an accuracy after a few epochs varies
        # by about a percentage point from seed to seed, so a single seed would compare luck
        spec = dataclasses.replace(SPEC_B, seed=len(accuracies[name]))
        start = time.perf_counter()
        models[name] = fits[name](spec, X, y, epochs)
        fit_times[name].append(time.perf_counter() - start)  # training only, not the scoring below
        accuracies[name].append(float(np.mean(predict[name](models[name], data.X_test) == data.y_test)))

    for name in frameworks:
        tasks[name] = lambda name=name: task(name)
    alternate(tasks, max(1, cfg["repeats"] - 2))
    acc = {name: float(np.mean(a)) for name, a in accuracies.items()}
    return {
        "task": "Fashion-MNIST 784-256-128-10 ReLU, Adam lr 1e-3, batch 128",
        "rows": len(X),
        "epochs": epochs,
        "s_per_epoch": {name: median(t) / epochs for name, t in fit_times.items()},
        "test_accuracy": acc,
        "test_accuracy_per_seed": accuracies,
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
    fits = runners(frameworks, cfg["jobs"])
    for fit in fits.values():  # warm-up
        fit(SPEC_C, X[: 2 * batch], y[: 2 * batch], 1)
    tasks = {"numpy matmul": gemm_only}
    tasks.update({name: lambda f=fit: f(SPEC_C, X, y, 1) for name, fit in fits.items()})
    times = alternate(tasks, cfg["repeats"])
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
    }


def bench_predict(frameworks, cfg, notes) -> dict:
    """(d) prediction throughput of the (b) network at batch 1 and batch 1024 (samples per second)."""
    rng = np.random.default_rng(1)
    X = rng.random((2048, SPEC_B.sizes[0]), dtype=np.float32)
    y = rng.integers(0, SPEC_B.sizes[-1], size=len(X))
    models = {name: fw.FIT[name](SPEC_B, X, y, 1) for name in frameworks}
    out = {}
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
        times = alternate(tasks, cfg["repeats"])
        out[f"batch_{batch}"] = {name: batch * calls / median(t) for name, t in times.items()}
    return {"task": "predict, 784-256-128-10 ReLU", "samples_per_s": out}


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
    the pages they share with this process (the data, the weights) are counted once, here."""
    import tracemalloc

    limiter = fw.set_threads(threads)  # noqa: F841 (kept alive)
    if name == "torch":
        import torch  # noqa: F401
    elif name == "sklearn":
        import sklearn.neural_network  # noqa: F401
    else:
        import glassnet.training  # noqa: F401
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
    for name in ("torch",):
        if name in out:
            out[name]["tracemalloc_peak_mib"] = None  # PyTorch's allocator is invisible to tracemalloc
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
    for module in ("sklearn", "torch"):
        try:
            info[module] = __import__(module).__version__
        except ImportError:
            info[module] = None
    from glassnet import __version__

    info["glassnet"] = __version__
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


def verdicts(results: dict) -> list[dict]:
    """Each target of the issue, with the measured value and whether it is met (None: not measured)."""
    rows = []

    def add(name, value, target, ok):
        rows.append({"target": name, "value": value, "limit": target, "met": ok})

    for key, label, unit in (("a", "(a) epoch time", "ms_per_epoch"), ("b", "(b) epoch time", "s_per_epoch")):
        res = results.get(key)
        if not res:
            continue
        t = res[unit]
        for other, limit in (
            ("torch", TARGETS["epoch_time_vs_torch"]),
            ("sklearn", TARGETS["epoch_time_vs_sklearn"]),
        ):
            r = _ratio(t.get("glassnet"), t.get(other))
            add(f"{label} glassnet/{other}", r, f"<= {limit:.2f}", None if r is None else r <= limit)
    res = results.get("b")
    if res:
        acc = res["test_accuracy"]
        for other in ("torch", "sklearn"):
            if other in acc and "glassnet" in acc:
                diff = acc["glassnet"] - acc[other]
                add(f"(b) accuracy glassnet - {other}", diff, ">= -0.005 (noise)", diff >= -0.005)
    res = results.get("c")
    if res and "glassnet" in res["fraction_of_gemm"]:
        f = res["fraction_of_gemm"]["glassnet"]
        add(
            "(c) glassnet GFLOP/s / NumPy matmul GFLOP/s",
            f,
            f">= {TARGETS['gemm_fraction']}",
            f >= TARGETS["gemm_fraction"],
        )
    res = results.get("memory")
    if res and "sklearn" in res["peak"]:
        s = res["peak"]["sklearn"]["rss_peak_delta_mib"]
        for row in ("glassnet", fw.ONE_PROCESS):
            if row in res["peak"]:
                g = res["peak"][row]["rss_peak_delta_mib"]
                add(f"peak memory {row} - sklearn (MiB)", g - s, "<= 0", g <= s)
    return rows


def _fmt(value, digits=3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def print_report(results: dict, out=None) -> None:
    out = sys.stdout if out is None else out
    p = lambda *a: print(*a, file=out)  # noqa: E731
    info = results["machine"]
    pools = info["blas"] if isinstance(info["blas"], list) else []
    numpy_blas = [b for b in pools if b.get("user_api") == "blas" and "numpy" in b.get("filepath", "")]
    blas = (numpy_blas or [b for b in pools if b.get("user_api") == "blas"] or [{}])[0]
    p(f"machine: {info['processor']}, {info['threads']} thread(s), glassnet n_jobs={results.get('jobs', 1)}; numpy {info['numpy']}, "
      f"BLAS {blas.get('internal_api', '?')} {blas.get('version', '')} kernel {blas.get('architecture', '?')}; "
      f"torch {info['torch']}, scikit-learn {info['sklearn']}")  # fmt: skip
    if info["env"]:
        p(f"environment: {info['env']}")
    order = ["glassnet", fw.ONE_PROCESS, "glassnet.MLPClassifier", "torch", "sklearn"]

    def ratios(values):
        """(name, value, "   glassnet/name = r") in display order; no ratio for glassnet itself."""
        base = values.get("glassnet")
        for name in [n for n in order if n in values]:
            own = base is None or name == "glassnet"
            yield name, values[name], "" if own else f"   glassnet/{name} = {base / values[name]:.2f}"

    def table(title, values, unit, digits=3):
        p(f"\n{title}")
        for name, value, ratio in ratios(values):
            p(f"  {name:24s} {_fmt(value, digits):>10s} {unit}{ratio}")

    if "a" in results:
        table(f"(a) {results['a']['task']}", results["a"]["ms_per_epoch"], "ms/epoch")
    if "b" in results:
        r = results["b"]
        table(f"(b) {r['task']}, {r['rows']} rows", r["s_per_epoch"], "s/epoch")
        p("  mean test accuracy (one seed per repeat) after " + str(r["epochs"]) + " epochs: "
          + ", ".join(f"{k} {v:.4f}" for k, v in r["test_accuracy"].items()))  # fmt: skip
    if "c" in results:
        r = results["c"]
        p(f"\n(c) {r['task']}: NumPy's matmul on the same products: {r['gemm_gflops']:.1f} GFLOP/s")
        for name, g in r["gflops"].items():
            p(f"  {name:24s} {g:10.1f} GFLOP/s = {100 * r['fraction_of_gemm'][name]:.0f} % of it")
    if "d" in results:
        for batch, values in results["d"]["samples_per_s"].items():
            p(f"\n(d) predict, {batch.replace('_', ' ')}: samples per second (higher is better)")
            for name, value, ratio in ratios(values):
                p(f"  {name:24s} {value:12.0f}{ratio}")
    if "memory" in results:
        r = results["memory"]
        p(f"\npeak memory, {r['task']} ({r['rows']} rows); {r['method']}")
        for name, m in r["peak"].items():
            traced = (
                ""
                if m["tracemalloc_peak_mib"] is None
                else f", tracemalloc {m['tracemalloc_peak_mib']:.0f} MiB"
            )
            workers = m.get("workers_private_mib") or 0.0
            in_workers = f" ({workers:.0f} MiB of it in the worker processes)" if workers else ""
            p(f"  {name:24s} {m['rss_peak_delta_mib']:8.0f} MiB{traced}{in_workers}")
    p("\ntargets:")
    for v in results["targets"]:
        mark = {True: "met", False: "MISSED", None: "-"}[v["met"]]
        p(f"  {v['target']:46s} {_fmt(v['value']):>10s}  ({v['limit']})  {mark}")
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
    p.add_argument("--only", default="a,b,c,d,memory", help="comma-separated subset of a,b,c,d,memory")
    p.add_argument("--frameworks", default=",".join(fw.FRAMEWORKS), help="comma-separated subset")
    p.add_argument("--data-dir", default=None, help="where Fashion-MNIST's IDX files are")
    p.add_argument("--json", default="bench-speed.json", help="write the results here ('' to skip)")
    p.add_argument("--memory-child", nargs=2, metavar=("FRAMEWORK", "DATA"), help=argparse.SUPPRESS)
    return p


def _default_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    threads = args.threads or _default_threads()
    jobs = args.jobs or threads
    if args.memory_child:
        print(json.dumps(memory_child(*args.memory_child, threads, jobs)))
        return 0
    notes: list[str] = []
    if jobs > 1:
        from glassnet import parallel
        from glassnet.network import build_mlp
        from glassnet.optim import Adam

        reason = parallel.unsupported_reason(build_mlp([2, 2]), Adam())
        if reason is not None:
            notes.append(f"glassnet trained in one process: {reason}")
            jobs = 1
    cfg = dict(SETTINGS["quick" if args.quick else "full"], jobs=jobs)
    if args.repeats:
        cfg["repeats"] = args.repeats
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = only - {"a", "b", "c", "d", "memory"}
    if unknown:
        print(f"error: --only takes a, b, c, d, memory; got {sorted(unknown)}", file=sys.stderr)
        return 2
    requested = [s.strip() for s in args.frameworks.split(",") if s.strip()]
    if set(requested) - set(fw.FRAMEWORKS):
        print(f"error: --frameworks takes {', '.join(fw.FRAMEWORKS)}; got {requested}", file=sys.stderr)
        return 2
    frameworks = _frameworks(requested, notes)
    limiter = fw.set_threads(threads)  # noqa: F841 (kept alive for the whole run)
    if limiter is None:
        notes.append("threadpoolctl is not installed: BLAS thread counts were not controlled")
    results: dict = {
        "mode": "quick" if args.quick else "full",
        "jobs": jobs,
        "machine": machine_info(threads),
        "notes": notes,
    }
    started = time.perf_counter()
    steps = [("a", lambda: bench_lab(frameworks, cfg, notes))]
    fashion = None
    if only & {"b", "memory"}:
        fashion = _load_fashion(args.data_dir, cfg["b_rows"], notes)
    if fashion is not None:
        steps.append(("b", lambda: bench_fashion(frameworks, cfg, fashion, notes)))
    steps += [
        ("c", lambda: bench_wide(frameworks, cfg, notes)),
        ("d", lambda: bench_predict(frameworks, cfg, notes)),
    ]
    if fashion is not None:
        mem_data = fashion if args.quick else fashion.subsample(n_train=20_000, seed=0)
        steps.append(("memory", lambda: bench_memory(frameworks, mem_data, threads, jobs, notes)))
    for key, run in steps:
        if key in only:
            print(f"running ({key}) ...", file=sys.stderr, flush=True)
            results[key] = run()
    results["seconds"] = time.perf_counter() - started
    results["targets"] = verdicts(results)
    print_report(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"\nresults written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
