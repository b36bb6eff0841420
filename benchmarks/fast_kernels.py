# ruff: noqa: E402, B023 (a script: BLAS limited before the imports; each lambda is timed at once)
"""Each compiled kernel of glassnet.fast against its NumPy reference: CPU time per call on one thread.

Run: python benchmarks/fast_kernels.py (needs numba). Prints a Markdown table (best of 9 rounds each).
"""

import math
import time

import numpy as np
from threadpoolctl import threadpool_limits

threadpool_limits(1)
from numba import njit

from glassnet import fast
from glassnet.layers import ReLU, Sigmoid, Tanh
from glassnet.losses import SoftmaxCrossEntropy
from glassnet.optim import SGD, Adam

rng = np.random.default_rng(0)


def cpu(f, n):
    f()
    best = 1e9
    for _ in range(9):
        s = time.process_time()
        for _ in range(n):
            f()
        best = min(best, (time.process_time() - s) / n * 1e6)
    return best


def both(f, n):
    fast.set_enabled(True)
    on = cpu(f, n)
    fast.set_enabled(False)
    off = cpu(f, n)
    fast.set_enabled(True)
    return on, off


rows = []
P = 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
p = rng.standard_normal(P).astype(np.float32)
g = rng.standard_normal(P).astype(np.float32)
for name, opt in [
    ("Adam, 235,146 float32 parameters ((b))", Adam()),
    ("SGD momentum 0.9, same", SGD(lr=0.01, momentum=0.9)),
    ("plain SGD, same", SGD(lr=0.01)),
]:
    opt.update(p, g)
    rows.append((name,) + both(lambda: opt.update(p, g), 200))
for name, cls, shape in [
    ("Sigmoid backward, 1437 x 80 ((a))", Sigmoid, (1437, 80)),
    ("ReLU backward, 128 x 256 ((b))", ReLU, (128, 256)),
    ("Tanh backward, 1437 x 80", Tanh, (1437, 80)),
]:
    x = rng.standard_normal(shape).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    L = cls()
    L.forward(x)
    rows.append((name,) + both(lambda: L.backward(dy), 500))
for name, shape, dtype in [
    ("Sigmoid forward, 1437 x 80 ((a))", (1437, 80), np.float32),
    ("Sigmoid forward, 1437 x 70 ((a))", (1437, 70), np.float32),
    ("Sigmoid forward, 1437 x 80 float64", (1437, 80), np.float64),
]:
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    L = Sigmoid()
    rows.append((name,) + both(lambda: L.forward(x), 500))
for n, k in ((1437, 10), (128, 10), (1000, 100)):
    z = rng.standard_normal((n, k)).astype(np.float32)
    y = rng.integers(0, k, n)
    L = SoftmaxCrossEntropy()
    rows.append((f"softmax cross-entropy + gradient, {n} x {k}",) + both(lambda: L.forward(z, y), 1000))


@njit(cache=True, error_model="numpy")
def sig_exp(x, out):
    one = np.float32(1.0)
    for i in range(x.size):
        out[i] = one / (one + math.exp(-x[i]))


x = rng.standard_normal(1437 * 80).astype(np.float32)
out = np.empty_like(x)


def ref():
    a = np.negative(x)
    np.exp(a, out=a)
    a += 1.0
    np.reciprocal(a, out=a)


rows.append(
    ("(not kept) Sigmoid forward with math.exp, 1437 x 80", cpu(lambda: sig_exp(x, out), 300), cpu(ref, 300))
)


def via_tanh():  # 0.5 + 0.5 tanh(x / 2): NumPy's tanh is one vector pass, but the result loses its relative
    a = np.multiply(x, 0.5, dtype=np.float32)  # accuracy for x << 0 (1 - tanh cancels): not acceptable anyway
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5


rows.append(
    ("(not kept) Sigmoid forward as 0.5 + 0.5 tanh(x/2), 1437 x 80", cpu(via_tanh, 300), cpu(ref, 300))
)
sig = Sigmoid()
rows.append(
    (
        "(not kept) a Tanh forward kernel (no faster than the Sigmoid one) against np.tanh, 1437 x 80",
        cpu(lambda: sig.forward(x.reshape(1437, 80)), 300),
        cpu(lambda: np.tanh(x, out=out), 300),
    )
)


@njit(cache=True)
def adam_pyerr(p, g, M, V, b1, b2, e, s):
    for i in range(p.size):
        gi = g[i]
        m = b1 * M[i] + gi
        v = b2 * V[i] + gi * gi
        M[i] = m
        V[i] = v
        p[i] -= m / (math.sqrt(v) + e) * s


M = np.zeros_like(p)
V = np.zeros_like(p)
opt = Adam()
opt.update(p, g)
f = np.float32
fast.set_enabled(False)
rows.append(
    (
        "(not kept) Adam kernel with Python's error model",
        cpu(lambda: adam_pyerr(p, g, M, V, f(0.9), f(0.999), f(1e-8), f(1e-3)), 200),
        cpu(lambda: opt.update(p, g), 200),
    )
)
fast.set_enabled(True)
print("| kernel | compiled, us | NumPy, us | ratio |")
print("|---|---|---|---|")
for name, on, off in rows:
    print(f"| {name} | {on:.1f} | {off:.1f} | {on / off:.2f} |")
