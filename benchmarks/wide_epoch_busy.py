"""The Fashion-MNIST recipe's epoch on an idle machine and beside one spinning process, for checkouts side by side.

    python benchmarks/wide_epoch_busy.py [--repeats 3] SRC [SRC ...]

Each SRC is a checkout's ``src/`` folder (e.g. ``src`` and ``/tmp/before/src`` from ``git worktree add``). For
each repeat and each SRC, in turn: one epoch of 784-1024-1024-10 ReLU with dropout 0.2, Adam, batches of 128 on
12,800 random rows (after a warm-up epoch on 1,280), in a fresh process, first on the machine as it is, then
with one extra process spinning on a core. Prints wall and CPU seconds of every run and the medians, and a
checksum of the trained weights: the same checkout gives the same weights idle and busy.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys

EPOCH = r"""
import time, numpy as np
from glassnet.network import build_mlp
from glassnet.optim import Adam
from glassnet.training import Trainer
rng = np.random.default_rng(0)
X = rng.standard_normal((12800, 784)).astype(np.float32)
y = rng.integers(0, 10, 12800)
net = build_mlp([784, 1024, 1024, 10], seed=0, dropout=0.2)
trainer = Trainer(net, Adam(lr=1e-3), batch_size=128, seed=0)
trainer.fit(X[:1280], y[:1280], epochs=1)
wall, cpu = time.perf_counter(), time.process_time()
trainer.fit(X, y, epochs=1)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(wall, cpu, float(net.flat_params.astype(np.float64) @ np.arange(net.flat_params.size) % 1e6))
"""


def _spin(stop) -> None:  # pragma: no cover - runs in a child process
    while not stop.is_set():
        pass


def _epoch(src: str) -> tuple[float, float, float]:
    env = {**os.environ, "PYTHONPATH": src}
    out = subprocess.run([sys.executable, "-c", EPOCH], env=env, capture_output=True, text=True, check=True)
    wall, cpu, checksum = (float(v) for v in out.stdout.split())
    return wall, cpu, checksum


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("src", nargs="+", help="checkouts' src/ folders")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runs: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    ctx = multiprocessing.get_context("spawn")
    for _ in range(args.repeats):
        for src in args.src:
            runs.setdefault((src, "idle"), []).append(_epoch(src))
            stop = ctx.Event()
            spinner = ctx.Process(target=_spin, args=(stop,), daemon=True)
            spinner.start()
            try:
                runs.setdefault((src, "busy"), []).append(_epoch(src))
            finally:
                stop.set()
                spinner.join(5)
    print(f"{'checkout':30s} {'machine':7s} {'wall s (median)':>16s} {'CPU s (median)':>15s}  checksums")
    for (src, how), values in runs.items():
        wall = statistics.median(v[0] for v in values)
        cpu = statistics.median(v[1] for v in values)
        sums = sorted({f"{v[2]:.6f}" for v in values})
        print(f"{src:30s} {how:7s} {wall:16.2f} {cpu:15.2f}  {', '.join(sums)}")
    for src in args.src:
        idle = statistics.median(v[0] for v in runs[(src, "idle")])
        busy = statistics.median(v[0] for v in runs[(src, "busy")])
        print(f"{src}: busy / idle wall {busy / idle:.2f}")


if __name__ == "__main__":
    main()
