# ruff: noqa: E402 (a script: SciPy's BLAS loaded and every BLAS limited before glassnet's imports)
"""CPU time of a fit outside the compiled epoch's kernel, per epoch and per fit (issue 22), on one BLAS thread.

    python benchmarks/fit_overhead.py small|default64 [repeats]

small: the (e) case of glassnet bench speed, MLPClassifier((100,), batch_size='auto') on the digits' training
split (float32), as glassnet.bench fits it; default64: MLPClassifier(random_state=0).fit(X / 16, y) on
scikit-learn's digits (float64, as the loader gives them). Fits of 2 and of 100 epochs; the CPU time inside the
kernel (glassnet.fast's compiled epoch, timed around each call) is subtracted, and the rest split into a part per
epoch (the slope) and a part per fit. Medians of the repeats. Run two checkouts alternately with PYTHONPATH
pointing at each one's src/ (benchmarks/RESULTS.md).
"""

import sys
import time
import warnings

import numpy as np
import scipy.linalg.cython_blas  # noqa: F401 (SciPy's BLAS, which the compiled epoch's products call)
from threadpoolctl import threadpool_limits

threadpool_limits(1)

from sklearn.datasets import load_digits as sklearn_digits

from glassnet import MLPClassifier, fast
from glassnet.bench import _frameworks as fw
from glassnet.bench._settings import SPEC_E_SMALL
from glassnet.data import load_digits

DIGITS = load_digits()  # the training split, float32
X64, Y64 = sklearn_digits(return_X_y=True)
X64 = X64 / 16.0  # float64


def small(epochs: int) -> None:
    fw.glassnet_default_estimator_fit(SPEC_E_SMALL, DIGITS.X_train, DIGITS.y_train, epochs, batch_size="auto")


def default64(epochs: int) -> None:
    MLPClassifier(random_state=0, max_iter=epochs, tol=0.0).fit(X64, Y64)


class KernelClock:
    """CPU seconds spent inside the compiled epoch's kernel, timed around each call."""

    def __init__(self) -> None:
        self.seconds = 0.0
        kernels = fast._e()  # the module of the compiled epoch (numba)
        run = kernels.run

        def timed(*args):
            start = time.process_time()
            try:
                return run(*args)
            finally:
                self.seconds += time.process_time() - start

        kernels.run = timed


def outside_kernel(fit, epochs: int, clock: KernelClock, repeats: int) -> tuple[float, float]:
    """Medians of (CPU seconds outside the kernel, inside it) of ``repeats`` fits of ``epochs`` epochs."""
    outside, inside = [], []
    for _ in range(repeats):
        clock.seconds = 0.0
        start = time.process_time()
        fit(epochs)
        total = time.process_time() - start
        outside.append(total - clock.seconds)
        inside.append(clock.seconds)
    return float(np.median(outside)), float(np.median(inside))


if __name__ == "__main__":
    warnings.simplefilter("ignore")  # ConvergenceWarning: the fits stop after exactly `epochs` on purpose
    fit = {"small": small, "default64": default64}[sys.argv[1]]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 11
    clock = KernelClock()
    for epochs in (2, 100):  # warm-up: numba's kernels, caches
        fit(epochs)
    short, _ = outside_kernel(fit, 2, clock, repeats)
    long, kernel = outside_kernel(fit, 100, clock, repeats)
    per_epoch = (long - short) / 98
    print(
        f"{sys.argv[1]}: outside the kernel {per_epoch * 1e6:.0f} us an epoch and "
        f"{(short - 2 * per_epoch) * 1e3:.2f} ms a fit; kernel {kernel / 100 * 1e6:.0f} us an epoch"
    )
