"""How much slower glassnet gets when another process keeps one core busy (a benchmark, not a test).

``python -m glassnet.bench.busy`` times everyday jobs and issue 22's big cases, each on the machine as it is
and beside one extra process spinning on a core, alternately, and prints for every job the medians and two
ratios busy / idle: the **wall time** (target: at most 1.5) and the **CPU time** the job's processes spent
(target: at most 1.3; ``resource.getrusage(RUSAGE_CHILDREN)`` around each job, the spinner left out). A thread
pool that spins while it waits for a taken core shows in the second even when the first looks fine.

==========  ===========================================================================================
``compare``  ``glassnet compare`` (``--quick`` in the quick version)
``train``    ``glassnet train --dataset digits`` (10 epochs; 2 in the quick version)
``fit``      a default-settings ``glassnet.MLPClassifier`` fit on the digits (20 epochs in the quick version)
``recipe``   one epoch of the Fashion-MNIST recipe (:mod:`glassnet.recipes`: 784-1024-1024-10 ReLU, dropout
             0.2, Adam, batch 128) on 12,800 of its rows (3,200 quick); random data of that shape when
             Fashion-MNIST is not installed
``wide``     the wide case of ``glassnet bench speed`` (e) with default settings:
             ``MLPClassifier(hidden_layer_sizes=(1024, 1024), max_iter=3)`` on 6,400 random rows of 784
             features (1,600 rows and 2 epochs quick)
==========  ===========================================================================================

``--only recipe,wide`` picks jobs. glassnet chooses its BLAS threads for the work
(:mod:`glassnet.training.threads`): one per process for the small matrices of the everyday jobs, whose thread
pool would otherwise stall when a core is taken; the big cases' products are large enough for several. The
idle runs are only as idle as the machine: the load average is printed beside the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from glassnet.bench._timing import children_cpu

__all__ = ["JOBS", "main", "measure", "report"]

#: the jobs, in the order they run (``--only`` takes these names)
JOBS = ("compare", "train", "fit", "recipe", "wide")

#: the targets: busy / idle at most this, for the wall time and for the CPU time
TARGETS = {"wall": 1.5, "cpu": 1.3}

#: the big cases' work: rows of the recipe's epoch; rows and epochs of the wide fit
SIZES = {"quick": {"recipe_rows": 3200, "wide_rows": 1600, "wide_epochs": 2},
         "full": {"recipe_rows": 12_800, "wide_rows": 6400, "wide_epochs": 3}}  # fmt: skip

# the jobs that fit an estimator on arrays prepared beforehand (an .npz), so that loading them costs nothing
_FIT_ARRAYS = """
import sys, warnings
import numpy as np
from glassnet import MLPClassifier
from glassnet.recipes import recommended_fashion_mnist
data = np.load(sys.argv[1])
params = recommended_fashion_mnist() if sys.argv[2] == "recipe" else {"hidden_layer_sizes": (1024, 1024)}
warnings.simplefilter("ignore")  # ConvergenceWarning: the few epochs are on purpose
MLPClassifier(**{**params, "max_iter": int(sys.argv[3])}, random_state=0).fit(data["X"], data["y"])
"""

_SPIN = "while True:\n    pass"


def _arrays(out: Path, sizes: dict) -> tuple[Path, Path, str]:
    """The recipe's rows (Fashion-MNIST's, else random of its shape) and the wide case's random rows, each
    written to an ``.npz`` in ``out``; and which data the recipe got."""
    from glassnet.data import DataNotFoundError, load_dataset

    rng = np.random.default_rng(0)
    rows = sizes["recipe_rows"]
    try:
        data = load_dataset("fashion-mnist").subsample(n_train=rows, seed=0)
        X, y, source = data.X_train, data.y_train, f"{rows:,} rows of Fashion-MNIST"
    except DataNotFoundError:
        X, y = rng.random((rows, 784), dtype=np.float32), rng.integers(0, 10, rows)
        source = f"{rows:,} random rows (Fashion-MNIST is not installed)"
    np.savez(out / "recipe.npz", X=X, y=y)
    n = sizes["wide_rows"]
    np.savez(out / "wide.npz", X=rng.standard_normal((n, 784)), y=rng.integers(0, 10, n))  # float64, as users
    return out / "recipe.npz", out / "wide.npz", source


def _jobs(quick: bool, out: Path, only=JOBS) -> tuple[dict[str, tuple[str, list[str]]], list[str]]:
    """``{name: (title, command)}`` of the jobs in ``only`` (their outputs under ``out``), and notes."""
    glassnet = [sys.executable, "-m", "glassnet"]
    fit = (
        "import warnings; warnings.simplefilter('ignore'); from sklearn.datasets import load_digits; "
        "import glassnet; X, y = load_digits(return_X_y=True); "
        f"glassnet.MLPClassifier(random_state=0{', max_iter=20' if quick else ''}).fit(X / 16, y)"
    )
    sizes, notes = SIZES["quick" if quick else "full"], []
    jobs = {
        "compare": ("glassnet compare" + (" --quick" if quick else ""), [
            *glassnet, "compare", *(["--quick"] if quick else []), "--no-progress", "--out", str(out / "c")]),
        "train": ("glassnet train --dataset digits", [
            *glassnet, "train", "--dataset", "digits", "--epochs", "2" if quick else "10", "--no-progress",
            "--no-report", "-o", str(out / "m.npz")]),
        "fit": ("MLPClassifier().fit(digits)", [sys.executable, "-c", fit]),
    }  # fmt: skip
    if {"recipe", "wide"} & set(only):
        recipe, wide, source = _arrays(out, sizes)
        notes.append(f"recipe: {source}")
        fit_arrays = [sys.executable, "-c", _FIT_ARRAYS]
        jobs["recipe"] = ("Fashion-MNIST recipe, one epoch", [*fit_arrays, str(recipe), "recipe", "1"])
        epochs = sizes["wide_epochs"]
        jobs["wide"] = (
            f"wide MLPClassifier(), {epochs} epochs",
            [*fit_arrays, str(wide), "wide", str(epochs)],
        )
    return {name: jobs[name] for name in JOBS if name in only}, notes


def run_job(cmd: list[str]) -> tuple[float, float | None]:
    """Run ``cmd`` to its end: its wall seconds and the CPU seconds of its processes (their children
    included, as far as each waited for its own)."""
    cpu, start = children_cpu(), time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall, after = time.perf_counter() - start, children_cpu()
    return wall, None if cpu is None else after - cpu


def _busy_run(cmd: list[str], spin: list[str] | None = None) -> tuple[float, float | None]:
    """:func:`run_job` beside a process spinning on a core (``spin``, for tests); the spinner is ended and
    reaped only after the job's CPU time was read, so that it is not counted."""
    spinner = subprocess.Popen(spin or [sys.executable, "-c", _SPIN])
    try:
        return run_job(cmd)
    finally:
        spinner.kill()
        spinner.wait()


def measure(quick: bool = False, repeats: int = 3, only=JOBS) -> dict:
    """``{"jobs": {title: {"idle": [s, ...], "busy": [...], "idle_cpu": [...], "busy_cpu": [...]}},
    "notes": [...]}``: idle and busy runs alternate, which comes first swapping from one repeat to the next."""
    results: dict[str, dict[str, list]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        jobs, notes = _jobs(quick, Path(tmp), only)
        for title, cmd in jobs.values():
            runs = results.setdefault(title, {"idle": [], "busy": [], "idle_cpu": [], "busy_cpu": []})
            for r in range(repeats):
                for condition in ("idle", "busy") if r % 2 == 0 else ("busy", "idle"):
                    wall, cpu = (run_job if condition == "idle" else _busy_run)(cmd)
                    runs[condition].append(wall)
                    runs[f"{condition}_cpu"].append(cpu)
    return {"jobs": results, "notes": notes}


def _ratio_cell(runs: dict, key: str) -> tuple[str, float | None]:
    """The medians of idle and busy ``key`` runs and their ratio, formatted; and the ratio."""
    idle, busy = runs.get(f"idle{key}") or [], runs.get(f"busy{key}") or []
    if not idle or not busy or None in idle or None in busy:
        return f"{'-':>9s} {'-':>9s} {'-':>9s}", None
    i, b = statistics.median(idle), statistics.median(busy)
    return f"{i:9.2f} {b:9.2f} {b / i:9.2f}", b / i


def report(results: dict) -> str:
    """The table of :func:`measure`'s results: per job, wall and CPU medians, their ratios busy / idle, and
    whether they meet :data:`TARGETS`."""
    lines = [f"{'job':36s} {'idle (s)':>9s} {'busy (s)':>9s} {'busy/idle':>9s} {'idle CPU':>9s} "
             f"{'busy CPU':>9s} {'busy/idle':>9s}  targets"]  # fmt: skip
    for title, runs in results["jobs"].items():
        wall_text, wall = _ratio_cell(runs, "")
        cpu_text, cpu = _ratio_cell(runs, "_cpu")
        missed = [what for what, r in (("wall", wall), ("cpu", cpu)) if r is not None and r > TARGETS[what]]
        verdict = "MISSED: " + ", ".join(missed) if missed else "met"
        lines.append(f"{title:36s} {wall_text} {cpu_text}  {verdict}")
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    lines.append(f"medians of each job's runs; targets busy/idle: wall <= {TARGETS['wall']}, CPU <= "
                 f"{TARGETS['cpu']}; load average now {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f} on "
                 f"{os.cpu_count()} cores")  # fmt: skip
    lines += [f"note: {note}" for note in results.get("notes", [])]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the jobs, print :func:`report` and write the raw times as JSON; 2 when ``--only`` names an
    unknown job."""
    parser = argparse.ArgumentParser(
        prog="python -m glassnet.bench.busy", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="shorter jobs (compare --quick, 2 epochs, ...)")
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs of each job in each condition (default 3)"
    )
    parser.add_argument("--only", default=",".join(JOBS), help=f"comma-separated subset of {','.join(JOBS)}")
    parser.add_argument("--json", default="bench-results/busy.json", help="where to write the raw times")
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(only) - set(JOBS))
    if unknown or not only:
        print(f"error: --only takes {', '.join(JOBS)}; got {unknown or only}", file=sys.stderr)
        return 2
    results = measure(args.quick, args.repeats, only)
    print(report(results))
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2))
    print(f"raw times: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
