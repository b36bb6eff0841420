# ruff: noqa: E402 (a script: SciPy's BLAS loaded and every BLAS limited before glassnet's imports)
"""The compiled epoch (glassnet.fast.train_epoch) against the Trainer's per-step loop, on one BLAS thread.

Run: python benchmarks/compiled_epoch.py (needs numba). Each case is fitted with the compiled epoch on and off
in turn (8 repeats, the order alternating), and the medians of the CPU times are printed with their ratio: CPU
time is what other work on a busy machine changes least. The per-step kernels of glassnet.fast stay on in both.
"""

import time

import numpy as np
import scipy.linalg.cython_blas  # noqa: F401 (SciPy's BLAS, which the compiled epoch's products call)
from threadpoolctl import threadpool_limits

threadpool_limits(1)

from glassnet import fast
from glassnet.bench import _frameworks as fw
from glassnet.bench._settings import SPEC_A, SPEC_E_SMALL, SPEC_E_WIDE
from glassnet.data import load_digits

digits = load_digits()
Xd, yd = digits.X_train, digits.y_train
rng = np.random.default_rng(2)
Xw, yw = rng.standard_normal((640, 784), dtype=np.float32), rng.integers(0, 10, 640)
CASES = {
    "(e) small, MLPClassifier(batch_size='auto'), 30 epochs": lambda: fw.glassnet_default_estimator_fit(
        SPEC_E_SMALL, Xd, yd, 30, batch_size="auto"
    ),
    "(e) small, Trainer, 30 epochs": lambda: fw.glassnet_fit(SPEC_E_SMALL, Xd, yd, 30),
    "(e) wide, MLPClassifier(), 640 rows, 1 epoch": lambda: fw.glassnet_default_estimator_fit(
        SPEC_E_WIDE, Xw, yw, 1
    ),
    "(a) the lab, Trainer, full batch, 100 epochs (keeps the loop)": lambda: fw.glassnet_fit(
        SPEC_A, Xd, yd, 100
    ),
}

print("| case | compiled epoch, CPU s | per-step loop, CPU s | ratio |\n|---|---|---|---|")
for name, fit in CASES.items():
    times = {True: [], False: []}
    for flag in (True, False):  # first calls: compilation, caches
        fast.set_epochs_enabled(flag)
        fit()
    for r in range(8):
        for flag in (True, False) if r % 2 else (False, True):
            fast.set_epochs_enabled(flag)
            start = time.process_time()
            fit()
            times[flag].append(time.process_time() - start)
    fast.set_epochs_enabled(True)
    on, off = float(np.median(times[True])), float(np.median(times[False]))
    print(f"| {name} | {on:.4f} | {off:.4f} | {on / off:.2f} |")
