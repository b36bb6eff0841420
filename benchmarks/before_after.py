# ruff: noqa: E402 (a script: SciPy's BLAS loaded and every BLAS limited before glassnet's imports)
r"""An earlier commit and this checkout in one process, fit by fit, alternated: CPU seconds per fit on one BLAS
thread, and whether the two fits give the same weights and loss curves, bit for bit.

Two runs of a busy machine differ by more than a small change gains (other processes' work changes the caches
and the clock); fits alternated in one process see the same machine. The earlier commit is exported with its
imports renamed, so that both packages load side by side:

    git archive <commit> src | tar -x -C /tmp/before
    mv /tmp/before/src/glassnet /tmp/before/glassnet_before
    find /tmp/before/glassnet_before -name "*.py" | xargs sed -i -E \
        's/(from|import) glassnet(\.| |$)/\1 glassnet_before\2/g; s/"glassnet\.([a-z_]+)/"glassnet_before.\1/g'
    PYTHONPATH=/tmp/before python benchmarks/before_after.py [repeats] [part of a case's name ...]
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


def same_model(a, b) -> bool:
    return np.array_equal(a.network_.flat_params, b.network_.flat_params) and a.loss_curve_ == b.loss_curve_


if __name__ == "__main__":
    warnings.simplefilter("ignore")  # ConvergenceWarning: the fits stop after a set number of epochs
    repeats, only = (int(sys.argv[1]) if len(sys.argv) > 1 else 20), sys.argv[2:]
    before, after = cases(before_frameworks, glassnet_before), cases(after_frameworks, glassnet)
    print("| case | before, CPU s | after, CPU s | after / before | same model |\n|---|---|---|---|---|")
    for name in before:
        if only and not any(part in name for part in only):
            continue
        same = same_model(before[name](), after[name]())  # and the first calls: compilation, caches
        times = {"before": [], "after": []}
        for r in range(repeats):
            for side in ("before", "after") if r % 2 else ("after", "before"):
                start = time.process_time()
                (before if side == "before" else after)[name]()
                times[side].append(time.process_time() - start)
        b, a = float(np.median(times["before"])), float(np.median(times["after"]))
        print(f"| {name} | {b:.4f} | {a:.4f} | {a / b:.2f} | {'yes' if same else 'NO'} |", flush=True)
