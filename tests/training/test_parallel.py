"""Data-parallel training (``n_jobs > 1``) gives the one-process results to float tolerance, and fails cleanly."""

from __future__ import annotations

import mmap
import os
import signal
import time
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits

from glassnet import MLPClassifier, MLPRegressor, parallel
from glassnet.callbacks import Callback
from glassnet.exceptions import TrainingDivergedError
from glassnet.network import build_mlp
from glassnet.optim import SGD, Adam, AdamW
from glassnet.training import Trainer

pytestmark = [
    pytest.mark.skipif(parallel.unsupported_reason(build_mlp([2, 2]), SGD()) is not None, reason="no fork"),
    pytest.mark.usefixtures("one_blas_thread"),
]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:500] / 16.0).astype(np.float32), y[:500]


def _private(a: np.ndarray) -> bool:
    """True when ``a`` is not backed by the shared memory of a data-parallel session."""
    base = a
    while isinstance(base, np.ndarray) and base.base is not None:
        base = base.base
    return not isinstance(base, mmap.mmap)


def _fit(n_jobs, X, y, opt, epochs=3, dtype=np.float32, **kwargs):
    activation, dropout = kwargs.pop("activation", "relu"), kwargs.pop("dropout", 0.0)
    net = build_mlp([X.shape[1], 24, 10], activation, seed=0, dropout=dropout, dtype=dtype)
    trainer = Trainer(net, opt, seed=1, n_jobs=n_jobs, **kwargs)
    history = trainer.fit(X, y, epochs, sample_weight=kwargs.pop("sample_weight", None))
    return net, trainer, history


CASES = {
    "full batch sgd": dict(opt=lambda: SGD(lr=0.5), batch_size=None, activation="logistic"),
    "shuffled adam": dict(opt=lambda: Adam(lr=0.01), batch_size=64),
    "odd batches, l2, momentum": dict(
        opt=lambda: SGD(lr=0.1, momentum=0.9, nesterov=True), batch_size=7, alpha=0.3
    ),
    "adamw, unshuffled": dict(opt=lambda: AdamW(lr=0.01), batch_size=100, shuffle=False),
}


@pytest.mark.parametrize("case", CASES)
def test_two_processes_train_the_same_network_as_one(digits, case):
    """In float64, so that rounding (the gradient summed in two parts) stays far below the tolerance."""
    X, y = digits
    spec = dict(CASES[case])
    make_opt = spec.pop("opt")
    net1, trainer1, h1 = _fit(None, X, y, make_opt(), dtype=np.float64, **spec)
    net2, trainer2, h2 = _fit(2, X, y, make_opt(), dtype=np.float64, **spec)
    np.testing.assert_allclose(h2["loss"], h1["loss"], rtol=1e-10)
    np.testing.assert_allclose(net2.flat_params, net1.flat_params, rtol=1e-8, atol=1e-10)
    # the last step's gradient is the whole batch's, in the caller's gradient vector
    np.testing.assert_allclose(net2.flat_grads, net1.flat_grads, rtol=1e-8, atol=1e-10)
    assert trainer2.optimizer.t == trainer1.optimizer.t
    # afterwards everything is private again: the shared memory is gone with the workers
    assert _private(net2.flat_params) and _private(net2.flat_grads)
    assert all(
        _private(getattr(trainer2.optimizer, name))
        for name in trainer2.optimizer.state_names
        if hasattr(trainer2.optimizer, name)
    )
    assert all(_private(p) for p in net2.parameters().values())


def test_optimizer_state_survives_the_session(digits):
    """A second fit (in one process) continues from the moments the parallel fit left."""
    X, y = digits
    net1, trainer1, _ = _fit(None, X, y, Adam(lr=0.01), batch_size=50, dtype=np.float64)
    net2, trainer2, _ = _fit(2, X, y, Adam(lr=0.01), batch_size=50, dtype=np.float64)
    np.testing.assert_allclose(trainer2.optimizer._m, trainer1.optimizer._m, rtol=1e-8, atol=1e-12)
    trainer1.fit(X, y, 1)
    trainer2.n_jobs = 1
    trainer2.fit(X, y, 1)
    np.testing.assert_allclose(net2.flat_params, net1.flat_params, rtol=1e-8, atol=1e-10)


def test_float32_stays_within_rounding_of_one_process(digits):
    X, y = digits
    net1, _, h1 = _fit(None, X, y, Adam(lr=0.01), batch_size=64)
    net2, _, h2 = _fit(2, X, y, Adam(lr=0.01), batch_size=64)
    np.testing.assert_allclose(h2["loss"], h1["loss"], rtol=1e-4)
    np.testing.assert_allclose(net2.flat_params, net1.flat_params, rtol=1e-3, atol=1e-4)


def test_sample_weights_and_regression(digits):
    X, y = digits
    w = np.random.default_rng(0).uniform(0, 2, len(X)).astype(np.float32)
    w[:40] = 0  # a whole share of zero weight in the first batch
    results = []
    for n_jobs in (None, 2):
        net = build_mlp([64, 16, 3], "tanh", loss="squared_error", seed=0)
        Y = np.stack([y, y**2 / 10, -y], axis=1).astype(np.float32)
        trainer = Trainer(net, Adam(lr=0.01), batch_size=80, shuffle=False, seed=0, n_jobs=n_jobs)
        history = trainer.fit(X, Y, 3, sample_weight=w)
        results.append((history["loss"], net.flat_params.copy()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-4)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-3, atol=1e-5)


def test_loss_and_grad_shares_add_up_to_the_batch(digits):
    X, y = digits
    net = build_mlp([64, 12, 10], "relu", seed=0, dtype=np.float64).train()
    w = np.random.default_rng(1).uniform(0.1, 1, len(X))
    full = net.loss_and_grad(X, y, w, alpha=0.5, n_samples=1000)
    g_full = net.flat_grads.copy()
    a, b = slice(0, 123), slice(123, None)
    f = w[a].sum() / w.sum()
    part = net.loss_and_grad(X[a], y[a], w[a], alpha=0.5, n_samples=1000, share=f)
    g_a = net.flat_grads.copy()
    part += net.loss_and_grad(X[b], y[b], w[b], alpha=0.5, n_samples=1000, share=1 - f)
    assert part == pytest.approx(full, rel=1e-12)
    np.testing.assert_allclose(g_a + net.flat_grads, g_full, rtol=1e-10, atol=1e-14)


def test_dropout_and_augmentation_are_reproducible(digits):
    X, y = digits
    params = []
    for _ in range(2):
        net, _, history = _fit(
            2,
            X,
            y,
            Adam(lr=0.01),
            batch_size=64,
            dropout=0.3,
            augment=lambda Xb, rng: Xb + rng.normal(0, 0.01, Xb.shape).astype(Xb.dtype),
        )
        params.append(net.flat_params.copy())
        assert np.all(np.isfinite(history["loss"])) and history["loss"][-1] < history["loss"][0]
    np.testing.assert_array_equal(params[0], params[1])


def test_estimators_with_n_jobs_match_one_process(digits):
    X, y = digits
    for make in (
        lambda n_jobs: MLPClassifier((20,), max_iter=4, batch_size=50, random_state=0, n_jobs=n_jobs),
        lambda n_jobs: MLPClassifier(
            (20,),
            solver="sgd",
            max_iter=4,
            random_state=0,
            n_jobs=n_jobs,
            class_weight="balanced",
            alpha=0.01,
        ),
        lambda n_jobs: MLPRegressor(
            hidden_layer_sizes=(20,), max_iter=4, random_state=0, n_jobs=n_jobs, early_stopping=True
        ),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning after 4 epochs
            one, two = make(None).fit(X, y), make(-1).fit(X, y)
        np.testing.assert_allclose(two.loss_curve_, one.loss_curve_, rtol=1e-4)
        for c1, c2 in zip(one.coefs_, two.coefs_, strict=True):
            np.testing.assert_allclose(c2, c1, rtol=1e-3, atol=1e-5)


def test_batch_norm_trains_in_one_process_with_a_warning(digits):
    X, y = digits
    fits = []
    for n_jobs in (2, None):
        clf = MLPClassifier((16,), max_iter=2, batch_norm=True, random_state=0, n_jobs=n_jobs)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fits.append(clf.fit(X, y))
        messages = [str(w.message) for w in caught if w.category is UserWarning]
        if n_jobs == 2:
            assert any(
                "n_jobs=2: batch normalisation" in m and "training in one process" in m for m in messages
            )
        else:
            assert messages == []
    np.testing.assert_array_equal(fits[0].coefs_[0], fits[1].coefs_[0])


def test_bad_n_jobs():
    with pytest.raises(ValueError, match="n_jobs must be a non-zero integer or None; got 0"):
        Trainer(build_mlp([2, 2]), SGD(), n_jobs=0)
    with pytest.raises(
        ValueError, match="'n_jobs' parameter of MLPClassifier must be None, an int in the range"
    ):
        MLPClassifier(n_jobs=0).fit([[0.0], [1.0]], [0, 1])
    assert parallel.effective_n_jobs(-1) == parallel.available_cpus()
    assert parallel.effective_n_jobs(None) == 1


def test_an_error_in_a_worker_is_raised_in_the_caller(digits):
    X, y = digits
    y = y.copy()
    y[-1] = 10  # out of range for 10 classes, in the worker's share of the only (full) batch
    net = build_mlp([64, 8, 10], "relu", seed=0)
    before = net.flat_params.copy()
    with pytest.raises(ValueError, match=r"Class labels must be in \[0, 10\)") as info:
        Trainer(net, SGD(lr=0.1), n_jobs=2).fit(X, y, 1)
    assert "data-parallel worker 1" in str(info.value.__cause__)
    np.testing.assert_array_equal(net.flat_params, before)  # no step was taken
    assert _private(net.flat_params)


def test_divergence_restores_the_last_finite_weights(digits):
    X, y = digits
    net = build_mlp([64, 16, 10], "relu", seed=0)
    with pytest.raises(TrainingDivergedError):
        Trainer(net, SGD(lr=1e6), batch_size=100, n_jobs=2).fit(X * 1e3, y, 3)
    assert np.all(np.isfinite(net.flat_params)) and _private(net.flat_params)


@pytest.mark.parametrize("rows", ["first half", "second half"], ids=["in-the-caller", "in-the-worker"])
def test_an_overflow_in_either_process_is_a_divergence_not_a_warning(digits, rows):
    # warnings are errors in this suite and forked workers inherit that: an overflow to inf in a matrix product
    # must reach the caller as TrainingDivergedError, not as a RuntimeWarning raised inside a process
    X, y = digits
    X, half = X.copy(), len(X) // 2
    X[slice(0, half) if rows == "first half" else slice(half, None)] *= np.float32(3e37)  # 64 x 3e37 > max
    net = build_mlp([64, 16, 10], "relu", seed=0)
    with pytest.raises(TrainingDivergedError, match="loss became (inf|nan).*standardize"):
        Trainer(net, SGD(lr=0.1), batch_size=None, shuffle=False, n_jobs=2).fit(X, y, 3)
    assert np.all(np.isfinite(net.flat_params)) and _private(net.flat_params)


def test_keyboard_interrupt_ends_the_workers(digits):
    X, y = digits

    class Interrupt(Callback):
        def on_batch_end(self, trainer, batch, logs):
            if trainer.epoch == 1 and batch == 2:
                raise KeyboardInterrupt

    net = build_mlp([64, 16, 10], "relu", seed=0)
    history = Trainer(net, Adam(lr=0.01), batch_size=50, n_jobs=2, callbacks=[Interrupt()]).fit(X, y, 5)
    assert history.interrupted and history.epochs == 1
    assert _private(net.flat_params) and np.mean(net.predict(X) == y) > 0.5


def test_a_dead_worker_is_an_error_not_a_hang(digits):
    X, y = digits
    net = build_mlp([64, 8, 10], "relu", seed=0)
    opt = SGD(lr=0.1)
    session = parallel.DataParallel(net, opt, lambda rows, rng: (X[rows], y[rows], None), 2, n_rows=len(X))
    try:
        assert np.isfinite(session.step(slice(0, 100)))
        pid = session.worker_pids[0]
        os.kill(pid, signal.SIGKILL)
        session._workers.procs[0].join()
        start = time.perf_counter()
        # the message names the worker, its process and how it ended (issue 20, item 13)
        with pytest.raises(RuntimeError, match=rf"worker 1 \(process {pid}\) was killed by SIGKILL"):
            session.step(slice(0, 100))
        assert time.perf_counter() - start < 10
        with pytest.raises(RuntimeError, match="closed or was interrupted"):
            session.step(slice(0, 100))
    finally:
        session.close()
    assert _private(net.flat_params) and np.all(np.isfinite(net.flat_params))


def test_shares_cover_the_range_in_aligned_pieces():
    for n in (0, 1, 3, 16, 17, 235_146):
        for parts in (1, 2, 3):
            shares = parallel._shares(n, parts, align=16)
            assert shares[0][0] == 0 and shares[-1][1] == n
            assert all(a[1] == b[0] for a, b in zip(shares, shares[1:], strict=False))
            assert all(lo % 16 == 0 for lo, _ in shares)


def _fit_in_pool_worker(_):
    X, y = load_digits(return_X_y=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Trainer(build_mlp([64, 8, 10], seed=0), SGD(lr=0.1), n_jobs=2).fit(X[:100] / 16, y[:100], 1)
    return [str(w.message) for w in caught]


def test_a_pool_worker_trains_in_one_process_with_a_warning():
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(1) as pool:
        messages = pool.map(_fit_in_pool_worker, [0])[0]
    assert any("daemon" in m and "training in one process" in m for m in messages)


CTRL_C_SCRIPT = """
import sys, numpy as np
from glassnet.network import build_mlp
from glassnet.optim import Adam
from glassnet.callbacks import Callback
from glassnet.training import Trainer
rng = np.random.default_rng(0)
X, y = rng.random((4000, 64), dtype=np.float32), rng.integers(0, 10, 4000)
net = build_mlp([64, 256, 10], seed=0)

class Announce(Callback):  # the signal is sent once an epoch is done, however slow the machine
    def on_epoch_end(self, trainer, epoch, logs):
        if epoch == 0:
            print("training", flush=True)

history = Trainer(net, Adam(), batch_size=64, n_jobs=2, callbacks=[Announce()]).fit(X, y, 100000)
print("interrupted" if history.interrupted else "finished", history.epochs > 0, np.isfinite(net.flat_params).all())
"""


def test_a_real_ctrl_c_stops_every_process_cleanly(tmp_path):
    """SIGINT to the whole process group, as a terminal sends it: the workers ignore it, the caller stops."""
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-c", CTRL_C_SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        assert proc.stdout.readline().strip() == "training"
        time.sleep(0.2)  # into a later epoch
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, err
    assert out.split() == ["interrupted", "True", "True"]
    assert "Traceback" not in err


def test_closed_sessions_leave_no_zombies(digits):
    """Finished workers are reaped soon after the session closes, not at the next fit (issue 20, item 11)."""
    X, y = digits
    net = build_mlp([64, 8, 10], "relu", seed=0)
    with parallel.DataParallel(
        net, SGD(lr=0.1), lambda rows, rng: (X[rows], y[rows], None), 2, n_rows=len(X)
    ) as s:
        s.step(slice(0, 100))
        pids = s.worker_pids
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline and any(_is_zombie_or_running(pid) for pid in pids):
        time.sleep(0.05)
    assert not any(_is_zombie_or_running(pid) for pid in pids)


def _is_zombie_or_running(pid: int) -> bool:
    """Whether ``pid`` still has an entry in the process table (running, or a zombie nobody reaped)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().split(b")")[-1].split()[0] in (b"Z", b"R", b"S", b"D", b"T", b"t")
    except OSError:
        return False
