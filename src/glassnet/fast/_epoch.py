r"""The compiled epoch behind :func:`glassnet.fast.train_epoch` (imported on first use; needs numba).

One call runs a run of mini-batch steps of a stack of ``Dense`` layers, element-wise activations and dropout,
with a loss head and SGD or Adam, without returning to Python between steps. Each step is the reference
loop's (``Trainer._run_epoch`` and ``Trainer._step``), in the same order:

1. the batch's rows, gathered in the Trainer's order (or read in place when the rows are not shuffled);
2. forward, layer by layer: ``z = x W^T + b`` as one BLAS product (``np.dot``, which numba sends to the BLAS
   of SciPy), the activations, the dropout masks ``[u >= p] / (1 - p)`` from uniforms drawn beforehand from
   the layers' own generators (the same numbers as the reference draws, in the same order);
3. the loss and :math:`\partial L/\partial z`, with the normalised sample weights :math:`w_n / \sum w`;
4. backward, layer by layer: :math:`\partial L/\partial W = \delta^T x`, :math:`\partial L/\partial b =
   \sum_n \delta_n`, :math:`\partial L/\partial x = \delta W`, then :math:`\delta \odot f'(a)` through each
   activation and :math:`\delta \odot m` through each dropout;
5. the L2 term :math:`\partial L/\partial W \mathrel{+}= (\alpha/n) W`, :math:`L \mathrel{+}= \alpha/(2n)
   \sum \|W\|^2`;
6. the optimizer's step on the flat parameter vector: decoupled weight decay, then the update of
   :mod:`glassnet.fast._numba` (the very kernels the per-step path calls).

The loss of every batch is written to ``losses``; the run stops after the first batch whose loss is not
finite (its step taken, as in the reference), and the Trainer applies its termination checks afterwards.
Everything is flat arrays and integer codes, so one compiled function serves every covered network:

``ops`` (one row per layer, ``int64``): ``kind, width, out_offset, w_offset, b_offset, in_width, mask``
where ``width`` is the layer's output width, ``out_offset`` where its output lives in ``work`` (one batch of
rows per layer), and for ``Dense`` the offsets of ``W`` (``width`` x ``in_width``) and ``b`` in the flat
parameter vector; for dropout ``mask`` is the offset of its uniforms in ``uniforms``. ``opf`` holds a float
per layer: the slope of a leaky ReLU, the rate of a dropout (``opf2``: its scale :math:`1 / (1 - p)`).
"""

from __future__ import annotations

import math

import numpy as np

from glassnet.fast._numba import (
    _jit,
    adam,
    relu_backward,
    sgd,
    sgd_momentum,
    sigmoid_backward,
    sigmoid_forward,
    softmax_cross_entropy,
    tanh_backward,
)

# layer kinds (ops[:, 0]); the Python side (glassnet.fast.train_epoch) uses the same numbers
DENSE, RELU, LEAKY_RELU, TANH, SIGMOID, DROPOUT = 0, 1, 2, 3, 4, 5
# loss kinds
SOFTMAX_CE, SIGMOID_BCE, SQUARED_ERROR = 0, 1, 2
# optimizer kinds
PLAIN_SGD, MOMENTUM_SGD, ADAM = 0, 1, 2


@_jit
def _normalised_weights(sw, rows, wn, m, uniform):  # pragma: no cover - compiled
    """wn[:m] = w / sum(w) for the batch's weights (or 1/m each), in the weights' dtype."""
    if sw.size == 0:
        for i in range(m):
            wn[i] = uniform
        return
    total = 0.0
    for i in range(m):
        total += sw[rows[i]]
    s = wn.dtype.type(total)
    for i in range(m):
        wn[i] = sw[rows[i]] / s


@_jit
def _softmax_ce_weighted(z, labels, wn, dz):  # pragma: no cover - compiled
    """SoftmaxCrossEntropy.forward with weights: log-softmax, nll = -logp[y], dz = (exp(logp) - onehot) w."""
    m, k = z.shape
    total = 0.0
    for r in range(m):
        mx = z[r, 0]
        for j in range(1, k):
            if z[r, j] > mx:
                mx = z[r, j]
        s = z.dtype.type(0.0)
        for j in range(k):
            s += math.exp(z[r, j] - mx)
        lse = mx + math.log(s)
        for j in range(k):
            dz[r, j] = math.exp(z[r, j] - lse) * wn[r]
        y = labels[r]
        dz[r, y] = (math.exp(z[r, y] - lse) - 1.0) * wn[r]
        total += -(z[r, y] - lse) * wn[r]
    return total


@_jit
def _sigmoid_bce(z, t, wn, dz):  # pragma: no cover - compiled
    """SigmoidBinaryCrossEntropy.forward: sum_k softplus(z) - y z, dz = (sigmoid(z) - y) w."""
    m, k = z.shape
    one, zero = z.dtype.type(1.0), z.dtype.type(0.0)
    total = 0.0
    for r in range(m):
        row = zero
        for j in range(k):
            zj = z[r, j]
            e = math.exp(-abs(zj))  # in (0, 1]: never overflows
            row += (max(zj, zero) + math.log1p(e)) - t[r, j] * zj
            p = one / (one + e)
            p = p if zj >= 0 else e * p
            dz[r, j] = (p - t[r, j]) * wn[r]
        total += row * wn[r]
    return total


@_jit
def _squared_error(z, t, wn, dz):  # pragma: no cover - compiled
    """SquaredError.forward: sum_k (z - y)^2 / (2K), dz = (z - y) w / K."""
    m, k = z.shape
    total = 0.0
    for r in range(m):
        wk = wn[r] / z.dtype.type(k)  # w / K in the weights' dtype, as the reference
        row = z.dtype.type(0.0)
        for j in range(k):
            d = z[r, j] - t[r, j]
            dz[r, j] = d * wk
            row += d * d
        total += row * wn[r]
    return total / (2 * k)


@_jit
def run(
    X, order, shuffled, starts, counts, take, b_lo, b_hi, row0,
    labels, targets, sw, loss_kind,
    ops, opf, opf2, uniforms,
    params, grads, wmask, l2_scale, l2_coef,
    opt_kind, step_a, step_b, decay, b1, b2, mu, nesterov, M, V,
    work, g1, g2, rows_buf, lab_buf, wn, losses,
):  # pragma: no cover - compiled  # fmt: skip
    """Batches ``b_lo`` to ``b_hi`` (those with ``take[b]``); returns the batches done and the steps taken."""
    d = X.shape[1]
    Xf = X.reshape(-1)
    n_ops = ops.shape[0]
    first = 0  # the first Dense: no backward below it, and it needs no input gradient
    while ops[first, 0] != DENSE:
        first += 1
    one = params.dtype.type(1.0)
    zero = params.dtype.type(0.0)
    steps = 0
    for b in range(b_lo, b_hi):
        if not take[b]:
            continue  # only zero-weight rows: the reference takes no step
        m, s0 = counts[b], starts[b]
        for i in range(m):
            rows_buf[i] = order[s0 + i] if shuffled else s0 + i
        # --- forward: the batch's rows, then layer by layer -----------------------------------------------
        if shuffled:
            x0 = work[0 : m * d].reshape((m, d))
            for i in range(m):
                r = rows_buf[i]
                for j in range(d):
                    x0[i, j] = X[r, j]
        else:
            x0 = Xf[s0 * d : (s0 + m) * d].reshape((m, d))  # the rows in place, as the reference's slice
        x = x0
        for li in range(n_ops):
            kind, width, o = ops[li, 0], ops[li, 1], ops[li, 2]
            out = work[o : o + m * width].reshape((m, width))
            if kind == DENSE:
                W = params[ops[li, 3] : ops[li, 3] + width * ops[li, 5]].reshape((width, ops[li, 5]))
                bias = params[ops[li, 4] : ops[li, 4] + width]
                np.dot(x, W.T, out)  # (m, in) @ (in, out) -> (m, out)
                for i in range(m):
                    for j in range(width):
                        out[i, j] += bias[j]
            elif kind == SIGMOID:
                sigmoid_forward(x.reshape(-1), out.reshape(-1), one)
            else:
                xf, of = x.reshape(-1), out.reshape(-1)
                if kind == RELU:
                    for i in range(m * width):
                        v = xf[i]
                        of[i] = zero if v < zero else v  # max(x, 0), NaN kept
                elif kind == LEAKY_RELU:
                    s = params.dtype.type(opf[li])
                    for i in range(m * width):
                        v = xf[i]
                        of[i] = v if v > zero else v * s
                elif kind == TANH:
                    for i in range(m * width):
                        of[i] = np.tanh(xf[i])
                else:  # DROPOUT: x * [u >= p] / (1 - p), u drawn beforehand in the reference's order
                    rate, scale = params.dtype.type(opf[li]), params.dtype.type(opf2[li])
                    u = uniforms[ops[li, 6] + (s0 - row0) * width : ops[li, 6] + (s0 - row0 + m) * width]
                    for i in range(m * width):
                        of[i] = xf[i] * (scale if u[i] >= rate else zero)
            x = out
        # --- loss and dL/dz ------------------------------------------------------------------------------
        k = ops[n_ops - 1, 1]
        z = x
        dz = g1[0 : m * k].reshape((m, k))
        if loss_kind == SOFTMAX_CE and sw.size == 0:
            for i in range(m):
                lab_buf[i] = labels[rows_buf[i]]
            loss = softmax_cross_entropy(z.reshape(-1), lab_buf[:m], dz.reshape(-1), k)
        else:
            _normalised_weights(sw, rows_buf, wn, m, params.dtype.type(1.0 / m))
            if loss_kind == SOFTMAX_CE:
                for i in range(m):
                    lab_buf[i] = labels[rows_buf[i]]
                loss = _softmax_ce_weighted(z, lab_buf, wn, dz)
            else:
                t = g2[0 : m * k].reshape((m, k))
                for i in range(m):
                    for j in range(k):
                        t[i, j] = targets[rows_buf[i], j]
                if loss_kind == SIGMOID_BCE:
                    loss = _sigmoid_bce(z, t, wn, dz)
                else:
                    loss = _squared_error(z, t, wn, dz)
        # --- backward, layer by layer, from the loss down to the first Dense ----------------------------
        dy, spare = g1, g2
        for li in range(n_ops - 1, first - 1, -1):
            kind, width = ops[li, 0], ops[li, 1]
            if li > 0:
                pw, po = ops[li - 1, 1], ops[li - 1, 2]
                x_in = work[po : po + m * pw].reshape((m, pw))
            else:
                x_in = x0
            if kind == DENSE:
                w_in = ops[li, 5]
                delta = dy[0 : m * width].reshape((m, width))
                W = params[ops[li, 3] : ops[li, 3] + width * w_in].reshape((width, w_in))
                dW = grads[ops[li, 3] : ops[li, 3] + width * w_in].reshape((width, w_in))
                db = grads[ops[li, 4] : ops[li, 4] + width]
                np.dot(delta.T, x_in, dW)  # (out, m) @ (m, in) -> (out, in)
                for j in range(width):
                    db[j] = zero
                for i in range(m):
                    for j in range(width):
                        db[j] += delta[i, j]
                if li > first:
                    dx = spare[0 : m * w_in].reshape((m, w_in))
                    np.dot(delta, W, dx)  # (m, out) @ (out, in) -> (m, in)
                    dy, spare = spare, dy
            else:
                a = work[ops[li, 2] : ops[li, 2] + m * width]
                g = dy[0 : m * width]
                if kind == RELU:
                    relu_backward(g, a, g, one)
                elif kind == SIGMOID:
                    sigmoid_backward(g, a, g, one)
                elif kind == TANH:
                    tanh_backward(g, a, g, one)
                elif kind == LEAKY_RELU:
                    s = params.dtype.type(opf[li])
                    for i in range(m * width):
                        g[i] = g[i] * (one if a[i] > zero else s)
                else:  # DROPOUT
                    rate, scale = params.dtype.type(opf[li]), params.dtype.type(opf2[li])
                    u = uniforms[ops[li, 6] + (s0 - row0) * width : ops[li, 6] + (s0 - row0 + m) * width]
                    for i in range(m * width):
                        g[i] = g[i] * (scale if u[i] >= rate else zero)
        # --- L2 on the weights: dW += (alpha / n) W, L += alpha / (2n) sum ||W||^2 --------------------------
        if l2_coef != 0.0:
            sq = 0.0
            for li in range(n_ops):
                if ops[li, 0] == DENSE:
                    lo, hi = ops[li, 3], ops[li, 3] + ops[li, 1] * ops[li, 5]
                    Wf, dWf = params[lo:hi], grads[lo:hi]
                    for i in range(hi - lo):
                        dWf[i] += l2_scale * Wf[i]
                    sq += float(np.dot(Wf, Wf))
            loss += l2_coef * sq
        losses[b] = loss
        # --- the optimizer's step: decoupled weight decay, then the update ------------------------------
        if decay[b] != 0.0:
            dec = decay[b]
            for i in range(params.size):
                params[i] = params[i] - (dec * wmask[i]) * params[i]
        if opt_kind == ADAM:
            adam(params, grads, M, V, b1, b2, step_b[b], step_a[b])
        elif opt_kind == MOMENTUM_SGD:
            sgd_momentum(params, grads, M, step_a[b], mu, nesterov)
        else:
            sgd(params, grads, step_a[b])
        steps += 1
        if not math.isfinite(loss):
            return b + 1, steps  # the Trainer ends the fit here
    return b_hi, steps
