"""The speed benchmark's report: the machine, the tables with their ratios, and the verdicts against the
targets."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from glassnet.bench import _frameworks as fw
from glassnet.bench._settings import NOISY_SPREAD, TARGETS
from glassnet.bench._timing import _loadavg

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


def _floor_verdicts(results: dict, setting: str) -> list[dict]:
    """(b) on one thread: glassnet's best share of the machine's floor (above 1, not measurable)."""
    floor = (results.get("b") or {}).get("floor")
    limit = TARGETS["floor_share_b"].get(setting)
    shares = [v for k, v in ((floor or {}).get("share") or {}).items() if k in GLASSNET_ROWS]
    if limit is None or not shares:
        return []
    f = max(shares)
    busy = results["b"].get("machine_load", {}).get("busy", False) or f > 1.0
    return [_verdict("(b) glassnet share of the machine's floor", f, f">= {limit}", f >= limit, busy)]


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
        if fw.ESTIMATOR_F64 in t and fw.SKLEARN_F64 in t:  # the call a user makes on the loaders' float64
            r, limit = _ratio(t[fw.ESTIMATOR_F64], t[fw.SKLEARN_F64]), TARGETS["epoch_time_vs_sklearn"]
            rows.append(_verdict(f"{label}/sklearn, float64 input", r, f"<= {limit:.2f}", r <= limit, busy))
            if fw.ESTIMATOR_F64_AS32 in t:  # reported beside it: the same arrays with dtype='float32'
                r = _ratio(t[fw.ESTIMATOR_F64_AS32], t[fw.SKLEARN_F64])
                label32 = f"{label}/sklearn, float64 input, dtype='float32'"
                rows.append(_verdict(label32, r, f"<= {limit:.2f}", r <= limit, busy))
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
        + _floor_verdicts(results, setting)
        + _memory_verdicts(results)
    )


def _fmt(value, digits=3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _busy_line(res: dict) -> str:
    """How busy the machine was while the part ``res`` ran: flagged busy only by other processes' work
    (:class:`glassnet.bench._timing.MachineLoad`); this process's cores, the load average (which counts this
    benchmark's own threads) and the spread of the repeats are printed beside it, as facts."""
    load = res.get("machine_load") or {}
    if not load:
        return ""
    if "busy" not in load:  # several timings (d): the worst
        load = max(load.values(), key=lambda v: (v.get("busy", False), v.get("other_cores") or 0.0))
    other, la = load.get("other_cores"), (load.get("loadavg") or [None])[0]
    spread_max = max((load.get("spread") or {}).values(), default=0.0)
    cpu = res.get("cpu_per_wall") or {}
    facts = [f"this process kept {min(cpu.values()):.2f}-{max(cpu.values()):.2f} cores busy"] if cpu else []
    facts.append(f"load average {_fmt(la, 2)}, this benchmark's threads included")
    spread_text = f"repeats within {100 * spread_max:.0f} %"
    if spread_max > NOISY_SPREAD:  # the benchmark's own work spreads them too: noisy, not busy
        spread_text = f"repeats spread by up to {100 * spread_max:.0f} %: read the fastest figures too"
    if load.get("busy"):
        return (
            f"  !! MACHINE BUSY ({load['why']}; {'; '.join(facts)}): these figures and ratios are not "
            "reliable; rerun on an idle machine (on one thread, read the CPU times)"
        )
    text = "; ".join([*facts, spread_text])
    if other is None:
        return f"  other processes' work not measured here (no /proc/stat); {text}"
    return f"  machine idle enough (other processes used {other:.2f} cores; {text})"


#: the order of the rows in every table of the report
REPORT_ORDER = (
    "glassnet",
    fw.ONE_PROCESS,
    fw.STEP_LOOP,
    fw.NUMPY_PATH,
    fw.ESTIMATOR,
    fw.ESTIMATOR_STEP_LOOP,
    fw.ESTIMATOR_F64,
    fw.ESTIMATOR_F64_AS32,
    "torch",
    "jax",
    fw.JAX_STEP,
    "sklearn",
    fw.SKLEARN_F64,
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
    rate = results.get("floor_rate")
    if rate:
        p(f"floor of each case: its matrix products alone at NumPy's best rate here, {rate['gflops']:.1f} GFLOP/s "
          f"({rate['from']})")  # fmt: skip


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


def _share(value: float) -> str:
    """A share of the floor in per cent; above 1 the NumPy runs were slowed, and it is not measurable."""
    if value > 1.0:
        return "above 100 % (not measurable: the NumPy runs were slowed)"
    return f"{100 * value:.0f} %"


def _print_floor(res: dict, p: Printer) -> None:
    """The case's floor (:func:`glassnet.bench.speed.add_floors`): the time of its matrix products alone at
    NumPy's best rate, and every glassnet row's share of it (floor / its time)."""
    floor = res.get("floor")
    if floor:
        shares = ", ".join(f"{name} {_share(v)}" for name, v in floor["share"].items())
        p(f"  floor {_fmt(floor['value'])} {floor['unit']} ({floor['gflop']:.3g} GFLOP of matrix products); "
          f"share of it: {shares}")  # fmt: skip


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
    _print_floor(res, p)
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
    _print_floor(r, p)
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
        if r.get("cpu_s_per_fit"):  # other work on the machine changes these least
            p("  CPU time of this process, s per fit:")
            for name, value, ratio in _ratios(r["cpu_s_per_fit"], base=fw.ESTIMATOR, label="MLPClassifier"):
                p(f"  {name:24s} {_fmt(value):>10s} s{ratio}")
        _print_plans(r, p)
        _print_floor(r, p)
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
