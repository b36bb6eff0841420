"""How much glassnet.widget.LiveFit slows a fit: the same fits with and without it, in a real Jupyter kernel.

The fits run inside an IPython kernel (started with jupyter_client, as a notebook would), so each update is
serialised and sent over the kernel's sockets as in JupyterLab; no frontend draws them, which costs the
kernel nothing more. Each run is a pair (without then with, or with then without, alternately); the overhead is the
median of the pairs' ratios. On a busy machine that ratio is noisy (other work lands in one run of a pair
and not the other), so two more are measured: the kernel's CPU time (all its threads, the one that sends
the updates included), with over without, and the time spent inside LiveFit's hooks as a share of the
watched fit: what the widget itself costs, whatever else the machine does.

    python benchmarks/widget_overhead.py > benchmarks/results/widget-overhead.json   # three cases, 5 runs each
    python benchmarks/widget_overhead.py --runs 9 --no-kernel   # in this process (updates go nowhere)

Cases: (a) a Trainer on 2-D moons, 500 epochs (decision map every update), (b) MLPClassifier on scikit-learn's 8 x 8
digits, up to 600 epochs (16 weight pictures), (c) MNIST-sized random images (784 features, 28 x 28 pictures),
40 epochs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap


def kernel_code(runs: int) -> str:
    """The code the kernel runs: every case, printing one JSON line of results."""
    return CASES_SIMPLE + f"\nprint(json.dumps(run_all({runs})))\n"


CASES_SIMPLE = textwrap.dedent(
    """
    import json, statistics, time, warnings
    import numpy as np
    from sklearn.datasets import load_digits, make_moons
    from glassnet.estimators import MLPClassifier
    from glassnet.network import build_mlp
    from glassnet.optim import Adam
    from glassnet.training import Trainer
    from glassnet.widget import LiveFit

    def moons(callbacks):
        X, y = make_moons(2000, noise=0.2, random_state=0)
        net = build_mlp([2, 32, 32, 2], activation="tanh", seed=0)
        Trainer(net, Adam(0.01), batch_size=32, seed=0, n_jobs=1, callbacks=callbacks).fit(X, y, epochs=500)

    def digits(callbacks):
        X, y = load_digits(return_X_y=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning
            MLPClassifier(hidden_layer_sizes=(64,), max_iter=600, random_state=0, n_jobs=1).fit(
                X / 16, y, callbacks=callbacks)

    def images(callbacks):
        rng = np.random.default_rng(0)
        X, y = rng.random((4000, 784)).astype(np.float32), rng.integers(0, 10, 4000)
        net = build_mlp([784, 128, 10], seed=0)
        Trainer(net, Adam(0.001), batch_size=64, seed=0, n_jobs=1, callbacks=callbacks).fit(X, y, epochs=40)

    def widget_for(name):
        if name == "moons":
            X, y = make_moons(2000, noise=0.2, random_state=0)
            return LiveFit(data=(X, y), display=False)
        return LiveFit(display=False)

    def timed(live):
        # wrap the LiveFit's hooks with a clock; the list's one item sums their time
        spent = [0.0]
        for hook in ("on_train_begin", "on_epoch_end", "on_train_end"):  # the hooks LiveFit has
            def wrapper(*args, _method=getattr(live, hook)):
                start = time.perf_counter()
                _method(*args)
                spent[0] += time.perf_counter() - start
            setattr(live, hook, wrapper)
        return spent

    def run_all(runs):
        results = {}
        for name, case in (("a_moons_trainer", moons), ("b_digits_estimator", digits), ("c_images_784", images)):
            case([])  # warm up (imports, first allocations)
            plain, watched, ratios, cpu_ratios, updates, inside = [], [], [], [], [], []
            for run in range(runs):
                times, cpu = {}, {}
                for watch in (False, True) if run % 2 == 0 else (True, False):  # alternate the order
                    live = widget_for(name.split("_")[1]) if watch else None
                    spent = timed(live) if watch else None
                    start, start_cpu = time.perf_counter(), time.process_time()
                    case([live] if watch else [])
                    times[watch] = time.perf_counter() - start
                    cpu[watch] = time.process_time() - start_cpu  # every thread of the kernel: sending too
                    if watch:
                        updates.append(live.updates)
                        inside.append(spent[0] / times[True])
                plain.append(times[False])
                watched.append(times[True])
                ratios.append(times[True] / times[False])  # each pair ran back to back: less drift
                cpu_ratios.append(cpu[True] / cpu[False])
            results[name] = {
                "without_s": round(statistics.median(plain), 4),
                "with_s": round(statistics.median(watched), 4),
                "overhead_pct": round(100 * (statistics.median(ratios) - 1), 2),
                "cpu_overhead_pct": round(100 * (statistics.median(cpu_ratios) - 1), 2),
                "in_callback_pct": round(100 * statistics.median(inside), 2),
                "updates": statistics.median(updates),
                "runs": runs,
            }
        return results
    """
)


def in_kernel(runs: int) -> dict:
    """Run the cases in a fresh IPython kernel; returns their results."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    lines = []

    def keep(msg):
        if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
            lines.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            lines.append("ERROR " + "\n".join(msg["content"]["traceback"]))

    try:
        reply = kc.execute_interactive(kernel_code(runs), timeout=1800, output_hook=keep)
        if reply["content"]["status"] != "ok":
            raise RuntimeError("the kernel failed:\n" + "".join(lines))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return json.loads("".join(lines).strip().splitlines()[-1])


def in_process(runs: int) -> dict:
    scope: dict = {}
    exec(CASES_SIMPLE, scope)  # noqa: S102 - our own code above
    return scope["run_all"](runs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each fit, with and without (default 5)")
    parser.add_argument("--no-kernel", action="store_true", help="run in this process, not in a kernel")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]  # how busy the machine was: the wall-clock ratios are only as good
    results = in_process(args.runs) if args.no_kernel else in_kernel(args.runs)
    machine = {"cpus": os.cpu_count(), "load_before": load_before, "load_after": os.getloadavg()[0]}
    mode = "process" if args.no_kernel else "kernel"
    print(json.dumps({"mode": mode, "machine": machine, "results": results}, indent=2))
    print(f"{'case':<22}{'without s':>11}{'with s':>9}{'wall':>8}{'cpu':>8}{'in LiveFit':>12}{'updates':>9}",
          file=sys.stderr)  # fmt: skip
    for name, r in results.items():
        print(f"{name:<22}{r['without_s']:>11.3f}{r['with_s']:>9.3f}{r['overhead_pct']:>7.1f}%{r['cpu_overhead_pct']:>7.1f}%"
              f"{r['in_callback_pct']:>11.2f}%{r['updates']:>9}", file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
