"""The compiled epoch (glassnet.fast.train_epoch, driven by glassnet.training.compiled) against the Trainer's loop:
the same weights after several epochs to float tolerance, the same losses, dropout masks, optimizer state and
termination checks; and the loop wherever the compiled epoch does not cover the fit."""

from __future__ import annotations

import copy
import os
import subprocess
import sys

import numpy as np
import pytest

from glassnet import fast
from glassnet.exceptions import TrainingDivergedError
from glassnet.nn.layers import Dense, Dropout, Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from glassnet.nn.losses import SigmoidBinaryCrossEntropy, SoftmaxCrossEntropy, SquaredError
from glassnet.nn.network import Sequential
from glassnet.nn.optim import SGD, Adam, AdamW
from glassnet.nn.schedules import CosineLR, InvScalingLR
from glassnet.training.callbacks import Callback
from glassnet.training.trainer import Trainer

pytestmark = pytest.mark.skipif(not fast.enabled(), reason="numba is not installed or GLASSNET_FAST=0")

DTYPES = [np.float32, np.float64]
#: after several epochs of Adam or SGD: float32 steps differ by rounding only (the BLAS of SciPy, sums in
#: another order), float64 ones by about 1e-15 relative
TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-9, atol=1e-11)}

ACTIVATIONS = {"relu": ReLU, "leaky_relu": LeakyReLU, "tanh": Tanh, "logistic": Sigmoid, "identity": Identity}


def _data(loss: str, n: int = 150, d: int = 7, k: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if loss == "softmax":
        return X, rng.integers(0, k, n), SoftmaxCrossEntropy()
    if loss == "bce":
        return X, (rng.random((n, k)) < 0.4).astype(float), SigmoidBinaryCrossEntropy()
    return X, rng.standard_normal((n, k)), SquaredError()


def _net(activation, loss, dtype, d=7, k=3, dropout=0.0, seed=0):
    layers = [Dense(d, 9, rng=seed, dtype=dtype), ACTIVATIONS[activation]()]
    if dropout:
        layers.append(Dropout(dropout, rng=seed + 1))
    layers += [Dense(9, 6, rng=seed + 2, dtype=dtype), ACTIVATIONS[activation]()]
    if dropout:
        layers.append(Dropout(dropout, rng=seed + 3))
    layers.append(Dense(6, k, rng=seed + 4, dtype=dtype))
    return Sequential(layers, loss, dtype=dtype)


class Spy:
    """Counts the calls that glassnet.fast.train_epoch took."""

    def __init__(self, monkeypatch):
        self.calls, real = 0, fast.train_epoch

        def spy(*args, **kwargs):
            out = real(*args, **kwargs)
            self.calls += out is not None
            return out

        monkeypatch.setattr(fast, "train_epoch", spy)


def _fit(compiled: bool, make_net, make_optimizer, X, y, *, epochs=4, sample_weight=None, **trainer_kwargs):
    """Train a fresh network on the compiled epoch or the loop (per-step kernels on); the trainer and net."""
    if "schedule" in trainer_kwargs:  # a new schedule for each fit (it keeps state)
        trainer_kwargs["schedule"] = trainer_kwargs["schedule"]()
    previous = fast.set_epochs_enabled(compiled)
    try:
        net = make_net()
        trainer = Trainer(net, make_optimizer(), seed=5, n_jobs=1, **{"batch_size": 32, **trainer_kwargs})
        trainer.fit(X, y, epochs, sample_weight=sample_weight)
    finally:
        fast.set_epochs_enabled(previous)
    return trainer, net


def _same(a, b, dtype):
    ta, na = a
    tb, nb = b
    np.testing.assert_allclose(na.flat_params, nb.flat_params, **TOL[dtype])
    np.testing.assert_allclose(ta.history["loss"], tb.history["loss"], rtol=TOL[dtype]["rtol"])
    assert ta.optimizer.t == tb.optimizer.t and ta.optimizer.lr == tb.optimizer.lr
    for name in ("_m", "_v", "_velocity"):
        if hasattr(tb.optimizer, name):
            np.testing.assert_allclose(getattr(ta.optimizer, name), getattr(tb.optimizer, name), **TOL[dtype])
    assert ta.divergence.last_batch[1] == pytest.approx(tb.divergence.last_batch[1], rel=TOL[dtype]["rtol"])


def _compare(monkeypatch, dtype, make_net, make_optimizer, X, y, **kwargs):
    spy = Spy(monkeypatch)
    compiled = _fit(True, make_net, make_optimizer, X, y, **kwargs)
    assert spy.calls > 0, "the compiled epoch was not taken"
    calls = spy.calls
    loop = _fit(False, make_net, make_optimizer, X, y, **kwargs)
    assert spy.calls == calls  # switched off: the loop ran
    _same(compiled, loop, dtype)
    return compiled, loop


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_each_activation_matches_the_loop(monkeypatch, dtype, activation):
    X, y, loss = _data("softmax")
    _compare(monkeypatch, dtype, lambda: _net(activation, loss, dtype), lambda: Adam(0.01), X, y)


@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_the_numpy_reference_path(monkeypatch, dtype):
    """Against the loop with every compiled kernel off (the NumPy engine a student reads)."""
    X, y, loss = _data("softmax")
    w = np.random.default_rng(4).uniform(0.5, 1.5, len(X))
    spy = Spy(monkeypatch)
    make_net, make_optimizer = lambda: _net("logistic", loss, dtype, dropout=0.2), lambda: Adam(0.01)
    compiled = _fit(True, make_net, make_optimizer, X, y, sample_weight=w, alpha=0.2)
    assert spy.calls > 0
    previous = fast.set_enabled(False)
    try:
        reference = _fit(True, make_net, make_optimizer, X, y, sample_weight=w, alpha=0.2)
    finally:
        fast.set_enabled(previous)
    assert spy.calls == 4
    _same(compiled, reference, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss_name", ["softmax", "bce", "squared"])
@pytest.mark.parametrize("weighted", [False, True])
def test_each_loss_with_and_without_sample_weights_matches_the_loop(monkeypatch, dtype, loss_name, weighted):
    X, y, loss = _data(loss_name)
    w = np.random.default_rng(3).uniform(0.0, 2.0, len(X)) if weighted else None
    _compare(monkeypatch, dtype, lambda: _net("tanh", loss, dtype), lambda: Adam(0.01), X, y, sample_weight=w)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda: SGD(0.05),
        lambda: SGD(0.05, momentum=0.9),
        lambda: SGD(0.05, momentum=0.9, nesterov=True),
        lambda: Adam(0.01),
        lambda: AdamW(0.01, weight_decay=0.1),
    ],
    ids=["sgd", "momentum", "nesterov", "adam", "adamw"],
)
def test_each_optimizer_with_l2_matches_the_loop(monkeypatch, dtype, make_optimizer):
    X, y, loss = _data("softmax")
    _compare(monkeypatch, dtype, lambda: _net("relu", loss, dtype), make_optimizer, X, y, alpha=0.3)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_masks_come_from_the_layers_streams_as_in_the_loop(monkeypatch, dtype):
    X, y, loss = _data("softmax")
    compiled, loop = _compare(
        monkeypatch, dtype, lambda: _net("relu", loss, dtype, dropout=0.3), lambda: Adam(0.01), X, y,
        epochs=3, alpha=0.1,
    )  # fmt: skip
    # the generators drew the same numbers: their next draws agree
    for a, b in zip(compiled[1].layers, loop[1].layers, strict=True):
        if isinstance(a, Dropout):
            assert a.rng.random() == b.rng.random()


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_on_the_inputs_matches_the_loop(monkeypatch, dtype):
    X, y, loss = _data("softmax")

    def make_net():
        layers = [
            Dropout(0.2, rng=7),
            Dense(7, 9, rng=0, dtype=dtype),
            LeakyReLU(0.1),
            Dense(9, 3, rng=1, dtype=dtype),
        ]
        return Sequential(layers, loss, dtype=dtype)

    _compare(monkeypatch, dtype, make_net, lambda: AdamW(0.01), X, y, epochs=3)


def test_dropout_epoch_in_parts_matches_the_loop(monkeypatch):
    """An epoch whose uniforms exceed one part's budget runs in several calls, with the same masks."""
    from glassnet.training import compiled as compiled_module

    monkeypatch.setattr(compiled_module, "_UNIFORMS_PER_PART", 200)
    X, y, loss = _data("softmax")
    spy = Spy(monkeypatch)
    a = _fit(True, lambda: _net("relu", loss, np.float64, dropout=0.5), lambda: Adam(0.01), X, y, epochs=2)
    assert spy.calls == 2 * 5  # 5 batches an epoch, one a part
    b = _fit(False, lambda: _net("relu", loss, np.float64, dropout=0.5), lambda: Adam(0.01), X, y, epochs=2)
    _same(a, b, np.float64)


def test_a_long_epoch_runs_in_parts_that_match_the_loop(monkeypatch):
    """Parts of a bounded number of operations (so that Ctrl-C is heard within about a second), same steps."""
    from glassnet.training import compiled as compiled_module

    X, y, loss = _data("squared")
    per_step = 6 * 32 * (7 * 9 + 9 * 6 + 6 * 3)  # operations of the products of a 32-row step
    monkeypatch.setattr(compiled_module, "_FLOPS_PER_PART", 2 * per_step)
    spy = Spy(monkeypatch)
    a = _fit(True, lambda: _net("tanh", loss, np.float64), lambda: SGD(0.05, momentum=0.9), X, y, epochs=2)
    assert spy.calls == 2 * 3  # 5 batches an epoch, two a part
    b = _fit(False, lambda: _net("tanh", loss, np.float64), lambda: SGD(0.05, momentum=0.9), X, y, epochs=2)
    _same(a, b, np.float64)


def test_zero_weight_batches_take_no_step(monkeypatch):
    X, y, loss = _data("softmax", n=96)
    w = np.ones(len(X))
    w[32:64] = 0.0  # the whole second batch (no shuffling)
    compiled, loop = _compare(
        monkeypatch, np.float64, lambda: _net("relu", loss, np.float64), lambda: Adam(0.01), X, y,
        sample_weight=w, shuffle=False, epochs=3,
    )  # fmt: skip
    assert compiled[0].optimizer.t == 3 * 2


@pytest.mark.parametrize(
    "make_schedule",
    [lambda: InvScalingLR(0.05, power_t=0.5), lambda: CosineLR(0.05, total_steps=12, warmup_steps=3)],
    ids=["invscaling", "cosine"],
)
def test_schedules_that_change_the_rate_every_batch(monkeypatch, make_schedule):
    X, y, loss = _data("softmax")
    compiled, loop = _compare(
        monkeypatch, np.float64, lambda: _net("relu", loss, np.float64), lambda: SGD(0.05, momentum=0.5), X, y,
        batch_size=50, schedule=make_schedule, epochs=3,
    )  # fmt: skip
    assert compiled[0].schedule.lr == loop[0].schedule.lr and compiled[0].schedule.t == loop[0].schedule.t


def test_rows_in_order_without_shuffling(monkeypatch):
    X, y, loss = _data("softmax")
    _compare(
        monkeypatch, np.float32, lambda: _net("logistic", loss, np.float32), lambda: SGD(0.5), X, y,
        shuffle=False, epochs=5,
    )  # fmt: skip


def test_a_full_batch_gets_the_loop(monkeypatch):
    """One step an epoch: nothing to save (the lab's full batch ran 1.07 times slower compiled)."""
    X, y, loss = _data("softmax")
    spy = Spy(monkeypatch)
    _fit(True, lambda: _net("logistic", loss, np.float32), lambda: SGD(0.5), X, y, batch_size=None, epochs=2)
    assert spy.calls == 0


def test_a_callback_with_a_batch_hook_gets_the_loop(monkeypatch):
    class Steps(Callback):
        def __init__(self):
            self.batches = 0

        def on_batch_end(self, trainer, batch, logs):
            self.batches += 1

    class EpochsOnly(Callback):  # Callback's empty on_batch_end: the compiled epoch is equivalent
        def on_epoch_end(self, trainer, epoch, logs):
            pass

    X, y, loss = _data("softmax")
    spy = Spy(monkeypatch)
    steps = Steps()
    _fit(True, lambda: _net("relu", loss, np.float32), lambda: Adam(0.01), X, y, callbacks=[steps], epochs=2)
    assert spy.calls == 0 and steps.batches == 2 * 5
    _fit(
        True,
        lambda: _net("relu", loss, np.float32),
        lambda: Adam(0.01),
        X,
        y,
        callbacks=[EpochsOnly()],
        epochs=2,
    )
    assert spy.calls == 2


def test_what_it_does_not_cover_gets_the_loop(monkeypatch):
    X, y, _ = _data("softmax")
    spy = Spy(monkeypatch)
    smoothing = lambda: Sequential([Dense(7, 3, rng=0)], SoftmaxCrossEntropy(label_smoothing=0.1))  # noqa: E731
    _fit(True, smoothing, lambda: Adam(0.01), X, y, epochs=1)
    relu = lambda: _net("relu", SoftmaxCrossEntropy(), np.float32)  # noqa: E731
    _fit(True, relu, lambda: Adam(0.01), X, y, epochs=1, augment=lambda Xb, rng: Xb)
    onehot = np.eye(3)[y]
    _fit(
        True, lambda: _net("relu", SoftmaxCrossEntropy(), np.float32), lambda: Adam(0.01), X, onehot, epochs=1
    )
    assert spy.calls == 0
    previous = fast.set_enabled(False)  # GLASSNET_FAST=0 does this
    try:
        _fit(
            True, lambda: _net("relu", SoftmaxCrossEntropy(), np.float32), lambda: Adam(0.01), X, y, epochs=1
        )
    finally:
        fast.set_enabled(previous)
    assert spy.calls == 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_divergence_raises_as_the_loop_does_with_the_same_weights(monkeypatch, dtype):
    """lr 1e6: the same error, in the same epoch, and the same weights from before the trouble."""
    X, y, loss = _data("softmax")
    X = X * 1e3
    spy = Spy(monkeypatch)
    errors, weights = [], []
    for compiled in (True, False):
        net = _net("relu", loss, dtype)
        previous = fast.set_epochs_enabled(compiled)
        try:
            with pytest.raises(TrainingDivergedError) as info:
                Trainer(net, SGD(1e6), batch_size=32, seed=5, n_jobs=1).fit(X, y, 10)
        finally:
            fast.set_epochs_enabled(previous)
        errors.append(info.value)
        weights.append(net.flat_params.copy())
    assert spy.calls > 0
    assert str(errors[0]) == str(errors[1]) and errors[0].epoch == errors[1].epoch
    np.testing.assert_allclose(weights[0], weights[1], **TOL[dtype])


@pytest.mark.parametrize("compiled", [True, False])
def test_a_non_finite_loss_restores_the_weights_of_that_epochs_start(monkeypatch, compiled):
    X, y, loss = _data("squared")  # a linear network with a large rate: the weights overflow within epochs
    seen = {}

    class EpochStart(Callback):
        def on_epoch_begin(self, trainer, epoch):
            seen["start"] = trainer.net.flat_params.copy()

    net = _net("identity", loss, np.float64)
    spy = Spy(monkeypatch)
    previous = fast.set_epochs_enabled(compiled)
    try:
        trainer = Trainer(
            net, SGD(10.0), batch_size=32, seed=5, n_jobs=1, callbacks=[EpochStart()], divergence_factor=None
        )
        with pytest.raises(TrainingDivergedError, match="the loss became (nan|inf)"):
            trainer.fit(X, y, 50)
    finally:
        fast.set_epochs_enabled(previous)
    assert (spy.calls > 0) == compiled
    np.testing.assert_array_equal(net.flat_params, seen["start"])


_THREADS_SCRIPT = """
import numpy as np
from threadpoolctl import threadpool_info
from glassnet import fast
from glassnet.nn.network import build_mlp
from glassnet.nn.optim import Adam
from glassnet.training.trainer import Trainer

def blas(where):
    return [lib["num_threads"] for lib in threadpool_info() if f"/{where}" in lib["filepath"]]

real = fast.train_epoch
def spy(*args, **kwargs):
    print("kernel", blas("scipy"))
    return real(*args, **kwargs)
fast.train_epoch = spy

rng = np.random.default_rng(0)
# a small network: the fit limits BLAS to one thread, SciPy's loaded by the first compiled epoch included
Trainer(build_mlp([4, 8, 3], seed=0), Adam(), batch_size=50).fit(rng.normal(size=(100, 4)), np.arange(100) % 3, 1)
print("after", blas("scipy"))
# threads asked for: NumPy's BLAS on 2 threads, and SciPy's too while the kernel runs (here set to 1 before)
import threadpoolctl
for lib in threadpoolctl.ThreadpoolController().lib_controllers:
    if "/scipy" in lib.filepath:
        lib.set_num_threads(1)
Trainer(build_mlp([4, 8, 3], seed=0), Adam(), batch_size=50, threads=2).fit(rng.normal(size=(100, 4)), np.arange(100) % 3, 1)
print("after", blas("scipy"), blas("numpy"))
"""


def test_the_products_run_on_as_many_blas_threads_as_numpys(tmp_path):
    """numba's products run on SciPy's BLAS, a library of its own in the wheels: during the compiled epoch it
    takes NumPy's number of threads (the fit's limit, or the caller's), and its own setting back afterwards."""
    pytest.importorskip("threadpoolctl")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2", "GLASSNET_FAST": "1"}
    out = subprocess.run(
        [sys.executable, "-c", _THREADS_SCRIPT], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    if "kernel []" in out.stdout:
        pytest.skip("NumPy and SciPy share one BLAS library here")
    assert out.stdout.split("\n")[:4] == ["kernel [1]", "after [2]", "kernel [2]", "after [1] [2]"]


# --- what the compiled epochs of a fit share (compiled._Plan), kept between epochs --------------------------------


class _Changes(Callback):
    """Between epochs: a higher dropout rate and a steeper leaky ReLU after the first, a new optimizer after the
    second; what a kept description must notice."""

    def on_epoch_end(self, trainer, epoch, logs):
        if epoch == 0:
            for layer in trainer.net.layers:
                if isinstance(layer, Dropout):
                    layer.rate = 0.4
                if isinstance(layer, LeakyReLU):
                    layer.negative_slope = 0.2
        if epoch == 1:
            trainer.optimizer = SGD(0.05, momentum=0.9, nesterov=True)


def _leaky_net(dtype):
    layers = [
        Dense(7, 9, rng=0, dtype=dtype),
        LeakyReLU(0.01),
        Dropout(0.1, rng=1),
        Dense(9, 3, rng=2, dtype=dtype),
    ]
    return Sequential(layers, SoftmaxCrossEntropy(), dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_change_between_epochs_is_described_anew(monkeypatch, dtype):
    """A dropout rate, a slope and the optimizer changed by a callback between epochs: the compiled epochs
    follow them as the loop does (a description kept without its key would train on with the old ones)."""
    X, y, _ = _data("softmax")
    compiled, loop = _compare(
        monkeypatch, dtype, lambda: _leaky_net(dtype), lambda: Adam(0.01), X, y, callbacks=[_Changes()]
    )
    assert isinstance(compiled[0].optimizer, SGD) and compiled[1].layers[2].rate == 0.4


def test_the_description_is_made_once_a_fit_and_anew_for_another_network(monkeypatch):
    """Kept between the epochs of a fit; a new network given to the same trainer gets a description of its own
    (a kept one would read its parameters at the old network's offsets) and trains as the loop does."""
    from glassnet.training import compiled

    made, real = [], compiled._layers
    monkeypatch.setattr(compiled, "_layers", lambda net, n: made.append(net) or real(net, n))
    X, y, loss = _data("softmax")
    trainer = Trainer(_net("relu", loss, np.float64), Adam(0.01), batch_size=32, seed=5, n_jobs=1)
    trainer.fit(X, y, 4)
    assert len(made) == 1

    def other():
        return Sequential([Dense(7, 5, rng=7, dtype=np.float64), Tanh(), Dense(5, 3, rng=8, dtype=np.float64)],
                          SoftmaxCrossEntropy(), dtype=np.float64)  # fmt: skip

    shuffling = copy.deepcopy(trainer.rng)  # the loop below shuffles as this trainer goes on to
    trainer.net, trainer.optimizer = other(), Adam(0.01)
    trainer.fit(X, y, 2)
    assert len(made) == 2 and made[-1] is trainer.net
    reference = Trainer(other(), Adam(0.01), batch_size=32, seed=shuffling, n_jobs=1)
    previous = fast.set_epochs_enabled(False)
    try:
        reference.fit(X, y, 2)
    finally:
        fast.set_epochs_enabled(previous)
    np.testing.assert_allclose(trainer.net.flat_params, reference.net.flat_params, **TOL[np.float64])


def test_labels_changed_in_place_during_a_fit_end_it_without_a_stray_read(monkeypatch):
    """The labels are checked once a fit; the kernel checks each one it reads, so a label changed in place to
    one the network has no output for ends the fit as a non-finite loss (the weights of that epoch's start)."""

    class Spoil(Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            y[3] = 7  # three outputs
            self.start = trainer.net.flat_params.copy()

    X, y, loss = _data("softmax")
    spy, spoil = Spy(monkeypatch), Spoil()
    net = _net("relu", loss, np.float64)
    with pytest.raises(TrainingDivergedError, match="nan"):
        Trainer(net, Adam(0.01), batch_size=32, seed=5, n_jobs=1, callbacks=[spoil]).fit(X, y, 3)
    assert spy.calls >= 2
    np.testing.assert_array_equal(net.flat_params, spoil.start)
