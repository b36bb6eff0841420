r"""Accuracy against peers on the same folds: glassnet's recipes next to an RBF SVC and scikit-learn's MLP,
each rerun here, with the accuracy it reached and the CPU time it took.

Run ``python -m glassnet.bench.accuracy_cv`` (or ``glassnet bench accuracy_cv``)::

    glassnet bench accuracy_cv --dataset digits --cv-seeds 11 23     # 5x2 CV on folds drawn with each seed
    glassnet bench accuracy_cv --dataset fashion-mnist --validation  # the split the settings were chosen on
    glassnet bench accuracy_cv --dataset fashion-mnist --peers       # the test set, scikit-learn's MLP too

=================  ============================================================================================
digits             scikit-learn's 8x8 digits (1,797 images, pixels / 16), 5x2 stratified cross-validation
                   (``RepeatedStratifiedKFold(n_splits=2, n_repeats=5, random_state=s)`` for every ``s`` of
                   ``--cv-seeds``): every method is trained and scored on the same 10 folds. Reported: the mean
                   and standard deviation of the 10 test-fold accuracies per seed, the CPU seconds per fold, and
                   the folds on which glassnet's recipe beat, tied with or lost to the RBF SVC.
fashion-mnist      the official split (60,000 / 10,000), or with ``--validation`` the 50,000 / 10,000 split of the
                   training set the settings were chosen on (permutation seed 0); training wall and CPU time.
=================  ============================================================================================

The peers, with the settings the issue measured them with:

- ``svc``: ``sklearn.svm.SVC(C=10, gamma='scale')`` (RBF kernel; digits only: its kernel matrix on 60,000
  images would not fit a small machine's time),
- ``sklearn-mlp``: ``sklearn.neural_network.MLPClassifier``, ``(256,)`` with ``alpha=1e-3`` on the digits,
  ``(256, 128)`` with early stopping on Fashion-MNIST.

CPU time is :func:`time.process_time` around ``fit`` and ``score`` (every thread of this process: the BLAS
threads included), so it counts the work, not the waiting on a machine shared with other jobs; for an
ensemble whose members are fitted in processes (the Fashion-MNIST recipe's ``ensemble_jobs``), the processes'
CPU time is added (they are stopped after the fit, so that the system reports it). The digits run on one BLAS
thread; Fashion-MNIST's members on one BLAS thread each, one process per core, or with ``--jobs 1`` one after
another on ``--threads`` (default 2).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from glassnet._files import write_atomic
from glassnet.bench._timing import children_cpu
from glassnet.bench.accuracy import TARGETS, _jsonable, fashion_split, recipe_summary

__all__ = ["DIGITS_METHODS", "compare_folds", "format_report", "main", "run_digits_cv", "run_fashion"]

#: method name -> description, in the order of the digits table
DIGITS_METHODS = {
    "glassnet": "glassnet recipe (digits)",
    "glassnet-one": "glassnet, one network of the recipe",
    "svc": "RBF SVC (C=10, gamma='scale')",
    "sklearn-mlp": "scikit-learn MLPClassifier (256,), alpha=1e-3",
}


def _thread_limit(n_threads: int):
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=int(n_threads), user_api="blas")


def _stop_workers() -> None:
    """Stop joblib's worker processes, so that their CPU time counts in :func:`children_cpu`."""
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)


def _fit_timed(model, X, y) -> tuple[float, float]:
    """Wall and CPU seconds of ``model.fit(X, y)``, the CPU time of member processes included."""
    cpu, wall, children = time.process_time(), time.perf_counter(), children_cpu()
    model.fit(X, y)
    _stop_workers()
    train_wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return train_wall, cpu if children is None else cpu + children_cpu() - children


def _timed(model, X_train, y_train, X_test, y_test) -> tuple[float, float]:
    """``(accuracy, cpu_seconds)`` of fitting ``model`` and scoring it on the test rows."""
    cpu = time.process_time()
    accuracy = float(model.fit(X_train, y_train).score(X_test, y_test))
    return accuracy, time.process_time() - cpu


def compare_folds(ours, theirs) -> dict:
    """Fold-by-fold comparison of two lists of accuracies on the same folds: ``{"won", "tied", "lost"}``.

    >>> compare_folds([0.99, 0.98, 0.97], [0.98, 0.98, 0.99])
    {'won': 1, 'tied': 1, 'lost': 1}
    """
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    if ours.shape != theirs.shape:
        raise ValueError(
            f"compare_folds needs accuracies on the same folds; got {ours.shape} and {theirs.shape}."
        )
    # accuracies are counts / n_test: equal counts give floats equal to rounding
    diff = np.round(ours - theirs, 12)
    return {"won": int(np.sum(diff > 0)), "tied": int(np.sum(diff == 0)), "lost": int(np.sum(diff < 0))}


# --- digits ------------------------------------------------------------------------------------------------------


def _digits_peer(name: str, seed: int):
    if name == "svc":
        from sklearn.svm import SVC

        return SVC(C=10, gamma="scale")
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier((256,), alpha=1e-3, max_iter=200, random_state=seed)


def _digits_folds(X, y, seed: int, n_repeats: int, methods, overrides: dict, log) -> tuple[dict, dict]:
    """Every method on the folds of one CV seed: ``(accuracies, cpu_seconds)``, each method -> list per fold."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    from glassnet.recipes import make_estimator

    folds = RepeatedStratifiedKFold(n_splits=2, n_repeats=n_repeats, random_state=seed).split(X, y)
    acc, cpu = {m: [] for m in methods}, {m: [] for m in methods}
    with _thread_limit(1):  # small matrices: one thread is fastest, and CPU time is then the work
        for k, (train, test) in enumerate(folds):
            for name in methods:
                if name == "glassnet-one":
                    continue  # scored from the recipe's members below
                if name == "glassnet":
                    model = make_estimator("digits", random_state=seed + k, n_jobs=1, **overrides)
                else:
                    model = _digits_peer(name, seed + k)
                score, seconds = _timed(model, X[train], y[train], X[test], y[test])
                acc[name].append(score)
                cpu[name].append(seconds)
                if name == "glassnet" and "glassnet-one" in methods:
                    members = getattr(model, "estimators_", [model])
                    acc["glassnet-one"].append(float(np.mean([m.score(X[test], y[test]) for m in members])))
                    cpu["glassnet-one"].append(seconds / len(members))
            log(
                f"  digits seed {seed} fold {k + 1}/{2 * n_repeats}: "
                + ", ".join(f"{m} {acc[m][-1]:.4f}" for m in methods)
            )
    return acc, cpu


def run_digits_cv(
    cv_seeds=(11, 23), n_repeats: int = 5, methods=tuple(DIGITS_METHODS), overrides=None, log=print
) -> dict:
    """5x2 stratified CV of the digits recipe and its peers on the folds of every seed in ``cv_seeds``.

    Parameters
    ----------
    cv_seeds : sequence of int
        Seeds of ``RepeatedStratifiedKFold``; the networks of fold ``k`` are seeded ``seed + k``.
    n_repeats : int
        Repeats of 2-fold CV (5 for 5x2; 1 for a quick look).
    methods : sequence of str
        Keys of :data:`DIGITS_METHODS`; ``"glassnet-one"`` comes with ``"glassnet"`` (its members' scores).
    overrides : dict, optional
        Keyword arguments replacing the recipe's (``max_iter``, ``n_ensemble``, ...).
    log : callable
        Progress lines.

    Returns
    -------
    dict
        JSON-able: per seed and method, the fold accuracies, mean, std and CPU seconds per fold; the
        glassnet-against-SVC fold counts.
    """
    from sklearn.datasets import load_digits

    from glassnet.recipes import DIGITS

    unknown = sorted(set(methods) - set(DIGITS_METHODS))
    if unknown:
        raise ValueError(f"Unknown method(s) {unknown}; expected some of {list(DIGITS_METHODS)}.")
    overrides = dict(overrides or {})
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)  # pixels 0..16 -> [0, 1], as glassnet.data scales them
    runs = {}
    for seed in cv_seeds:
        acc, cpu = _digits_folds(X, y, int(seed), n_repeats, methods, overrides, log)
        run = {
            m: {
                "fold_accuracies": acc[m],
                "mean": float(np.mean(acc[m])),
                "std": float(np.std(acc[m])),
                "cpu_seconds_per_fold": float(np.mean(cpu[m])),
            }
            for m in methods
        }
        if "glassnet" in methods and "svc" in methods:
            run["glassnet_vs_svc"] = compare_folds(acc["glassnet"], acc["svc"])
        runs[str(seed)] = run
    params = {**DIGITS.params, **overrides}
    return {
        "protocol": f"RepeatedStratifiedKFold(n_splits=2, n_repeats={n_repeats}, random_state=seed)",
        "cv_seeds": [int(s) for s in cv_seeds],
        "recipe": recipe_summary(DIGITS.summary, params),
        "params": _jsonable(params),
        "n_ensemble": int(overrides.get("n_ensemble", DIGITS.n_ensemble)),
        "methods": list(methods),
        "runs": runs,
    }


# --- Fashion-MNIST -----------------------------------------------------------------------------------------------


def run_fashion(
    validation: bool = False, threads: int = 2, peers: bool = False, data_dir=None, overrides=None,
    n_train=None, log=print, jobs=None,
) -> dict:  # fmt: skip
    """Train the Fashion-MNIST recipe (and with ``peers`` scikit-learn's MLP) once; accuracy, wall and CPU time.

    ``validation`` trains on 50,000 training images and scores the other 10,000 (permutation seed 0), the
    split the settings were chosen on; otherwise the official split, the test set scored once. ``n_train``
    keeps only the first ``n_train`` training rows (a quick look). ``jobs``: members fitted at once, in
    processes (default: the recipe's ``ensemble_jobs``)."""
    from glassnet.data import load_dataset
    from glassnet.recipes import FASHION_MNIST, make_estimator

    overrides = dict(overrides or {})
    data = load_dataset("fashion-mnist", data_dir=data_dir)
    X, y, X_eval, y_eval, protocol = fashion_split(data, validation)
    X, X_eval = X.astype(np.float32), X_eval.astype(np.float32)
    if n_train is not None:
        X, y = X[: int(n_train)], y[: int(n_train)]
    results = {"protocol": protocol, "n_train": int(len(y)), "threads": int(threads), "methods": {}}
    jobs = FASHION_MNIST.ensemble_jobs if jobs is None else jobs
    results["ensemble_jobs"] = jobs
    models = {
        "glassnet": lambda: make_estimator(
            "fashion-mnist", random_state=0, n_jobs=1, ensemble_jobs=jobs, **overrides
        )
    }
    if peers:
        from sklearn.neural_network import MLPClassifier

        models["sklearn-mlp"] = lambda: MLPClassifier((256, 128), early_stopping=True, random_state=0)
    for name, make in models.items():
        log(
            f"  fashion-mnist: {name} on {len(y):,} images, {_how(threads, jobs if name == 'glassnet' else None)}..."
        )
        model = make()
        with _thread_limit(threads):
            train_wall, train_cpu = _fit_timed(model, X, y)
            accuracy = float(model.score(X_eval, y_eval))
        members = getattr(model, "estimators_", None) if name == "glassnet" else None
        if members is not None:  # an ensemble recipe: each network's own accuracy too
            results["member_accuracies"] = [float(m.score(X_eval, y_eval)) for m in members]
        results["methods"][name] = {
            "accuracy": accuracy,
            "train_wall_seconds": train_wall,
            "train_cpu_seconds": train_cpu,
            "epochs": int(getattr(model, "n_iter_", 0) or getattr((members or [None])[0], "n_iter_", 0)),
        }
        log(
            f"  fashion-mnist: {name} {accuracy:.4f}, training {train_wall:.0f} s wall, {train_cpu:.0f} s CPU"
        )
    results["recipe"] = recipe_summary(FASHION_MNIST.summary, {**FASHION_MNIST.params, **overrides})
    results["params"] = _jsonable({**FASHION_MNIST.params, **overrides})
    results["n_ensemble"] = int(overrides.get("n_ensemble", FASHION_MNIST.n_ensemble))
    return results


# --- output ------------------------------------------------------------------------------------------------------


def format_report(results: dict) -> str:
    """The results as plain-text tables, with the issue's targets and whether they were met."""
    lines = []
    if "digits" in results:
        lines += _digits_report(results["digits"]) + [""]
    if "fashion-mnist" in results:
        lines += _fashion_report(results["fashion-mnist"])
    return "\n".join(lines).rstrip()


def _digits_report(r: dict) -> list[str]:
    seeds = list(r["runs"])
    lines = [
        f"8x8 digits, stratified CV ({r['protocol']}), pixels / 16, 1 BLAS thread",
        f"  glassnet recipe: {r['recipe']}",
        f"  {'method':<48}" + "".join(f"{'seed ' + s:>18}" for s in seeds) + f"{'CPU s/fold':>12}",
    ]
    for method in r["methods"]:
        runs = [r["runs"][s][method] for s in seeds]
        cells = "".join(f"{run['mean']:>9.4f} ± {run['std']:.4f}" for run in runs)
        cpu = np.mean([run["cpu_seconds_per_fold"] for run in runs])
        lines.append(f"  {DIGITS_METHODS[method]:<48}{cells}{cpu:>12.2f}")
    if not all("glassnet_vs_svc" in r["runs"][s] for s in seeds):
        return lines
    counts = {s: r["runs"][s]["glassnet_vs_svc"] for s in seeds}
    total = {key: sum(c[key] for c in counts.values()) for key in ("won", "tied", "lost")}
    lines.append(
        "  glassnet recipe against the SVC, folds won / tied / lost: "
        + "; ".join(f"seed {s}: {c['won']} / {c['tied']} / {c['lost']}" for s, c in counts.items())
        + f"; all: {total['won']} / {total['tied']} / {total['lost']}"
    )
    mean_ok = all(r["runs"][s]["glassnet"]["mean"] >= TARGETS["digits"] for s in seeds)
    folds_ok = total["won"] > total["lost"]
    lines.append(f"  target: mean >= {TARGETS['digits']} on every seed: {'met' if mean_ok else 'NOT met'}")
    lines.append(f"  target: more folds won than lost against the SVC: {'met' if folds_ok else 'NOT met'}")
    return lines


def _how(threads: int, jobs) -> str:
    """How the networks were trained: on ``threads`` BLAS threads, or members fitted ``jobs`` at a time."""
    if jobs is None or jobs == 1:
        return f"{threads} BLAS thread(s)"
    if jobs == -1:
        return "the members fitted in one process per core, one BLAS thread each"
    return f"the members fitted in {jobs} processes"


def _fashion_report(r: dict) -> list[str]:
    lines = [
        f"Fashion-MNIST, {r['protocol']}, trained on {r['n_train']:,} images, "
        f"{_how(r['threads'], r.get('ensemble_jobs'))}",
        f"  glassnet recipe: {r['recipe']}",
        f"  {'method':<28}{'accuracy':>10}{'train wall s':>14}{'train CPU s':>13}{'epochs':>8}",
    ]
    for name, m in r["methods"].items():
        lines.append(
            f"  {name:<28}{m['accuracy']:>10.4f}{m['train_wall_seconds']:>14.0f}"
            f"{m['train_cpu_seconds']:>13.0f}{m['epochs']:>8}"
        )
    if "member_accuracies" in r:
        lines.append("  glassnet's networks alone: " + ", ".join(f"{a:.4f}" for a in r["member_accuracies"]))
    ours = r["methods"].get("glassnet")
    if ours is not None and not r["protocol"].startswith("validation"):
        ok = ours["accuracy"] >= TARGETS["fashion-mnist"]
        lines.append(
            f"  target: accuracy >= {TARGETS['fashion-mnist']} with at most 10 minutes of training on a 2-core "
            f"machine: accuracy {'met' if ok else 'NOT met'} (training took {ours['train_wall_seconds']:.0f} s "
            f"wall, {ours['train_cpu_seconds']:.0f} s CPU here; wall time depends on the machine's other jobs)"
        )
    return lines


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="glassnet bench accuracy_cv",
        description="glassnet's recipes against an RBF SVC and scikit-learn's MLP on the same folds: accuracy and "
        "CPU time of each, the digits' fold-by-fold record against the SVC.",
    )
    p.add_argument("--dataset", choices=("digits", "fashion-mnist", "all"), default="digits")
    p.add_argument(
        "--cv-seeds", type=int, nargs="+", default=[11, 23], metavar="SEED",
        help="digits: seeds of the 5x2 CV folds, one table column each (default 11 23)",
    )  # fmt: skip
    p.add_argument(
        "--methods", nargs="+", choices=tuple(DIGITS_METHODS), default=list(DIGITS_METHODS),
        help="digits: which methods to run (default all)",
    )  # fmt: skip
    p.add_argument("--repeats", type=int, default=5, help="digits: repeats of 2-fold CV (default 5)")
    p.add_argument(
        "--epochs", type=int, default=None, help="train the recipes this many epochs (a quick look)"
    )
    p.add_argument("--validation", action="store_true", help="Fashion-MNIST: score the 50,000/10,000 split")
    p.add_argument("--peers", action="store_true", help="Fashion-MNIST: train scikit-learn's MLP too")
    p.add_argument("--threads", type=int, default=2, help="Fashion-MNIST: BLAS threads (default 2)")
    p.add_argument(
        "--jobs", type=int, default=None,
        help="Fashion-MNIST: members fitted at once, one process each (default: the recipe's, one per core)",
    )  # fmt: skip
    p.add_argument("--data-dir", default=None, help="directory holding the Fashion-MNIST IDX files")
    p.add_argument(
        "--json", default="bench-results/accuracy_cv.json",
        help="where to write the results (default bench-results/accuracy_cv.json; '-' for none)",
    )  # fmt: skip
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the comparison; returns 0, 2 on a bad option, 1 if Fashion-MNIST is missing."""
    args = build_parser().parse_args(argv)
    if args.threads < 1 or args.repeats < 1 or (args.epochs is not None and args.epochs < 1):
        print("error: --threads, --repeats and --epochs must be >= 1", file=sys.stderr)
        return 2
    overrides = {} if args.epochs is None else {"max_iter": args.epochs}
    results: dict = {"targets": TARGETS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        from sklearn.exceptions import ConvergenceWarning

        warnings.simplefilter("ignore", category=ConvergenceWarning)  # fixed epochs end at max_iter
        if args.dataset in ("digits", "all"):
            results["digits"] = run_digits_cv(args.cv_seeds, args.repeats, args.methods, overrides)
        if args.dataset in ("fashion-mnist", "all"):
            from glassnet.data import DataError

            try:
                results["fashion-mnist"] = run_fashion(
                    args.validation, args.threads, args.peers, args.data_dir, overrides, jobs=args.jobs
                )
            except DataError as exc:
                print(f"fashion-mnist skipped: {exc}", file=sys.stderr)
                if args.dataset != "all":
                    return 1
    print()
    print(format_report(results))
    if args.json != "-":
        text = json.dumps(results, indent=2) + "\n"
        path = write_atomic(Path(args.json), lambda f: f.write(text.encode()))
        print(f"\nresults written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
