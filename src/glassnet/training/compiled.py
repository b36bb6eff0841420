r"""The compiled epoch in the loop: when the Trainer may run an epoch as one call to
:func:`glassnet.fast.train_epoch`, and the network described for it.

``Trainer._run_epoch`` is the reference: for each batch, forward, loss, backward and update, then the
termination checks, the schedule and the callbacks' ``on_batch_end``. A small network's step is mostly the
Python around its arithmetic (about 50 us a step for 64-100-10 with 200 rows), so for the fits it covers the
compiled kernel runs every step of the epoch without returning to Python, and :func:`run_epoch` then applies
the loop's checks to the batch losses it returns, in the loop's order:

- the first batch loss of a fit sets the divergence reference; a non-finite loss ends the fit at that batch
  with the weights of the epoch's start (the kernel stops right after that batch's step, as the loop does);
- the schedule hears of every batch (``on_batch_end``) and the optimizer keeps its step count and rate.

It covers (anything else returns ``None`` and the loop runs):

- ``Dense`` layers with ``ReLU``, ``LeakyReLU``, ``Tanh``, ``Sigmoid`` (logistic) or ``Identity`` between them
  and ``Dropout`` (its masks drawn from its own generator before the steps, the same numbers in the same
  order as the loop draws them), exactly these classes (a subclass may compute something else);
- ``SoftmaxCrossEntropy`` on integer labels without label smoothing, ``SigmoidBinaryCrossEntropy`` and
  ``SquaredError``; sample weights or not; the L2 term ``alpha``;
- ``SGD`` (with or without (Nesterov) momentum), ``Adam`` and ``AdamW``;
- a schedule whose rate is constant within the epoch, or ``InvScalingLR`` and ``CosineLR``, whose per-batch
  rates are computed beforehand on a copy (they depend on the batch sizes only);
- steps whose largest matrix product is below ``glassnet.training.threads.LARGE_PRODUCT_FLOPS`` (larger
  ones are the step's time: the loop shares them among a crew of threads, with the same bits on any number
  of cores, :mod:`glassnet.fast.products`);
- no callback that hooks a batch (``on_batch_begin``, ``on_batch_end``, ``on_gradients``), no augmentation,
  one process, dense ``X``, and more than one batch an epoch (a full batch has no Python between steps to
  save).
"""

from __future__ import annotations

import contextlib
import copy
import math
import os

import numpy as np

from glassnet import fast
from glassnet.nn.layers import Dense, Dropout, Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from glassnet.nn.losses import SigmoidBinaryCrossEntropy, SoftmaxCrossEntropy, SquaredError
from glassnet.nn.optim import SGD, Adam, AdamW
from glassnet.nn.schedules import CosineLR, InvScalingLR, Schedule
from glassnet.training.callbacks import Callback
from glassnet.training.threads import LARGE_PRODUCT_FLOPS, largest_product_flops

__all__ = ["covers", "run_epoch"]

#: the activation classes the kernel computes, by the kernel's names for them
_ACTIVATIONS = {ReLU: "relu", Tanh: "tanh", Sigmoid: "logistic"}
_LOSSES = {
    SoftmaxCrossEntropy: "softmax_cross_entropy",
    SigmoidBinaryCrossEntropy: "sigmoid_binary_cross_entropy",
    SquaredError: "squared_error",
}
#: schedules whose rates within an epoch depend only on the batch sizes: computed beforehand on a copy
_BATCH_SCHEDULES = (InvScalingLR, CosineLR)
#: the uniforms drawn for dropout at a time (floats): the epoch runs in parts when it needs more
_UNIFORMS_PER_PART = 1 << 20
#: the floating-point operations of the matrix products run in one call (6 per weight and row a step: forward,
#: weight and input gradients), about a second on one core: Ctrl-C and the Python around it get a word in
_FLOPS_PER_PART = 3e10
#: (NumPy's BLAS, SciPy's BLAS) as threadpoolctl controllers, once the compiled epoch has loaded (see
#: _same_blas_threads); ``()`` where they are one library or threadpoolctl is absent
_blas: tuple | None = None


def _hooks_batches(callback) -> bool:
    """Whether a callback does something before or after a batch or to the gradients (not Callback's empty
    hook)."""
    for hook in ("on_batch_begin", "on_batch_end", "on_gradients"):
        method = getattr(type(callback), hook, None)
        if (method is not None and method is not getattr(Callback, hook, None)) or hook in getattr(
            callback, "__dict__", {}
        ):
            return True
    return False


def _layers(net, n_features: int) -> list[tuple] | None:
    """The network in the kernel's description (``glassnet.fast.train_epoch``), or ``None``."""
    flat, itemsize = net.flat_params, net.flat_params.itemsize
    base = flat.__array_interface__["data"][0]

    def offset(a: np.ndarray) -> int | None:
        """Where ``a`` starts in the flat vector, if it is a contiguous view of it."""
        start = a.__array_interface__["data"][0] - base
        if a.base is None or not a.flags.c_contiguous or start % itemsize or a.dtype != flat.dtype:
            return None
        if start < 0 or start // itemsize + a.size > flat.size:
            return None
        return start // itemsize

    out, width, dense = [], n_features, False
    for layer in net.layers:
        kind = type(layer)
        if kind is Dense:
            w, b = offset(layer.W), offset(layer.b)
            if w is None or b is None or layer.in_features != width:
                return None
            out.append(("dense", w, b, layer.in_features, layer.out_features))
            width, dense = layer.out_features, True
        elif kind in _ACTIVATIONS:
            out.append((_ACTIVATIONS[kind],))
        elif kind is LeakyReLU:
            out.append(("leaky_relu", layer.negative_slope))
        elif kind is Identity or (kind is Dropout and layer.rate == 0.0):
            continue  # the identity: forward and backward pass the array through
        elif kind is Dropout and layer.rng is not None:
            out.append(("dropout", layer.rate, layer))  # the layer: its generator draws the masks
        else:
            return None  # the loop runs (and raises where the layer is misused)
        if not dense and kind is not Dropout:
            return None  # an activation below the first Dense: leave it to the loop
    return out if dense and width == net.n_outputs else None


def _targets(net, y: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None] | None:
    """``(labels, targets)`` as the kernel takes them for this loss, or ``None`` (the loop checks and raises)."""
    k = net.n_outputs
    if type(net.loss) is SoftmaxCrossEntropy:
        if net.loss.label_smoothing or y.ndim != 1 or y.dtype.kind not in "iu" or y.size == 0:
            return None
        if y.min() < 0 or y.max() >= k:
            return None
        return np.ascontiguousarray(y, dtype=np.intp), None
    if y.dtype != net.dtype:  # prepare() has cast them and checked that they are finite
        return None
    t = y.reshape(-1, 1) if y.ndim == 1 and k == 1 else y
    if t.ndim != 2 or t.shape[1] != k:
        return None
    return None, np.ascontiguousarray(t)


def covers(trainer) -> bool:
    """Whether the trainer's fit is one the compiled epoch takes (the parts that do not depend on the data)."""
    schedule = trainer.schedule
    constant = type(schedule).on_batch_end is Schedule.on_batch_end
    return (
        fast.epochs_enabled()
        and trainer._parallel is None
        and trainer.augment is None
        and type(trainer.optimizer) in (SGD, Adam, AdamW)
        and type(trainer.net.loss) in _LOSSES
        and (constant or type(schedule) in _BATCH_SCHEDULES)
        and not any(_hooks_batches(cb) for cb in trainer.callbacks)
    )


def _rates(trainer, counts: np.ndarray, take: np.ndarray) -> list[float]:
    """The optimizer's rate at each batch, as the loop would set it from the schedule."""
    schedule = trainer.schedule
    if type(schedule).on_batch_end is Schedule.on_batch_end:
        return [schedule.lr] * len(counts)
    ahead, rates = copy.deepcopy(schedule), []
    for count, taken in zip(counts.tolist(), take.tolist(), strict=True):
        rates.append(ahead.lr)
        if taken:
            ahead.on_batch_end(count)
    return rates


def _steps(optimizer, rates: list[float], take: np.ndarray, dtype):
    """Per batch: the rate (SGD) or step scale (Adam), Adam's epsilon / c and the weight decay, as
    ``Optimizer.update`` and ``Adam._update`` compute them from the step count ``t``."""
    n = len(rates)
    a, b, decay = np.zeros(n, dtype=dtype), np.zeros(n, dtype=dtype), np.zeros(n, dtype=dtype)
    t = optimizer.t
    adam = isinstance(optimizer, Adam)
    for i, (lr, taken) in enumerate(zip(rates, take.tolist(), strict=True)):
        if not taken:
            continue
        t += 1
        if optimizer.weight_decay:
            decay[i] = lr * optimizer.weight_decay
        if adam:
            b1, b2 = optimizer.beta_1, optimizer.beta_2
            c = math.sqrt((1.0 - b2) / (1.0 - b2**t))
            a[i] = lr * (1.0 - b1) / ((1.0 - b1**t) * c)
            b[i] = optimizer.epsilon / c
        else:
            a[i] = lr
    return a, b, decay


def _optimizer(optimizer, params: np.ndarray) -> tuple:
    if isinstance(optimizer, Adam):
        M, V = optimizer._buffer("_m", params), optimizer._buffer("_v", params)
        return ("adam", optimizer.beta_1, optimizer.beta_2, M, V)
    if optimizer.momentum:
        return ("momentum", optimizer.momentum, optimizer.nesterov, optimizer._buffer("_velocity", params))
    return ("sgd",)


def run_epoch(trainer, data, order: np.ndarray | None, batch: int, start_weights: np.ndarray):
    """The epoch of ``Trainer._run_epoch`` as one compiled call when it covers the fit: returns ``(total,
    weight)``, the batch losses summed with their weights, after the loop's termination checks (which may
    raise :class:`~glassnet.exceptions.TrainingDivergedError`); ``None`` when the loop must run instead."""
    if batch >= data.n_rows:  # one step an epoch: no Python between steps to save (measured: the lab's
        return None  # full batch took 1.07 times the loop's CPU time compiled)
    described = _describe(trainer, data, batch)
    if described is None:
        return None
    X, plan, targets = described
    net = trainer.net
    if data.sample_weight is None:
        weights, take = plan.weights, plan.take
    else:  # summed as the loop sums them
        weights = np.array(
            [data.size_of(_rows(order, s, c))[1] for s, c in zip(plan.starts, plan.counts, strict=True)]
        )
        take = weights != 0  # a batch of zero-weight rows takes no step
    rates = _rates(trainer, plan.counts, take)
    steps = _steps(trainer.optimizer, rates, take, net.dtype)
    optimizer = _optimizer(trainer.optimizer, net.flat_params)
    losses = np.zeros(len(plan.starts))
    with _same_blas_threads():  # the products on SciPy's BLAS run on as many threads as NumPy's would
        done = _run_parts(trainer, data, order, plan, take, X, targets, optimizer, losses, steps)
    if done is None:
        return None
    return _checks(
        trainer, data, order, plan.starts, plan.counts, weights, take, rates, losses, done, start_weights
    )


def _run_parts(trainer, data, order, plan, take, X, targets, optimizer, losses, steps):
    """The kernel on batches ``plan.part`` at a time, their dropout uniforms drawn before each; the batches done
    (fewer after a non-finite loss), or ``None`` when the kernel took nothing."""
    net, (step_a, step_b, decay) = trainer.net, steps
    starts, counts = plan.starts, plan.counts
    done = 0
    for lo in range(0, len(starts), plan.part):
        hi = min(lo + plan.part, len(starts))
        spec, uniforms = _draw_uniforms(plan.layers, plan.dropouts, X.shape[1], starts, counts, take, lo, hi,
                                        net.dtype)  # fmt: skip
        ran = fast.train_epoch(
            X, order, starts, counts, take, layers=spec, loss=_LOSSES[type(net.loss)],
            labels=targets[0], targets=targets[1], sample_weight=data.sample_weight,
            params=net.flat_params, grads=net.flat_grads, weight_mask=net.weight_mask,
            l2=(trainer.alpha / data.weight_total, 0.5 * trainer.alpha / data.weight_total),
            optimizer=optimizer, step_a=step_a, step_b=step_b, decay=decay, losses=losses,
            batches=(lo, hi), uniforms=uniforms, first_row=int(starts[lo]),
        )  # fmt: skip
        if ran is None:
            if lo == 0:
                return None  # nothing has run: the loop takes the whole epoch
            raise RuntimeError("the compiled epoch stopped being available in the middle of an epoch")
        done, taken = ran
        trainer.optimizer.t += taken
        if done < hi:
            break  # a non-finite loss: the checks end the fit
    return done


def _numpy_and_scipy_blas() -> tuple:
    """NumPy's and SciPy's BLAS libraries (threadpoolctl controllers) when they are two (the wheels bundle one
    each; numba's matrix products call SciPy's), else ``()``."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return ()
    libs = [lib for lib in ThreadpoolController().lib_controllers if lib.user_api == "blas"]
    numpy_blas = [lib for lib in libs if f"{os.sep}numpy" in lib.filepath]
    scipy_blas = [lib for lib in libs if f"{os.sep}scipy" in lib.filepath]
    return (numpy_blas[0], scipy_blas[0]) if numpy_blas and scipy_blas else ()


@contextlib.contextmanager
def _same_blas_threads():
    """SciPy's BLAS on NumPy's number of threads inside the block (the fit's limits, :mod:`threads`, or the
    caller's), its own setting back after it. Two library calls each way: a few microseconds an epoch."""
    if not _blas:
        yield
        return
    numpy_blas, scipy_blas = _blas
    want, own = numpy_blas.num_threads, scipy_blas.num_threads
    if want != own:
        scipy_blas.set_num_threads(want)
    try:
        yield
    finally:
        if want != own:
            scipy_blas.set_num_threads(own)


def _describe(trainer, data, batch: int) -> tuple | None:
    """``(X, plan, (labels, targets))`` as the kernel takes them, or ``None`` when it does not cover the fit."""
    if not covers(trainer) or not isinstance(data.X, np.ndarray):
        return None
    net, X = trainer.net, data.X
    if X.dtype != net.dtype or X.ndim != 2:
        return None
    plan = _Plan.of(trainer, X.shape[1], data, batch)
    if plan.targets is None:
        return None  # not covered (large products included): numba and SciPy's BLAS are not loaded for it
    global _blas
    if _blas is None:  # numba, and SciPy's BLAS that its products call, load now
        if not fast.load_epochs():
            return None
        _blas = _numpy_and_scipy_blas()
    return np.ascontiguousarray(X), plan, plan.targets


class _Plan:
    """What the compiled epochs of a fit share, described once and kept on the trainer between epochs: the
    network in the kernel's terms (:func:`_layers`), the targets (:func:`_targets`; ``None`` when either is not
    covered), the batches as the loop cuts them (rows ``starts[b]`` to ``starts[b] + counts[b]`` of the order,
    with their weights without sample weights, and ``take``: whether each takes a step), the dropout layers and
    the batches run in one call (``part``).

    ``key`` is what these are made from (:func:`_key`), compared every epoch: a network rebuilt, a layer, its
    parameter views, the loss or the targets replaced, or a dropout rate changed between epochs describes the
    fit anew. ``held`` keeps the objects whose ids are in the key alive, so that no other object takes one of
    their ids. (The labels are checked against the outputs here, once; the kernel checks each label it reads
    too, so that labels changed in place during a fit end it as a non-finite loss, never outside an array.)
    """

    __slots__ = (
        "key",
        "held",
        "layers",
        "targets",
        "dropouts",
        "starts",
        "counts",
        "weights",
        "take",
        "part",
    )

    @classmethod
    def of(cls, trainer, n_features: int, data, batch: int) -> _Plan:
        """The trainer's plan for this epoch: the one kept if its key still holds, else a new one, kept."""
        key = _key(trainer.net, n_features, data, batch)
        plan = trainer._compiled_plan
        if plan is None or plan.key != key:
            plan = trainer._compiled_plan = cls(trainer.net, key, n_features, data, batch)
        return plan

    def __init__(self, net, key: tuple, n_features: int, data, batch: int) -> None:
        self.key, self.held, n_rows = key, [], data.n_rows
        _key(net, n_features, data, batch, held=self.held)
        # large products are the step, and the loop's (shared by a crew, glassnet.fast.products) give the same
        # bits on any number of cores: the kernel takes small ones only
        large = largest_product_flops(net, batch) >= LARGE_PRODUCT_FLOPS
        self.layers = layers = None if large else _layers(net, n_features)
        self.targets = None if layers is None else _targets(net, np.asarray(data.y))
        self.starts = np.arange(0, n_rows, batch, dtype=np.intp)
        self.counts = np.minimum(batch, n_rows - self.starts)
        self.weights = self.counts.astype(np.float64)
        self.take = self.weights != 0
        self.dropouts = [] if layers is None else [i for i, spec in enumerate(layers) if spec[0] == "dropout"]
        if layers is None:
            self.part = 0
            return
        # the epoch in parts of at most _UNIFORMS_PER_PART dropout uniforms and _FLOPS_PER_PART of products
        per_row = sum(_width_at(layers, i, n_features) for i in self.dropouts)
        part = len(self.starts) if not per_row else max(1, _UNIFORMS_PER_PART // (per_row * batch))
        weights_size = sum(spec[3] * spec[4] for spec in layers if spec[0] == "dense")
        self.part = min(part, max(1, int(_FLOPS_PER_PART // (6 * batch * weights_size))))


def _key(net, n_features: int, data, batch: int, held: list | None = None) -> tuple:
    """What a :class:`_Plan` is made from: the network, its flat parameter vector, its loss (and its label
    smoothing), the training targets and rows, each layer and what the kernel reads of it (a ``Dense``'s parameter views, a
    dropout's rate and generator, a leaky ReLU's slope), by identity or value; the objects go to ``held`` when it
    is given."""
    objects = [net, net.flat_params, net.loss, data.y]
    values = [n_features, data.n_rows, batch, getattr(net.loss, "label_smoothing", None)]
    for layer in net.layers:
        objects.append(layer)
        kind = type(layer)
        if kind is Dense:
            objects += (layer.W, layer.b)
        elif kind is Dropout:
            objects.append(layer.rng)
            values.append(layer.rate)
        elif kind is LeakyReLU:
            values.append(layer.negative_slope)
    if held is not None:
        held += objects
    return (*map(id, objects), *values)


def _rows(order: np.ndarray | None, start: int, count: int):
    """The rows of a batch as the loop takes them: a slice, or a part of the order."""
    return slice(start, start + count) if order is None else order[start : start + count]


def _draw_uniforms(layers, dropouts, n_features, starts, counts, take, lo, hi, dtype):
    """The layer description for batches ``lo`` to ``hi`` and the uniforms of their dropout masks, drawn as the
    loop draws them: batch by batch, each dropout layer in forward order, from the layer's own generator."""
    if not dropouts:
        return layers, None
    row0 = int(starts[lo])
    span = int(starts[hi - 1] + counts[hi - 1]) - row0
    widths = [_width_at(layers, i, n_features) for i in dropouts]
    offsets = np.cumsum([0, *[span * w for w in widths]])[:-1].tolist()
    spec = list(layers)
    uniforms = np.empty(span * sum(widths), dtype=dtype)
    for i, u in zip(dropouts, offsets, strict=True):
        spec[i] = ("dropout", layers[i][1], u)
    for b in range(lo, hi):
        if take[b]:
            s, m = int(starts[b]) - row0, int(counts[b])
            for i, u, w in zip(dropouts, offsets, widths, strict=True):
                out = uniforms[u + s * w : u + (s + m) * w].reshape(m, w)
                layers[i][2].rng.random(dtype=dtype, out=out)  # the layer's generator, as Dropout.forward
    return spec, uniforms


def _checks(trainer, data, order, starts, counts, weights, take, rates, losses, done, start_weights):
    """The loop's bookkeeping and termination checks on the batch losses of the first ``done`` batches: the
    divergence reference from the fit's first loss, a non-finite loss ends the fit, the schedule and the
    optimizer's rate follow every batch; returns the weighted sum of the losses and of the weights."""
    divergence, net = trainer.divergence, trainer.net
    batch_hook = type(trainer.schedule).on_batch_end is not Schedule.on_batch_end  # else: nothing to tell
    total = weight = 0.0
    last = None
    # Python floats (the same values): reading NumPy scalars one at a time costs more than the sums
    losses, weights, take = losses[:done].tolist(), weights.tolist(), take.tolist()
    for b in range(done):
        if not take[b]:
            continue
        loss = losses[b]
        if divergence.reference is None:
            divergence.first_loss(loss, net, data.y)
        if not math.isfinite(loss):  # the kernel stopped right after this batch
            trainer.optimizer.lr = rates[b]
            divergence.batch_diverged(loss, _rows(order, int(starts[b]), int(counts[b])), start_weights)
            trainer._diverged(loss)
        total, weight = total + loss * weights[b], weight + weights[b]
        if batch_hook:
            trainer.schedule.on_batch_end(int(counts[b]))
        last = b
    if last is not None:  # what the loop leaves: the last batch for the final check, and its rate
        trainer.optimizer.lr = rates[last]
        divergence.batch_diverged(losses[last], _rows(order, int(starts[last]), int(counts[last])), None)
    return total, weight


def _width_at(layers: list[tuple], index: int, n_features: int) -> int:
    """The width of the array that layer ``index`` sees (that of the last Dense below it, or the input's)."""
    width = n_features
    for spec in layers[:index]:
        if spec[0] == "dense":
            width = spec[4]
    return width
