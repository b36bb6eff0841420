r"""Optional compiled kernels (numba) for the few passes that NumPy cannot fuse.

glassnet's readable NumPy code is the reference path: it is what the docstrings describe and what a student
reads. Where a step is a chain of element-wise passes over the same memory (Adam's update, the derivative of an
activation, softmax cross-entropy), a kernel compiled by `numba <https://numba.pydata.org>`_ does the same
arithmetic, in the same order, in one pass. The exponentials of the sigmoid and of softmax cross-entropy are the
exception: NumPy's ``np.exp`` is a vector loop, numba's a scalar call to libm, so the kernels evaluate their own
(a polynomial times a power of two, built without a table, which LLVM vectorises; within 1 ulp of the exact
value in float32, where ``np.exp`` is within 2.5, and of ``np.exp`` in float64). It is used automatically when
numba is installed (``pip install glassnet[fast]``) and gives the reference path's results to float tolerance
(tested in float32 and float64 on every layer, loss and optimizer it replaces, ``tests/nn/test_fastpaths.py``).

Each function here returns ``False`` (or ``None``) when it cannot take the call (numba absent, fast paths
switched off, an array of another dtype, layout or shape), and the caller then runs its NumPy code. Set the
environment variable ``GLASSNET_FAST=0`` to run the reference path everywhere, or call :func:`set_enabled`.

=================================  =========================================  ==============================
kernel                             replaces                                   passes over memory
=================================  =========================================  ==============================
:func:`adam_update`                :meth:`glassnet.nn.optim.Adam._update`        9 -> 1
:func:`sgd_update`                 :meth:`glassnet.nn.optim.SGD._update`         2-6 -> 1
:func:`add_scaled`                 the L2 term: ``dW += s * W``, ``|W|^2``    3 (and a temporary) -> 1
:func:`sigmoid_forward`            ``Sigmoid.forward``: 1 / (1 + exp(-x))     4 -> 1
:func:`sigmoid_backward`           ``Sigmoid.backward``: dy (1 - a) a         3 -> 1
:func:`relu_backward`              ``ReLU.backward``: dy [a > 0]              2 -> 1
:func:`tanh_backward`              ``Tanh.backward``: dy (1 - a^2)            3 -> 1
:func:`softmax_cross_entropy`      ``SoftmaxCrossEntropy`` on integer labels  about 8 -> 3
:func:`train_epoch`                the loop of ``Trainer._run_epoch``         no Python between steps
=================================  =========================================  ==============================

:func:`train_epoch` is the one kernel that covers more than a pass: a run of whole training steps (forward,
loss, backward, L2, optimizer) of a stack of ``Dense`` layers with ReLU, leaky ReLU, tanh or logistic units and
dropout, a softmax cross-entropy (integer labels), sigmoid binary cross-entropy or squared-error head, and SGD
(with or without momentum) or Adam/AdamW, sample weights or not. A small network's step is mostly Python
calls (about 50 us a step for 64-100-10 with 200 rows); compiled, the step is its arithmetic. The Trainer
takes it when the fit is one it covers (:mod:`glassnet.training.compiled`) and runs its readable loop
otherwise; ``set_epochs_enabled(False)`` keeps the per-step kernels and turns only this one off.

The kernels are compiled on first use and cached on disk (``cache=True``), so only the first run on a machine
pays the compile time (about 15 s in all on two cores). The cache is written by one process at a time and
checked when read (:mod:`glassnet.fast._cache`): processes that compile at the same moment do not damage it.
"""

from __future__ import annotations

import importlib.util
import os
import threading

import numpy as np

from glassnet.fast import products

__all__ = [
    "AVAILABLE",
    "adam_update",
    "add_scaled",
    "describe",
    "enabled",
    "relu_backward",
    "set_enabled",
    "sgd_update",
    "sigmoid_backward",
    "sigmoid_forward",
    "softmax_cross_entropy",
    "epochs_enabled",
    "load_epochs",
    "set_epochs_enabled",
    "tanh_backward",
    "train_epoch",
    "warm_up",
]

#: numba can be imported here (checked without importing it: importing numba takes a second)
AVAILABLE: bool = importlib.util.find_spec("numba") is not None

#: the fast paths are in use: numba is available and ``GLASSNET_FAST`` is not ``0``
ENABLED: bool = AVAILABLE and os.environ.get("GLASSNET_FAST", "1").strip().lower() not in ("0", "false", "no")

_kernels = None
#: why the kernels could not be loaded although numba is installed (``None``: no failure)
LOAD_ERROR: str | None = None


def enabled() -> bool:
    """Whether the compiled kernels are in use."""
    return ENABLED


#: the compiled epoch (:func:`train_epoch`) is in use when the fast paths are (``set_epochs_enabled``)
EPOCHS: bool = True


def epochs_enabled() -> bool:
    """Whether :func:`train_epoch` takes the calls it covers (the fast paths on and epochs not switched off)."""
    return ENABLED and EPOCHS


def set_epochs_enabled(flag: bool) -> bool:
    """Switch the compiled epoch alone on or off (the per-step kernels stay as they are); returns the previous
    setting. For comparisons: the Trainer's loop with the per-step kernels against the compiled epoch."""
    global EPOCHS
    previous = EPOCHS
    EPOCHS = bool(flag)
    return previous


def set_enabled(flag: bool) -> bool:
    """Switch the fast paths on or off (on needs numba); returns the previous setting."""
    global ENABLED
    previous = ENABLED
    ENABLED = bool(flag) and AVAILABLE
    return previous


def describe() -> str:
    """One line for ``glassnet --version`` and the benchmarks: which path the engine runs."""
    if not AVAILABLE:
        return "fast paths off (numba not installed; `pip install glassnet[fast]` to add them)"
    from importlib.metadata import PackageNotFoundError, version

    try:
        numba_version = version("numba")
    except PackageNotFoundError:  # importable but not installed as a distribution
        numba_version = "?"
    if LOAD_ERROR is not None:
        return (
            f"fast paths off (numba {numba_version} installed, but the kernels failed to load: {LOAD_ERROR})"
        )
    if not ENABLED:
        return f"fast paths off (numba {numba_version} installed, switched off by GLASSNET_FAST=0 or set_enabled)"
    if not EPOCHS:
        why = EPOCH_LOAD_ERROR or "switched off by set_epochs_enabled"
        return f"fast paths on (numba {numba_version}), compiled epochs off ({why})"
    return f"fast paths on (numba {numba_version})"


def _k():
    """The kernel module, imported (and numba with it) on first use; ``None`` (and the fast paths off) when it
    cannot be loaded, for example a numba that does not support this NumPy, or no writable cache folder."""
    global _kernels, ENABLED, LOAD_ERROR
    if _kernels is None:
        try:
            from glassnet.fast import _cache, _numba

            _cache.guard(_numba)  # saved by one process at a time, checked when loaded
        except Exception as exc:  # noqa: BLE001 (any failure here means: run the NumPy path)
            LOAD_ERROR = f"{type(exc).__name__}: {exc}"
            ENABLED = False
            return None
        _kernels = _numba
    return _kernels


_epoch_kernel = None
#: why the compiled epoch could not be loaded (SciPy, whose BLAS its products call, missing...); ``None``: no failure
EPOCH_LOAD_ERROR: str | None = None


def _e():
    """The compiled epoch's module (numba and SciPy's BLAS with it), or ``None`` when it cannot be loaded."""
    global _epoch_kernel, EPOCH_LOAD_ERROR, EPOCHS
    if _epoch_kernel is None and _k() is not None:
        try:
            from glassnet.fast import _cache, _epoch

            _cache.guard(_epoch)
        except Exception as exc:  # noqa: BLE001 (SciPy missing, for one: the Trainer's loop runs instead)
            EPOCH_LOAD_ERROR = f"{type(exc).__name__}: {exc}"
            EPOCHS = False
            return None
        _epoch_kernel = _epoch
    return _epoch_kernel


def load_epochs() -> bool:
    """Load the compiled epoch's module (numba, and SciPy's BLAS, which its matrix products call) now;
    ``False`` when it is off or cannot be loaded. The Trainer calls it before its first compiled epoch, so
    that the BLAS limits of the fit can take in SciPy's library too."""
    return ENABLED and EPOCHS and _e() is not None


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _fits(*arrays: np.ndarray) -> bool:
    """Same float32/float64 dtype and shape, C-contiguous: what the kernels take. (A plain loop: this check
    runs several times a training step, and a generator in ``all`` cost a microsecond each time.)"""
    first = arrays[0]
    if not isinstance(first, np.ndarray) or first.dtype not in _FLOATS or not first.flags.c_contiguous:
        return False
    dtype, shape = first.dtype, first.shape
    for a in arrays[1:]:
        if not isinstance(a, np.ndarray) or a.dtype != dtype or a.shape != shape or not a.flags.c_contiguous:
            return False
    return True


def warm_up() -> bool:
    """Load numba and every kernel now (from numba's disk cache, or compiled on a first run) rather than at
    the first training step, in float32 and float64; ``False`` when the fast paths are off."""
    if not ENABLED:
        return False
    for dtype in (np.float32, np.float64):
        v = np.zeros(4, dtype=dtype)
        adam_update(v, v.copy(), v.copy(), v.copy(), 0.9, 0.999, 1e-8, 1e-3)
        sgd_update(v, v.copy(), None, 0.1, 0.0, False)
        sgd_update(v, v.copy(), v.copy(), 0.1, 0.9, True)
        a = np.zeros((2, 2), dtype=dtype)
        sigmoid_forward(a)
        for kernel in (sigmoid_backward, relu_backward, tanh_backward):
            kernel(a, a)
        softmax_cross_entropy(a, np.zeros(2, dtype=np.intp))
    return ENABLED


# --- optimizers --------------------------------------------------------------------------------------------------


def adam_update(params, grads, M, V, beta_1: float, beta_2: float, eps_c: float, scale: float) -> bool:
    r"""Adam's step in one pass, in the form of :meth:`glassnet.nn.optim.Adam._update` (moments kept divided by
    :math:`1 - \beta`): :math:`M \leftarrow \beta_1 M + g`, :math:`V \leftarrow \beta_2 V + g^2`,
    :math:`\theta \leftarrow \theta - s\, M / (\sqrt V + \epsilon_c)`. ``False``: not taken."""
    if not ENABLED or params.ndim != 1 or not _fits(params, grads, M, V):
        return False
    k = _k()
    if k is None:
        return False
    t = params.dtype.type
    constants = (t(beta_1), t(beta_2), t(eps_c), t(scale))
    _element_wise(params.size, lambda c: k.adam(params[c], grads[c], M[c], V[c], *constants))
    return True


def sgd_update(params, grads, velocity, lr: float, momentum: float, nesterov: bool) -> bool:
    r"""SGD's step in one pass, in the form of :meth:`glassnet.nn.optim.SGD._update`; ``velocity`` is ``None``
    for plain gradient descent. ``False``: not taken."""
    if not ENABLED or params.ndim != 1 or not _fits(params, grads, *([] if velocity is None else [velocity])):
        return False
    k = _k()
    if k is None:
        return False
    t = params.dtype.type
    if velocity is None:
        _element_wise(params.size, lambda c: k.sgd(params[c], grads[c], t(lr)))
    else:
        mu = t(momentum)
        _element_wise(
            params.size, lambda c: k.sgd_momentum(params[c], grads[c], velocity[c], t(lr), mu, bool(nesterov))
        )
    return True


def add_scaled(grad: np.ndarray, weights: np.ndarray, scale) -> float | None:
    r"""The L2 term's gradient in place, :math:`\nabla \mathrel{+}= s\, W`, and its value's
    :math:`\|W\|^2`, in one pass over ``weights`` (NumPy: ``grad += scale * weights``, a temporary and two
    passes, and ``np.vdot(W, W)``, a third). The gradient has NumPy's rounding (the product in the arrays' dtype,
    then the sum); the squares are summed in float64, in blocks of :data:`SQUARES_BLOCK` elements whose order
    does not depend on how many threads share the pass. ``None``: not taken."""
    if not ENABLED or not _fits(grad, weights):
        return None
    k = _k()
    if k is None:
        return None
    g, w, s = grad.reshape(-1), weights.reshape(-1), grad.dtype.type(scale)
    sums = np.empty(-(-g.size // SQUARES_BLOCK))  # (blocks,) float64

    def kernel(c: slice) -> None:
        b = slice(c.start // SQUARES_BLOCK, -(-min(c.stop, g.size) // SQUARES_BLOCK))
        k.add_scaled(g[c], w[c], s, sums[b], SQUARES_BLOCK)

    _element_wise(g.size, kernel, align=SQUARES_BLOCK)
    return float(sums.sum())


#: elements whose squares :func:`add_scaled` sums as one block (the parts that threads take are multiples)
SQUARES_BLOCK = 4096


#: the fewest parameters whose update a crew of threads shares (:mod:`glassnet.fast.products`): about 0.1 ms
#: of work on one core, several times a thread's hand-over
SHARED_UPDATE_SIZE = 1 << 18


def _element_wise(size: int, kernel, align: int = 1) -> None:
    """``kernel(slice(0, size))``, or the kernel on one part of the range per thread (parts start at multiples
    of ``align``) when a crew shares this fit's large products (an element-wise update gives the same numbers
    in parts)."""
    team = products.active()
    if team is None or size < SHARED_UPDATE_SIZE:
        kernel(slice(0, size))
    else:
        team.share([lambda c=c: kernel(c) for c in team.parts(size, align)])


# --- activations -------------------------------------------------------------------------------------------------


def sigmoid_forward(x: np.ndarray) -> np.ndarray | None:
    r""":math:`1 / (1 + e^{-x})` as a new array, in one pass whose exponential is vectorised, or ``None`` (not
    taken: the caller runs the NumPy formula). It gives that formula's results to a few ulps, and the same
    saturation: exactly 1 where :math:`1 + e^{-x}` rounds to 1, exactly 0 where :math:`e^{-x}` overflows; a
    result that would be subnormal may differ from NumPy's by less than the smallest normal number."""
    if not ENABLED or not _fits(x):
        return None
    k = _k()
    if k is None:
        return None
    out = np.empty_like(x)
    k.sigmoid_forward(x.reshape(-1), out.reshape(-1), x.dtype.type(1.0))
    return out


def _backward(kernel: str, dy, a):
    if not ENABLED or not _fits(dy, a):
        return None
    k = _k()
    if k is None:
        return None
    out = np.empty_like(a)
    getattr(k, kernel)(dy.reshape(-1), a.reshape(-1), out.reshape(-1), a.dtype.type(1.0))
    return out


def sigmoid_backward(dy: np.ndarray, a: np.ndarray) -> np.ndarray | None:
    r""":math:`\partial L/\partial a \odot (1 - a) \odot a` as a new array, or ``None`` (not taken)."""
    return _backward("sigmoid_backward", dy, a)


def relu_backward(dy: np.ndarray, a: np.ndarray) -> np.ndarray | None:
    r""":math:`\partial L/\partial a \odot [a > 0]` as a new array, or ``None`` (not taken)."""
    return _backward("relu_backward", dy, a)


def tanh_backward(dy: np.ndarray, a: np.ndarray) -> np.ndarray | None:
    r""":math:`\partial L/\partial a \odot (1 - a^2)` as a new array, or ``None`` (not taken)."""
    return _backward("tanh_backward", dy, a)


# --- losses ------------------------------------------------------------------------------------------------------


def softmax_cross_entropy(z: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray] | None:
    r"""Mean softmax cross-entropy of logits ``z`` (N, K) against integer ``labels`` (validated by the caller)
    and its gradient :math:`(\mathrm{softmax}(z) - \mathrm{onehot}(y)) / N`, in three passes (row maxima, the
    exponential as one vectorised loop, row sums and scaling); ``None`` when not taken.

    Faster than the NumPy path at every size measured (``benchmarks/fast_kernels.py``): 1437 x 10 float32
    logits 40 us against 60, 128 x 10 4 us against 18, 1000 x 100 150 us against 190. (The previous kernel,
    with libm's scalar ``expf`` at about 5 ns each, lost to NumPy above 8192 logits and was kept below.)"""
    if not ENABLED or z.ndim != 2 or not _fits(z) or labels.shape != (z.shape[0],) or z.size == 0:
        return None
    k = _k()
    if k is None:
        return None
    labels = labels.astype(np.intp, copy=False)
    dz = np.empty_like(z)
    loss = k.softmax_cross_entropy(z.reshape(-1), np.ascontiguousarray(labels), dz.reshape(-1), z.shape[1])
    return float(loss), dz


# --- whole training steps --------------------------------------------------------------------------------------

#: the layers, losses and optimizers :func:`train_epoch` takes, by the names its description uses
EPOCH_LAYERS = ("dense", "relu", "leaky_relu", "tanh", "logistic", "dropout")
EPOCH_LOSSES = ("softmax_cross_entropy", "sigmoid_binary_cross_entropy", "squared_error")
EPOCH_OPTIMIZERS = ("sgd", "momentum", "adam")


def train_epoch(
    X: np.ndarray,
    order: np.ndarray | None,
    starts: np.ndarray,
    counts: np.ndarray,
    take: np.ndarray,
    *,
    layers: list[tuple],
    loss: str,
    labels: np.ndarray | None,
    targets: np.ndarray | None,
    sample_weight: np.ndarray | None,
    params: np.ndarray,
    grads: np.ndarray,
    weight_mask: np.ndarray,
    l2: tuple[float, float],
    optimizer: tuple,
    step_a: np.ndarray,
    step_b: np.ndarray,
    decay: np.ndarray,
    losses: np.ndarray,
    batches: tuple[int, int] | None = None,
    uniforms: np.ndarray | None = None,
    first_row: int = 0,
) -> tuple[int, int] | None:
    r"""Whole mini-batch training steps in one compiled call, the reference loop's arithmetic in its order
    (:mod:`glassnet.fast._epoch`); returns ``(batches done, steps taken)`` or ``None`` (not taken: the caller
    runs its own loop). The run stops after the first batch whose loss is not finite.

    The network arrives as a plain description, so that this floor needs nothing from the ones above it:

    - ``X`` (N, D) C-contiguous float32 or float64; ``order`` the row order (``None``: rows in place);
      batch ``b`` is rows ``starts[b]`` to ``starts[b] + counts[b]`` of that order, stepped when ``take[b]``;
    - ``layers``: ``("dense", w_offset, b_offset, in, out)`` (``W`` (out, in) and ``b`` (out,) as slices of the
      flat ``params``; their gradients at the same offsets of ``grads``), ``("relu",)``, ``("leaky_relu",
      slope)``, ``("tanh",)``, ``("logistic",)``, ``("dropout", rate, u_offset)`` (its uniforms, drawn by the
      caller from the layer's generator as the reference draws them, at ``u_offset`` of ``uniforms``: rows
      ``starts[b] - first_row`` on, ``out`` wide); the first layer with a gradient is a ``dense``;
    - ``loss``: one of :data:`EPOCH_LOSSES`, with integer ``labels`` (N,) (softmax) or ``targets`` (N, K);
    - ``l2``: ``(alpha / n, alpha / (2 n))``; ``weight_mask`` 1 on decaying weights;
    - ``optimizer``: ``("sgd",)``, ``("momentum", mu, nesterov, velocity)`` or ``("adam", beta_1, beta_2, M,
      V)``; per batch ``step_a`` (the rate, or Adam's step scale), ``step_b`` (Adam's
      :math:`\epsilon / c`) and ``decay`` (the decoupled weight decay :math:`\eta \lambda`, 0 for none);
    - ``losses`` (n_batches,) float64 receives each batch's loss; ``batches`` = ``(first, stop)`` of a part.
    """
    dtype = params.dtype
    if not (ENABLED and EPOCHS) or not _fits(params, grads, weight_mask) or params.ndim != 1:
        return None
    if not isinstance(X, np.ndarray) or X.ndim != 2 or X.dtype != dtype or not X.flags.c_contiguous:
        return None
    k = _e()
    if k is None:
        return None
    b_lo, b_hi = (0, len(starts)) if batches is None else batches
    ops, opf, opf2, work, g1, g2, rows_buf, lab_buf, wn = _epoch_plan(k, layers, X.shape[1], counts, dtype)
    opt_kind, b1, b2, mu, nesterov, state_1, state_2 = k.optimizer_arguments(optimizer, dtype)
    empty_f = np.empty(0, dtype=dtype)
    done, steps = k.run(
        X, np.empty(0, dtype=np.intp) if order is None else order, order is not None, starts, counts, take,
        b_lo, b_hi, first_row,
        np.empty(0, dtype=np.intp) if labels is None else labels,
        np.empty((0, 1), dtype=dtype) if targets is None else targets,
        empty_f if sample_weight is None else sample_weight,
        EPOCH_LOSSES.index(loss),
        ops, opf, opf2, empty_f if uniforms is None else uniforms,
        params, grads, weight_mask, dtype.type(l2[0]), float(l2[1]),
        opt_kind, step_a, step_b, decay, b1, b2, mu, nesterov, state_1, state_2,
        work, g1, g2, rows_buf, lab_buf, wn, losses,
    )  # fmt: skip
    return int(done), int(steps)


_epoch_plans = threading.local()


def _epoch_plan(k, layers: list[tuple], n_features: int, counts: np.ndarray, dtype) -> tuple:
    """The kernel's arrays for ``layers`` and its work buffers, kept for the next epoch (in this thread's
    cache: the buffers are written)."""
    batch = int(counts.max()) if len(counts) else 0
    key = (tuple(layers), n_features, batch, dtype)
    plans = _epoch_plans.__dict__.setdefault("plans", {})
    if key not in plans:
        if len(plans) >= 8:
            plans.clear()
        plans[key] = k.plan(layers, n_features, batch, dtype)
    return plans[key]
