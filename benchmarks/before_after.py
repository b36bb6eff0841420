# ruff: noqa: E402 (a script: SciPy's BLAS loaded and every BLAS limited before glassnet's imports)
r"""An earlier commit and this checkout in one process, fit by fit, alternated: CPU seconds per fit on one BLAS
thread, and whether the two fits give the same weights and loss curves, bit for bit. With ``--jax``, the (e) cases'
JAX fit (its jitted epoch, as ``glassnet bench speed`` runs it) is alternated with them.

Two runs of a busy machine differ by more than a small change gains (other processes' work changes the caches
and the clock); fits alternated in one process see the same machine. The earlier commit is exported with its
imports renamed, so that both packages load side by side:

    git archive <commit> src | tar -x -C /tmp/before
    mv /tmp/before/src/glassnet /tmp/before/glassnet_before
    find /tmp/before/glassnet_before -name "*.py" | xargs sed -i -E \
        's/(from|import) glassnet(\.| |$)/\1 glassnet_before\2/g; s/"glassnet\.([a-z_]+)/"glassnet_before.\1/g'
    PYTHONPATH=/tmp/before python benchmarks/before_after.py [--jax] [repeats] [part of a case's name ...]
"""

import sys
import time
import warnings

import numpy as np
import scipy.linalg.cython_blas  # noqa: F401 (SciPy's BLAS, which the compiled epoch's products call)
from threadpoolctl import threadpool_limits

threadpool_limits(1)

import glassnet_before
from glassnet_before.bench import _frameworks as before_frameworks
from sklearn.datasets import load_digits as sklearn_digits

import glassnet
from glassnet.bench import _frameworks as after_frameworks
from glassnet.bench._settings import SPEC_A, SPEC_E_SMALL
from glassnet.data import load_digits

DIGITS = load_digits()  # the training split, float32, as glassnet bench speed's (e) takes it
X64, Y64 = sklearn_digits(return_X_y=True)
X64 = X64 / 16.0  # float64, as the loader gives them


def cases(frameworks, package) -> dict:
    """The fits compared, by name, made with one package's functions."""
    X, y = DIGITS.X_train, DIGITS.y_train
    return {
        "(e) small, MLPClassifier(batch_size='auto'), 100 epochs": lambda: (
            frameworks.glassnet_default_estimator_fit(SPEC_E_SMALL, X, y, 100, batch_size="auto")
        ),
        "(e) small, 30 epochs (bench speed --quick)": lambda: frameworks.glassnet_default_estimator_fit(
            SPEC_E_SMALL, X, y, 30, batch_size="auto"
        ),
        "MLPClassifier(random_state=0).fit(X / 16, y), float64": lambda: package.MLPClassifier(
            random_state=0
        ).fit(X64, Y64),
        "(e) the lab through MLPClassifier, 100 epochs": lambda: frameworks.glassnet_default_estimator_fit(
            SPEC_A, X, y, 100
        ),
    }


#: the JAX fit of each (e) case (bench speed's jitted epoch), for --jax
JAX = {
    "(e) small, MLPClassifier(batch_size='auto'), 100 epochs": (SPEC_E_SMALL, 100),
    "(e) small, 30 epochs (bench speed --quick)": (SPEC_E_SMALL, 30),
    "(e) the lab through MLPClassifier, 100 epochs": (SPEC_A, 100),
}


def same_model(a, b) -> bool:
    return np.array_equal(a.network_.flat_params, b.network_.flat_params) and a.loss_curve_ == b.loss_curve_


def alternated(fits: dict, repeats: int) -> dict:
    """Median CPU seconds of each fit, the fits run in turn (the order rotating) ``repeats`` times."""
    times = {side: [] for side in fits}
    order = list(fits)
    for r in range(repeats):
        for side in order[r % len(order) :] + order[: r % len(order)]:
            start = time.process_time()
            fits[side]()
            times[side].append(time.process_time() - start)
    return {side: float(np.median(seconds)) for side, seconds in times.items()}


def row(name: str, t: dict, same: bool) -> str:
    """A line of the table: before, after, their ratio, the same model or not, and JAX's where it ran."""
    cells = [
        name,
        f"{t['before']:.4f}",
        f"{t['after']:.4f}",
        f"{t['after'] / t['before']:.2f}",
        "yes" if same else "NO",
    ]
    if "jax" in t:
        cells += [f"{t['jax']:.4f}", f"{t['before'] / t['jax']:.2f}", f"{t['after'] / t['jax']:.2f}"]
    return "| " + " | ".join(cells + [""] * (8 - len(cells))) + " |"


if __name__ == "__main__":
    warnings.simplefilter("ignore")  # ConvergenceWarning: the fits stop after a set number of epochs
    limits = after_frameworks.set_threads(1)  # XLA's thread flags too, read when JAX is first imported
    args = [arg for arg in sys.argv[1:] if arg != "--jax"]
    repeats, only = (int(args[0]) if args else 20), args[1:]
    before, after = cases(before_frameworks, glassnet_before), cases(after_frameworks, glassnet)
    print(
        "| case | before, CPU s | after, CPU s | after / before | same model | JAX, CPU s | before / JAX | after / JAX |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name in before:
        if only and not any(part in name for part in only):
            continue
        fits = {"before": before[name], "after": after[name]}
        if "--jax" in sys.argv and name in JAX:
            spec, epochs = JAX[name]
            fits["jax"] = lambda spec=spec, epochs=epochs: after_frameworks.jax_fit(
                spec, DIGITS.X_train, DIGITS.y_train, epochs
            )
            fits["jax"]()  # compilation
        same = same_model(before[name](), after[name]())  # and the first calls: compilation, caches
        print(row(name, alternated(fits, repeats), same), flush=True)
