r"""Speed benchmark: glassnet, scikit-learn's ``MLPClassifier``, PyTorch and JAX (CPU) side by side.

Run ``python -m glassnet.bench.speed`` (or ``glassnet bench speed``); ``--quick`` finishes in a few minutes.
Every task is run by each framework in turn, the order rotating from one repeat to the next, and the median of
the repeats is reported, so that a busy machine slows all of them alike. Each part also records how busy the
machine was while it ran, and the report flags it busy next to the figures when other processes took more than
a quarter of a core (their CPU time from ``/proc``, less this process's, its threads' and its descendants':
the data-parallel workers, a framework's subprocess). The load average and the spread of the repeats are
printed beside it, not judged: the benchmark's own threads and work raise them too.

Every case is printed beside the machine's **floor**: the time of its matrix products alone (forward, weight
and input gradients, every step) at NumPy's best measured rate here (the fastest of (c)'s NumPy runs, or a
measurement of the same products when (c) does not run), and each glassnet row's share of it, floor / time.

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
``glassnet, per-step loop`` (the compiled epoch of :func:`glassnet.fast.train_epoch` switched off: the Trainer's
Python loop around each step; in (e) for ``MLPClassifier`` too), ``glassnet, NumPy path`` (every compiled
kernel of :mod:`glassnet.fast` switched off: what they gain),
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
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from glassnet.bench import _frameworks as fw
from glassnet.bench._memory import bench_memory, memory_child
from glassnet.bench._report import machine_info, print_report, verdicts
from glassnet.bench._settings import (  # noqa: F401 (re-exported: the report's thresholds)
    BUSY_OTHER_CORES,
    NOISY_SPREAD,
    SETTINGS,
    SPEC_A,
    SPEC_B,
    SPEC_C,
    SPEC_E_SMALL,
    SPEC_E_WIDE,
    TARGETS,
)
from glassnet.bench._timing import MachineLoad, _frameworks, _warm_up, alternate, median, runners

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
        "gflop_per_epoch": gemm_flops(SPEC_A.sizes, len(X)) / 1e9,
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
    epochs, models = cfg["b_epochs"], {}
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
        fw.STEP_LOOP: fw.glassnet_predict,
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

    tasks = {name: (lambda name=name: task(name)) for name in frameworks}
    cpu: dict = {}
    with MachineLoad() as load:
        alternate(tasks, max(1, cfg["repeats"] - 2), cpu)
    return {
        "task": "Fashion-MNIST 784-256-128-10 ReLU, Adam lr 1e-3, batch 128",
        "rows": len(X),
        "epochs": epochs,
        "gflop_per_epoch": gemm_flops(SPEC_B.sizes, len(X)) / 1e9,  # linear in rows: the batches' sum
        "s_per_epoch": {name: median(t) / epochs for name, t in fit_times.items()},
        "s_per_epoch_fastest": {name: min(t) / epochs for name, t in fit_times.items()},
        "cpu_s_per_epoch": {name: median(t) / epochs for name, t in fit_cpu.items()},
        "test_accuracy": {name: float(np.mean(a)) for name, a in accuracies.items()},
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
        "gemm_gflops_best": flops / min(times["numpy matmul"]) / 1e9,  # the machine's floor (add_floors)
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


# --- the machine's floor ------------------------------------------------------------------------------------------

#: the keys of a case's work (GFLOP) and timings, their unit, and seconds per unit
_FLOOR_UNITS = (
    ("gflop_per_epoch", "ms_per_epoch", "ms/epoch", 1e-3),  # (a)
    ("gflop_per_epoch", "s_per_epoch", "s/epoch", 1.0),  # (b)
    ("gflop_per_fit", "s_per_fit", "s/fit", 1.0),  # (e)
)


def numpy_best_rate(cfg) -> float:
    """NumPy's best GFLOP/s on (c)'s matrix products (:func:`_gemm_reference`): the fastest of
    ``cfg["repeats"]`` runs of ``cfg["c_batches"]`` steps, for a run in which (c) did not measure it."""
    step = _gemm_reference(SPEC_C.sizes, SPEC_C.batch_size, np.random.default_rng(0))
    step()  # first call: the BLAS threads start
    best = float("inf")
    for _ in range(cfg["repeats"]):
        start = time.perf_counter()
        for _ in range(cfg["c_batches"]):
            step()
        best = min(best, time.perf_counter() - start)
    return gemm_flops(SPEC_C.sizes, SPEC_C.batch_size) * cfg["c_batches"] / best / 1e9


def _floor_cases(results: dict) -> list[tuple[dict, float, dict[str, float], str, float]]:
    """``(result, GFLOP, seconds of every row, unit, seconds per unit)`` of every case of (a), (b), (c) and
    (e) that ran."""
    cases = [results[k] for k in ("a", "b") if k in results] + list((results.get("e") or {}).values())
    out = []
    for res in cases:
        for work, timing, unit, seconds in _FLOOR_UNITS:
            if work in res and timing in res:
                out.append((res, res[work], {n: t * seconds for n, t in res[timing].items()}, unit, seconds))
    if "c" in results:  # seconds of a run: its GFLOP over each row's GFLOP/s
        c = results["c"]
        gflop = c["gflop_per_epoch"]
        out.append((c, gflop, {name: gflop / g for name, g in c["gflops"].items()}, "s", 1.0))
    return out


def add_floors(results: dict, cfg: dict) -> None:
    r"""The machine's floor for every case: the time of its matrix products alone (forward, weight and input
    gradients, every step: :func:`gemm_flops`) at NumPy's best measured rate,

    .. math:: \text{floor} = \frac{\text{GFLOP}}{\text{GFLOP/s}_{\text{NumPy, best}}}, \qquad
              \text{share} = \frac{\text{floor}}{\text{time}},

    with the rate of (c)'s own NumPy runs (their fastest) when (c) ran, measured here otherwise
    (:func:`numpy_best_rate`). Each case gets ``floor`` (its value in the case's unit and every glassnet
    row's share of it); ``results["floor_rate"]`` says what the rate was and where it came from."""
    cases = _floor_cases(results)
    if not cases:
        return
    if "c" in results:
        rate, source = results["c"]["gemm_gflops_best"], "(c)'s NumPy runs"
    else:
        rate, source = numpy_best_rate(cfg), "NumPy on (c)'s products, measured for the floor"
    results["floor_rate"] = {"gflops": rate, "from": source}
    for res, gflop, seconds, unit, per_unit in cases:
        floor = gflop / rate  # seconds
        share = {name: floor / t for name, t in seconds.items() if name.startswith("glassnet") and t > 0}
        res["floor"] = {"value": floor / per_unit, "unit": unit, "gflop": gflop, "share": share}


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


def _float64_copies():
    """``as64(X)``: a float64 copy of ``X``, made on the first call for that array and kept (so that the
    timed calls do not include the conversion)."""
    copies: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def as64(X: np.ndarray) -> np.ndarray:
        if id(X) not in copies:
            copies[id(X)] = (X, X.astype(np.float64))  # X kept alive: its id is not reused
        return copies[id(X)][1]

    return as64


def _estimator_case_fits(frameworks, jobs: int, overrides: dict, step_loop: bool = False) -> dict:
    """The fit functions of one case of (e): the estimators get ``overrides``; PyTorch and JAX the network.
    ``step_loop`` adds glassnet's rows with the compiled epoch off (the loop around each step)."""
    fits = {}
    if "glassnet" in frameworks:
        fits[fw.ESTIMATOR] = lambda s, X, y, e: fw.glassnet_default_estimator_fit(s, X, y, e, **overrides)
        fits["glassnet"] = lambda s, X, y, e: fw.glassnet_fit(dataclasses.replace(s, n_jobs=jobs), X, y, e)
        if step_loop:
            fits[fw.ESTIMATOR_STEP_LOOP] = lambda s, X, y, e: fw.glassnet_step_loop(
                fw.glassnet_default_estimator_fit, s, X, y, e, **overrides
            )
            fits[fw.STEP_LOOP] = lambda s, X, y, e: fw.glassnet_step_loop(
                fw.glassnet_fit, dataclasses.replace(s, n_jobs=jobs), X, y, e
            )
    if "sklearn" in frameworks:
        fits["sklearn"] = lambda s, X, y, e: fw.sklearn_fit(s, X, y, e, **overrides)
        if "glassnet" in frameworks:  # the same calls on float64 arrays (the copy made once, untimed)
            as64 = _float64_copies()
            fits[fw.ESTIMATOR_F64] = lambda s, X, y, e: fw.glassnet_default_estimator_fit(
                s, as64(X), y, e, **overrides
            )
            fits[fw.ESTIMATOR_F64_AS32] = lambda s, X, y, e: fw.glassnet_default_estimator_fit(
                s, as64(X), y, e, **overrides, dtype="float32"
            )
            fits[fw.SKLEARN_F64] = lambda s, X, y, e: fw.sklearn_fit(s, as64(X), y, e, **overrides)
    if "torch" in frameworks:
        fits["torch"] = fw.torch_fit
    if "jax" in frameworks:
        fits["jax"] = fw.jax_fit
    return fits


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
        fits = _estimator_case_fits(frameworks, cfg["jobs"], overrides, cfg.get("numpy_path", False))
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
            "gflop_per_fit": gemm_flops(spec.sizes, len(X)) * epochs / 1e9,
            "s_per_fit": {name: median(t) for name, t in times.items()},
            "s_per_fit_fastest": {name: min(t) for name, t in times.items()},
            "cpu_s_per_fit": {name: median(t) for name, t in cpu_s.items()},
            "estimator_plans": sorted(set(fw.PLANS)),  # (shards, processes) n_jobs=None chose, per fit
            "machine_load": load.report(times),
        }
    return out


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
        from glassnet.nn.network import build_mlp
        from glassnet.nn.optim import Adam
        from glassnet.training import parallel

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
    add_floors(results, cfg)
    results["seconds"] = time.perf_counter() - started
    results["targets"] = verdicts(results)
    print_report(results)
    _write_json(results, args.json, threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
