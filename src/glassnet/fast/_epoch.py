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

# numba's np.dot calls the BLAS of SciPy: loaded here, at import, so that the caller can limit its threads
# before the first product (glassnet.training.threads.cover_new_libraries)
import scipy.linalg.cython_blas  # noqa: F401

from glassnet.fast._numba import (
    _jit,
    adam,
    sgd,
    sgd_momentum,
    sigmoid_forward,
    softmax_cross_entropy,
)

# layer kinds (ops[:, 0]), by the names of glassnet.fast.train_epoch's description
DENSE, RELU, LEAKY_RELU, TANH, SIGMOID, DROPOUT = 0, 1, 2, 3, 4, 5
_KINDS = {"dense": DENSE, "relu": RELU, "leaky_relu": LEAKY_RELU, "tanh": TANH, "logistic": SIGMOID,
          "dropout": DROPOUT}  # fmt: skip
# loss kinds
SOFTMAX_CE, SIGMOID_BCE, SQUARED_ERROR = 0, 1, 2
# optimizer kinds
PLAIN_SGD, MOMENTUM_SGD, ADAM = 0, 1, 2


def plan(layers: list[tuple], n_features: int, batch: int, dtype) -> tuple:
    """The description of :func:`glassnet.fast.train_epoch` as :func:`run` takes it (``ops``, ``opf``,
    ``opf2``: see the module docstring) and its work buffers: the input and every layer's output for a batch,
    two gradients, the batch's rows, labels and normalised weights."""
    ops = np.zeros((len(layers), 7), dtype=np.int64)
    opf, opf2 = np.zeros(len(layers)), np.zeros(len(layers))
    widths = [n_features]
    offset = batch * n_features  # the gathered input comes first in the work buffer
    for i, (kind, *args) in enumerate(layers):
        width = widths[-1]
        if kind == "dense":
            w_offset, b_offset, width_in, width = args
            ops[i, 3:6] = w_offset, b_offset, width_in
        elif kind == "leaky_relu":
            opf[i] = args[0]
        elif kind == "dropout":
            opf[i], opf2[i], ops[i, 6] = args[0], dtype.type(1.0 / (1.0 - args[0])), args[1]
        ops[i, :3] = _KINDS[kind], width, offset
        offset += batch * width
        widths.append(width)
    grad_size = batch * max(widths)
    buffers = [np.empty(offset, dtype), np.empty(grad_size, dtype), np.empty(grad_size, dtype)]
    return (
        ops,
        opf,
        opf2,
        *buffers,
        np.empty(batch, np.intp),
        np.empty(batch, np.intp),
        np.empty(batch, dtype),
    )


def optimizer_arguments(optimizer: tuple, dtype) -> tuple:
    """``(kind, beta_1, beta_2, momentum, nesterov, state_1, state_2)`` of :func:`run` for the optimizer's
    description, constants in the parameters' dtype (as the per-step kernels take them)."""
    t, empty = dtype.type, np.empty(0, dtype=dtype)
    if optimizer[0] == "adam":  # ("adam", beta_1, beta_2, M, V)
        return ADAM, t(optimizer[1]), t(optimizer[2]), t(0.0), False, optimizer[3], optimizer[4]
    if optimizer[0] == "momentum":  # ("momentum", mu, nesterov, velocity)
        return MOMENTUM_SGD, t(0.0), t(0.0), t(optimizer[1]), bool(optimizer[2]), optimizer[3], empty
    return PLAIN_SGD, t(0.0), t(0.0), t(0.0), False, empty, empty


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
def _forward(x0, m, ops, opf, opf2, uniforms, u_row, params, work):  # pragma: no cover - compiled
    """Every layer's output for the batch ``x0`` (m, D), each at its place in ``work``; returns the last."""
    one, zero = params.dtype.type(1.0), params.dtype.type(0.0)
    x = x0
    for li in range(ops.shape[0]):
        kind, width, o = ops[li, 0], ops[li, 1], ops[li, 2]
        out = work[o : o + m * width].reshape((m, width))
        if kind == DENSE:
            w_in = ops[li, 5]
            W = params[ops[li, 3] : ops[li, 3] + width * w_in].reshape((width, w_in))
            bias = params[ops[li, 4] : ops[li, 4] + width]
            np.dot(x, W.T, out)  # (m, in) @ (in, out) -> (m, out)
            for i in range(m):
                for j in range(width):
                    out[i, j] += bias[j]
        elif kind == SIGMOID:
            sigmoid_forward(x.reshape(-1), out.reshape(-1), one)  # the per-step kernel's pass
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
            else:  # DROPOUT: x [u >= p] / (1 - p), u drawn beforehand in the loop's order
                rate, scale = params.dtype.type(opf[li]), params.dtype.type(opf2[li])
                u = uniforms[ops[li, 6] + u_row * width : ops[li, 6] + (u_row + m) * width]
                for i in range(m * width):
                    of[i] = xf[i] * (scale if u[i] >= rate else zero)
        x = out
    return x


@_jit
def _loss(z, m, loss_kind, labels, targets, sw, rows, lab_buf, wn, t_buf, dz):  # pragma: no cover - compiled
    """The batch loss of the logits ``z`` (m, K) and dL/dz into ``dz``, for the targets of ``rows``."""
    k = z.shape[1]
    if loss_kind == SOFTMAX_CE:
        for i in range(m):
            label = labels[rows[i]]
            if label < 0 or label >= k:  # checked by the caller once a fit: changed since, never read past dz
                return np.nan
            lab_buf[i] = label
        if sw.size == 0:  # the per-step kernel of SoftmaxCrossEntropy on integer labels
            return softmax_cross_entropy(z.reshape(-1), lab_buf[:m], dz.reshape(-1), k)
    _normalised_weights(sw, rows, wn, m, wn.dtype.type(1.0 / m))
    if loss_kind == SOFTMAX_CE:
        return _softmax_ce_weighted(z, lab_buf, wn, dz)
    t = t_buf[0 : m * k].reshape((m, k))
    for i in range(m):
        for j in range(k):
            t[i, j] = targets[rows[i], j]
    if loss_kind == SIGMOID_BCE:
        return _sigmoid_bce(z, t, wn, dz)
    return _squared_error(z, t, wn, dz)


@_jit
def _backward(x0, m, first, ops, opf, opf2, uniforms, u_row, params, grads, work, g1, g2):  # pragma: no cover
    """From dL/dz in ``g1`` down to the first Dense: every weight's gradient into ``grads``."""
    zero = params.dtype.type(0.0)
    dy, spare = g1, g2
    for li in range(ops.shape[0] - 1, first - 1, -1):
        kind, width = ops[li, 0], ops[li, 1]
        if kind == DENSE:
            w_in = ops[li, 5]
            if li > 0:  # the layer's input: the output of the layer below, or the batch
                x_in = work[ops[li - 1, 2] : ops[li - 1, 2] + m * w_in].reshape((m, w_in))
            else:
                x_in = x0
            delta = dy[0 : m * width].reshape((m, width))
            W = params[ops[li, 3] : ops[li, 3] + width * w_in].reshape((width, w_in))
            dW = grads[ops[li, 3] : ops[li, 3] + width * w_in].reshape((width, w_in))
            db = grads[ops[li, 4] : ops[li, 4] + width]
            np.dot(delta.T, x_in, dW)  # (out, m) @ (m, in) -> (out, in)
            for j in range(width):
                db[j] = zero
            for i in range(m):
                for j in range(width):
                    db[j] += delta[i, j]  # sum over the rows
            if li > first:
                dx = spare[0 : m * w_in].reshape((m, w_in))
                np.dot(delta, W, dx)  # (m, out) @ (out, in) -> (m, in)
                dy, spare = spare, dy
        else:  # element-wise, in place: dL/dx = dL/da f'(a), or dL/dy m for dropout
            a = work[ops[li, 2] : ops[li, 2] + m * width]
            u = (
                uniforms[ops[li, 6] + u_row * width : ops[li, 6] + (u_row + m) * width]
                if kind == DROPOUT
                else a
            )
            _times_derivative(kind, dy[0 : m * width], a, u, opf[li], opf2[li])


@_jit
def _times_derivative(kind, g, a, u, opf, opf2):  # pragma: no cover - compiled
    """``g *= f'(a)`` for the activation ``kind`` of output ``a``, or ``g *= m`` for a dropout of uniforms ``u``.

    The per-step kernels' formulas (glassnet.fast._numba), written here in place: LLVM vectorises a loop that
    reads and writes ``g`` at one index, not their ``(dy, a, out)`` form given ``out = dy`` (measured: 1.4
    against 6.3 us for 200 x 100 float32)."""
    one, zero = g.dtype.type(1.0), g.dtype.type(0.0)
    if kind == RELU:
        for i in range(g.size):
            g[i] = g[i] * (one if a[i] > 0 else one - one)
    elif kind == SIGMOID:
        for i in range(g.size):
            ai = a[i]
            g[i] = g[i] * (one - ai) * ai
    elif kind == TANH:
        for i in range(g.size):
            ai = a[i]
            g[i] = g[i] * (one - ai * ai)
    elif kind == LEAKY_RELU:
        s = g.dtype.type(opf)
        for i in range(g.size):
            g[i] = g[i] * (one if a[i] > zero else s)
    else:  # DROPOUT: the rate and its scale 1 / (1 - p)
        rate, scale = g.dtype.type(opf), g.dtype.type(opf2)
        for i in range(g.size):
            g[i] = g[i] * (scale if u[i] >= rate else zero)


@_jit
def _l2(ops, params, grads, l2_scale):  # pragma: no cover - compiled
    """dW += (alpha / n) W for every weight matrix; returns sum ||W||^2 (each a BLAS dot, as np.vdot)."""
    sq = 0.0
    for li in range(ops.shape[0]):
        if ops[li, 0] == DENSE:
            lo, hi = ops[li, 3], ops[li, 3] + ops[li, 1] * ops[li, 5]
            Wf, dWf = params[lo:hi], grads[lo:hi]
            for i in range(hi - lo):
                dWf[i] += l2_scale * Wf[i]
            sq += float(np.dot(Wf, Wf))
    return sq


@_jit
def _step(params, grads, wmask, decay, opt_kind, a, b, b1, b2, mu, nesterov, M, V):  # pragma: no cover
    """The optimizer's step (Optimizer.update): decoupled weight decay, then the per-step kernel's update."""
    if decay != 0.0:
        for i in range(params.size):
            params[i] = params[i] - (decay * wmask[i]) * params[i]
    if opt_kind == ADAM:
        adam(params, grads, M, V, b1, b2, b, a)
    elif opt_kind == MOMENTUM_SGD:
        sgd_momentum(params, grads, M, a, mu, nesterov)
    else:
        sgd(params, grads, a)


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
    first = 0  # the first Dense: no backward below it, and it needs no input gradient
    while ops[first, 0] != DENSE:
        first += 1
    steps = 0
    for b in range(b_lo, b_hi):
        if not take[b]:
            continue  # only zero-weight rows: the loop takes no step
        m, s0 = counts[b], starts[b]
        for i in range(m):
            rows_buf[i] = order[s0 + i] if shuffled else s0 + i
        # the batch's rows, gathered in the loop's order, or in place as the loop's slice
        if shuffled:
            x0 = work[0 : m * d].reshape((m, d))
            for i in range(m):
                x0[i, :] = X[
                    rows_buf[i], :
                ]  # a row at a time (measured: 4.8 against 6.6 us element by element)
        else:
            x0 = Xf[s0 * d : (s0 + m) * d].reshape((m, d))
        # forward, loss, backward and update
        z = _forward(x0, m, ops, opf, opf2, uniforms, s0 - row0, params, work)
        k = z.shape[1]
        loss = _loss(
            z, m, loss_kind, labels, targets, sw, rows_buf, lab_buf, wn, g2, g1[0 : m * k].reshape((m, k))
        )
        _backward(x0, m, first, ops, opf, opf2, uniforms, s0 - row0, params, grads, work, g1, g2)
        if l2_coef != 0.0:
            loss += l2_coef * _l2(ops, params, grads, l2_scale)
        losses[b] = loss
        _step(params, grads, wmask, decay[b], opt_kind, step_a[b], step_b[b], b1, b2, mu, nesterov, M, V)
        steps += 1
        if not math.isfinite(loss):
            return b + 1, steps  # the Trainer ends the fit here
    return b_hi, steps
