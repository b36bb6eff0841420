"""CPU seconds of one fit in this checkout (best of 3 after a warm-up), for before/after comparisons of a change.

    python benchmarks/fit_cpu_time.py lab|small|b

lab: the lab's 64-80-70-10 sigmoid network, 200 full-batch epochs of SGD; small: MLPClassifier((100,)) on the
digits, 30 epochs; b: 784-256-128-10 ReLU with Adam, 2 epochs of 4,096 random rows in batches of 128. Run two
checkouts alternately with OMP_NUM_THREADS=1 and PYTHONPATH pointing at each one's src/ (benchmarks/RESULTS.md).
"""

import sys
import time

import numpy as np
from sklearn.datasets import load_digits

from glassnet import MLPClassifier
from glassnet.network import build_mlp
from glassnet.optim import SGD, Adam
from glassnet.training import Trainer


def lab(X, y) -> None:
    net = build_mlp([64, 80, 70, 10], "logistic", seed=0)
    Trainer(net, SGD(lr=0.5), batch_size=None, shuffle=False, n_jobs=1).fit(X, y, 200)


def small(X, y) -> None:
    MLPClassifier(hidden_layer_sizes=(100,), max_iter=30, random_state=0, n_jobs=1, tol=0).fit(X, y)


def fashion_like(X, y) -> None:
    rng = np.random.default_rng(0)
    Xb = rng.standard_normal((4096, 784), dtype=np.float32)
    yb = rng.integers(0, 10, 4096)
    net = build_mlp([784, 256, 128, 10], "relu", seed=0)
    Trainer(net, Adam(lr=1e-3), batch_size=128, n_jobs=1, seed=0).fit(Xb, yb, 2)


if __name__ == "__main__":
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    fit = {"lab": lab, "small": small, "b": fashion_like}[sys.argv[1]]
    fit(X, y)  # warm-up: numba's compiled kernels, caches
    times = []
    for _ in range(3):
        start = time.process_time()
        fit(X, y)
        times.append(time.process_time() - start)
    print(min(times))
