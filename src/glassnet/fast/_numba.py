"""The numba kernels behind :mod:`glassnet.fast` (imported on first use; needs numba).

Each kernel does the reference path's arithmetic in the same order and in the arrays' own dtype (constants are
passed in that dtype), so float32 stays float32; the exception is the exponential of ``sigmoid_forward`` and
``softmax_cross_entropy``, a polynomial of its own (``_exp_at``, below) that LLVM can vectorise, as accurate as
NumPy's. ``error_model="numpy"``: a division by zero gives inf/nan as NumPy does, and the loops vectorise
(Python's error model checks every division). ``cache=True``: compiled once per machine, then loaded from disk.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import overload

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
def add_scaled(g, w, scale, sums, block):  # pragma: no cover - compiled
    for b in range(sums.size):  # sums[b]: the squares of w's b-th block of `block` elements
        lo = b * block
        hi = min(lo + block, g.size)
        sums[b] = _add_scaled_block(g[lo:hi], w[lo:hi], scale)


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})
def _add_scaled_block(g, w, scale):  # pragma: no cover - compiled
    total = 0.0  # float64, reassociated so that the loop vectorises: the same order on every call
    for i in range(g.size):  # (views indexed from 0: no negative-index checks, which stop vectorising)
        wi = w[i]
        g[i] += scale * wi
        total += np.float64(wi) * np.float64(wi)
    return total


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


# --- a vectorisable exponential ------------------------------------------------------------------------------------
#
# numba's math.exp (or np.exp on a scalar) is a call to libm's scalar exp (numba without Intel's SVML), which
# costs about 5 ns and keeps LLVM from vectorising the loop around it. _exp_at computes exp(t) = 2^n p(r) with
# n = rint(t / ln 2), r = t - n ln 2 in [-ln2/2, ln2/2] (ln 2 in two parts, so that n * ln2_hi is exact:
# Cody and Waite) and p(r) = 1 + r + r^2 q(r), q a near-minimax polynomial (relative error about 1e-8 in
# float32, 2e-17 in float64: well under half an ulp). 2^n is built without a table (a gather would not
# vectorise) and without a scalar bit cast (numba has none): the integer (n + bias) << (mantissa bits) is
# stored through an integer view of the output element and read back as a float, which LLVM turns into a
# register bit cast. Branch-free, so the loops that call it vectorise. Its edges (tests/nn/test_fastpaths.py):
#
# - t is clamped (to [-88, 88.75] in float32, [-709, 710] in float64) before n is taken, so the integer
#   never overflows and p stays finite for any t, +-inf included;
# - where np.exp's result is subnormal, this one is a subnormal too or (for t below about ln(smallest normal)
#   - ln2/2, where n = -127 or -1023 gives the bits of 0.0) 0: at most 1.2e-38 (float32) or 2.3e-308
#   (float64) away;
# - above ln(largest float), exactly where np.exp overflows, it is inf (selected: the polynomial alone would
#   miss the boundary by an ulp);
# - a NaN stays NaN: numba's max(t, c) and min(t, c) return t when t is NaN.
#
# fastmath={"contract"}, the only fast-math flag used, lets LLVM fuse each multiply and add into one FMA (one
# rounding instead of two: as accurate or more; it also makes r = tc - n ln2_hi exact).

_jit_fma = njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})


def _int_view(out):  # pragma: no cover - replaced by the overload below
    raise NotImplementedError


def _exp_at(t, out, bits, i):  # pragma: no cover - replaced by the overload below
    raise NotImplementedError


@overload(_int_view, jit_options={"cache": True})
def _int_view_impl(out):
    if out.dtype == types.float32:
        return lambda out: out.view(np.int32)
    if out.dtype == types.float64:
        return lambda out: out.view(np.int64)
    return None


_F4 = np.float32
# float32: ln 2 = 0.693359375 - 2.12194440e-4 (Cephes' split); q of degree 4, fitted by Lawson's iteration
_Q32 = tuple(
    _F4(c)
    for c in (
        0.4999999403953552,
        0.1666652113199234,
        0.04166838899254799,
        0.008368710055947304,
        0.001381461275741458,
    )
)
# float64: ln 2 = fdlibm's ln2_hi + ln2_lo; q of degree 9, from mpmath's chebyfit
_Q64 = (
    0.50000000000000010211,
    0.16666666666666667452,
    0.041666666666624161903,
    0.0083333333333300644495,
    0.0013888888917196719077,
    0.00019841269863040545271,
    0.000024801521322368693266,
    2.7557268480310025526e-6,
    2.7620075879983366586e-7,
    2.5100375832561233664e-8,
)


@overload(_exp_at, jit_options={"cache": True, "fastmath": {"contract"}, "error_model": "numpy"})
def _exp_at_impl(t, out, bits, i):
    if t == types.float32:
        q0, q1, q2, q3, q4 = _Q32
        hi = _F4(88.72283)  # the largest float32 whose np.exp is finite
        clo, chi, nmax = _F4(-88.0), _F4(88.75), _F4(127.0)
        log2e, ln2_hi, ln2_lo = _F4(1.4426950408889634), _F4(0.693359375), _F4(-2.12194440e-4)
        one, inf = _F4(1.0), _F4(np.inf)
        bias, shift = np.int32(127), np.int32(23)

        def impl(t, out, bits, i):
            tc = min(max(t, clo), chi)
            n = min(np.rint(tc * log2e), nmax)
            r = tc - n * ln2_hi
            r = r - n * ln2_lo
            q = (((q4 * r + q3) * r + q2) * r + q1) * r + q0
            p = q * (r * r) + r + one
            bits[i] = (np.int32(n) + bias) << shift
            e = out[i] * p
            return inf if t > hi else e

        return impl
    if t == types.float64:
        q0, q1, q2, q3, q4, q5, q6, q7, q8, q9 = _Q64
        hi = 709.782712893384  # the largest float64 whose np.exp is finite
        clo, chi, nmax = -709.0, 710.0, 1023.0
        log2e, ln2_hi, ln2_lo = 1.4426950408889634, 6.93147180369123816490e-01, 1.90821492927058770002e-10
        bias, shift = np.int64(1023), np.int64(52)

        def impl(t, out, bits, i):
            tc = min(max(t, clo), chi)
            n = min(np.rint(tc * log2e), nmax)
            r = tc - n * ln2_hi
            r = r - n * ln2_lo
            q = q9 * r + q8
            q = q * r + q7
            q = q * r + q6
            q = q * r + q5
            q = q * r + q4
            q = q * r + q3
            q = q * r + q2
            q = q * r + q1
            q = q * r + q0
            p = q * (r * r) + r + 1.0
            bits[i] = (np.int64(n) + bias) << shift
            e = out[i] * p
            return np.inf if t > hi else e

        return impl
    return None


@_jit_fma
def sigmoid_forward(x, out, one):  # pragma: no cover - compiled
    bits = _int_view(out)
    for i in range(x.size):
        out[i] = one / (one + _exp_at(-x[i], out, bits, i))


@_jit
def _row_max(z, o, k):  # pragma: no cover - compiled
    """max(z[o:o + k]) with four independent maxima (a chain of dependent compares is latency-bound)."""
    m0 = m1 = m2 = m3 = z[o]
    j = 1
    while j + 4 <= k:
        m0 = z[o + j] if z[o + j] > m0 else m0
        m1 = z[o + j + 1] if z[o + j + 1] > m1 else m1
        m2 = z[o + j + 2] if z[o + j + 2] > m2 else m2
        m3 = z[o + j + 3] if z[o + j + 3] > m3 else m3
        j += 4
    while j < k:
        m0 = z[o + j] if z[o + j] > m0 else m0
        j += 1
    m0 = m1 if m1 > m0 else m0
    m2 = m3 if m3 > m2 else m2
    return m2 if m2 > m0 else m0


@_jit
def _row_sum(a, o, k):  # pragma: no cover - compiled
    """sum(a[o:o + k]) in float64, in four partial sums (for the same reason)."""
    s0 = s1 = s2 = s3 = 0.0
    j = 0
    while j + 4 <= k:
        s0 += a[o + j]
        s1 += a[o + j + 1]
        s2 += a[o + j + 2]
        s3 += a[o + j + 3]
        j += 4
    while j < k:
        s0 += a[o + j]
        j += 1
    return (s0 + s1) + (s2 + s3)


@_jit_fma
def softmax_cross_entropy(z, labels, dz, k):  # pragma: no cover - compiled
    """Softmax cross-entropy of z (N * K,) (flat, K classes) in three passes: shift each row by its maximum
    into dz, exponentiate dz in place (one vectorised loop), normalise each row; returns the mean loss."""
    n = labels.size
    inv = 1.0 / n
    total = 0.0
    for r in range(n):
        o = r * k
        if k < 16:  # a short row: the plain loop
            m = z[o]
            for j in range(1, k):
                if z[o + j] > m:
                    m = z[o + j]
        else:
            m = _row_max(z, o, k)
        for j in range(k):
            dz[o + j] = z[o + j] - m
        total -= dz[o + labels[r]]
    bits = _int_view(dz)
    for i in range(dz.size):
        dz[i] = _exp_at(dz[i], dz, bits, i)
    for r in range(n):
        o = r * k
        if k < 16:
            s = 0.0
            for j in range(k):
                s += dz[o + j]
        else:
            s = _row_sum(dz, o, k)
        total += math.log(s)
        f = 1.0 / s
        for j in range(k):
            dz[o + j] = dz[o + j] * f * inv
        dz[o + labels[r]] -= inv
    return total / n
