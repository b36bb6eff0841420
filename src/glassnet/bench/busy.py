"""How much slower glassnet gets when another process keeps one core busy (a benchmark, not a test).

``python -m glassnet.bench.busy`` times three everyday jobs, each on the machine as it is and with one extra
process spinning on a core, alternately, and prints the medians and the ratio busy / idle:

- ``glassnet compare`` (``--quick`` in the quick version),
- ``glassnet train --dataset digits`` (10 epochs; 2 in the quick version),
- a default-settings ``glassnet.MLPClassifier`` fit on the digits.

glassnet chooses its BLAS threads for the work (:mod:`glassnet.training.threads`): one per process for the small
matrices of these jobs, whose thread pool would otherwise stall when a core is taken. The target is a ratio of
at most 1.5. The idle runs are only as idle as the machine: the load average is printed beside the figures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["main"]


def _spin(stop) -> None:  # pragma: no cover - runs in a child process
    while not stop.is_set():
        pass


def _jobs(quick: bool, out: Path) -> dict[str, list[str]]:
    glassnet = [sys.executable, "-m", "glassnet"]
    fit = (
        "import warnings; warnings.simplefilter('ignore'); from sklearn.datasets import load_digits; "
        "import glassnet; X, y = load_digits(return_X_y=True); "
        f"glassnet.MLPClassifier(random_state=0{', max_iter=20' if quick else ''}).fit(X / 16, y)"
    )
    return {
        "glassnet compare" + (" --quick" if quick else ""): [
            *glassnet, "compare", *(["--quick"] if quick else []), "--no-progress", "--out", str(out / "c"),
        ],
        "glassnet train --dataset digits": [
            *glassnet, "train", "--dataset", "digits", "--epochs", "2" if quick else "10", "--no-progress",
            "--no-report", "-o", str(out / "m.npz"),
        ],
        "MLPClassifier().fit(digits)": [sys.executable, "-c", fit],
    }  # fmt: skip


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def measure(quick: bool = False, repeats: int = 3) -> dict:
    """``{job: {"idle": [s, ...], "busy": [s, ...]}}``, idle and busy runs alternating."""
    results: dict[str, dict[str, list[float]]] = {}
    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        for name, cmd in _jobs(quick, Path(tmp)).items():
            runs = results.setdefault(name, {"idle": [], "busy": []})
            for _ in range(repeats):
                runs["idle"].append(_time(cmd))
                stop = ctx.Event()
                spinner = ctx.Process(target=_spin, args=(stop,), daemon=True)
                spinner.start()
                try:
                    runs["busy"].append(_time(cmd))
                finally:
                    stop.set()
                    spinner.join(5)
    return results


def report(results: dict) -> str:
    lines = [f"{'job':40s} {'idle (s)':>9s} {'busy (s)':>9s} {'busy/idle':>9s}"]
    for name, runs in results.items():
        idle, busy = statistics.median(runs["idle"]), statistics.median(runs["busy"])
        lines.append(f"{name:40s} {idle:9.2f} {busy:9.2f} {busy / idle:9.2f}")
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    lines.append(f"medians of each job's runs; load average now {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f} on "
                 f"{os.cpu_count()} cores (target: busy/idle <= 1.5)")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m glassnet.bench.busy", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="shorter jobs (compare --quick, 2 epochs)")
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs of each job in each condition (default 3)"
    )
    parser.add_argument("--json", default="bench-results/busy.json", help="where to write the raw times")
    args = parser.parse_args(argv)
    results = measure(args.quick, args.repeats)
    print(report(results))
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2))
    print(f"raw times: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
