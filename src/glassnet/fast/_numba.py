"""The numba kernels behind :mod:`glassnet.fast` (imported on first use; needs numba).

Each kernel does the reference path's arithmetic in the same order and in the arrays' own dtype (constants are
passed in that dtype), so float32 stays float32. ``error_model="numpy"``: a division by zero gives inf/nan as
NumPy does, and the loops vectorise (Python's error model checks every division). ``cache=True``: compiled
once per machine, then loaded from disk.
"""

from __future__ import annotations

import math

from numba import njit

_jit = njit(cache=True, nogil=True, error_model="numpy")


@_jit
def adam(p, g, M, V, b1, b2, eps_c, scale):  # pragma: no cover - compiled
    for i in range(p.size):
        gi = g[i]
        m = b1 * M[i] + gi
        v = b2 * V[i] + gi * gi
        M[i] = m
        V[i] = v
        p[i] -= m / (math.sqrt(v) + eps_c) * scale


@_jit
def sgd(p, g, lr):  # pragma: no cover - compiled
    for i in range(p.size):
        p[i] -= g[i] * lr


@_jit
def sgd_momentum(p, g, v, lr, mu, nesterov):  # pragma: no cover - compiled
    for i in range(p.size):
        step = g[i] * lr
        vi = v[i] * mu - step
        v[i] = vi
        if nesterov:
            p[i] = p[i] - step + vi * mu
        else:
            p[i] += vi


@_jit
def sigmoid_backward(dy, a, out, one):  # pragma: no cover - compiled
    for i in range(a.size):
        ai = a[i]
        out[i] = dy[i] * (one - ai) * ai


@_jit
def relu_backward(dy, a, out, one):  # pragma: no cover - compiled
    for i in range(a.size):
        out[i] = dy[i] * (one if a[i] > 0 else one - one)


@_jit
def tanh_backward(dy, a, out, one):  # pragma: no cover - compiled
    for i in range(a.size):
        ai = a[i]
        out[i] = dy[i] * (one - ai * ai)


@_jit
def softmax_cross_entropy(z, labels, dz):  # pragma: no cover - compiled
    n, k = z.shape
    inv = 1.0 / n  # float64; each product is rounded to z's dtype on store
    total = 0.0
    for r in range(n):
        m = z[r, 0]
        for j in range(1, k):
            if z[r, j] > m:
                m = z[r, j]
        s = 0.0
        for j in range(k):
            e = math.exp(z[r, j] - m)
            dz[r, j] = e
            s += e
        label = labels[r]
        total += math.log(s) - (z[r, label] - m)
        f = 1.0 / s
        for j in range(k):
            dz[r, j] = dz[r, j] * f * inv
        dz[r, label] -= inv
    return total / n
