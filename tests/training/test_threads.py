"""BLAS threads chosen for the work during a fit, and the caller's limits restored, however fits overlap."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from glassnet.network import build_mlp
from glassnet.optim import SGD
from glassnet.threads import blas_threads, choose_crew, choose_threads
from glassnet.training import Trainer

threadpoolctl = pytest.importorskip("threadpoolctl")
pytest.importorskip("scipy.linalg")  # load every BLAS library now: one loaded mid-fit keeps its own setting


def _blas_threads() -> int:
    return max(lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas")


class SeeThreads:
    def __init__(self):
        self.seen = []

    def on_epoch_end(self, trainer, epoch, logs):
        self.seen.append(_blas_threads())


def _data(n=120, d=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.integers(0, 3, n)


def test_small_steps_train_on_one_blas_thread_and_the_callers_setting_comes_back():
    X, y = _data()
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        before = _blas_threads()
        seen = SeeThreads()
        net = build_mlp([8, 16, 3], seed=0)
        Trainer(net, SGD(lr=0.1), batch_size=32, callbacks=[seen], seed=0).fit(X, y, epochs=2)
        assert seen.seen == [1, 1]
        assert _blas_threads() == before


def test_threads_asked_for_are_used():
    X, y = _data()
    seen = SeeThreads()
    net = build_mlp([8, 16, 3], seed=0)
    Trainer(net, SGD(lr=0.1), batch_size=32, callbacks=[seen], threads=2, seed=0).fit(X, y, epochs=1)
    assert seen.seen == [2]


def test_a_fit_that_leaves_blas_to_the_caller_holds_no_limit():
    """threads='caller': a small fit (which would run on one thread) keeps the caller's setting, so a fit held
    for long between steps (the playground's) does not limit every other fit of the process."""
    X, y = _data()
    seen = SeeThreads()
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        Trainer(build_mlp([8, 16, 3], seed=0), SGD(lr=0.1), batch_size=32, callbacks=[seen], threads="caller",
                seed=0).fit(X, y, epochs=1)  # fmt: skip
    assert seen.seen == [2]
    assert choose_threads(build_mlp([64, 100, 10], seed=0), rows=200, requested="caller") is None


def test_large_steps_are_shared_by_a_crew_of_as_many_threads_as_the_caller_allows():
    net = build_mlp([784, 1024, 1024, 10], seed=0)
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        assert (choose_threads(net, rows=256), choose_crew(net, rows=256)) == (1, 2)
        assert (choose_threads(net, rows=256, requested=3), choose_crew(net, rows=256, requested=3)) == (1, 3)
        assert choose_crew(net, rows=256, n_jobs=2) == 1  # processes share the rows instead
        assert (choose_threads(net, rows=256, requested="caller"), choose_crew(net, 256, 1, "caller")) == (
            None,
            1,
        )
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        assert (choose_threads(net, rows=256), choose_crew(net, rows=256)) == (None, 1)  # the caller's one
    small = build_mlp([64, 100, 10], seed=0)
    assert (choose_threads(small, rows=200), choose_crew(small, rows=200)) == (1, 1)
    assert (choose_threads(small, rows=200, requested=3), choose_crew(small, rows=200, requested=3)) == (3, 1)
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        choose_threads(net, rows=256, requested=0)


def test_overlapping_blocks_in_two_threads_restore_the_callers_limits_whatever_the_order():
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        before = _blas_threads()
        first_in, second_in, first_may_leave = threading.Event(), threading.Event(), threading.Event()

        def first():
            with blas_threads(1):
                first_in.set()
                first_may_leave.wait(10)

        def second():
            first_in.wait(10)
            with blas_threads(1):
                second_in.set()
            # the second block ends first; the first is still running: limits must stay at 1
            first_may_leave.set()

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for t in threads:
            t.start()
        second_in.wait(10)
        for t in threads:
            t.join(10)
        assert _blas_threads() == before


def test_a_stopped_data_parallel_worker_is_named_instead_of_waited_for_forever(monkeypatch):
    import os
    import signal
    import sys

    from glassnet.training import workers

    if not sys.platform.startswith("linux"):
        pytest.skip("data parallelism forks, on Linux only")
    monkeypatch.setattr(workers, "STOPPED_SECONDS", 1.0)
    X, y = _data(n=400)

    class StopTheWorker:
        def on_epoch_end(self, trainer, epoch, logs):
            if epoch == 0:
                os.kill(trainer.parallel.worker_pids[0], signal.SIGSTOP)

    net = build_mlp([8, 16, 3], seed=0)
    trainer = Trainer(net, SGD(lr=0.1), batch_size=64, n_jobs=2, callbacks=[StopTheWorker()], seed=0)
    with pytest.raises(RuntimeError, match=r"worker 1 \(process \d+\) is stopped"):
        trainer.fit(X, y, epochs=3)
    assert np.all(np.isfinite(net.flat_params))
