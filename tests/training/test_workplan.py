"""``n_jobs=None``: shards chosen for the work, processes for the idle cores, and the model independent of the
processes (glassnet.workplan, glassnet.parallel's shards)."""

from __future__ import annotations

import contextlib
import threading
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits

from glassnet import MLPClassifier, parallel, threads, workplan
from glassnet.callbacks import Callback, GradientClipping
from glassnet.layers import BatchNorm
from glassnet.network import build_mlp
from glassnet.optim import SGD, Adam
from glassnet.training import Trainer

no_fork = pytest.mark.skipif(
    parallel.unsupported_reason(build_mlp([2, 2]), SGD()) is not None, reason="no fork"
)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:600] / 16.0).astype(np.float32), y[:600]


@pytest.fixture
def two_cores(monkeypatch):
    """A 2-core machine, whatever this one has; BLAS not limited by the caller."""
    monkeypatch.setattr(parallel, "available_cpus", lambda: 2)
    monkeypatch.setattr(workplan, "_blas_limited_to_one", lambda: False)


class Plan(Callback):
    """Records the fit's shards, processes and worker count at its first epoch."""

    def on_epoch_begin(self, trainer, epoch):
        if epoch == 0:
            dp = trainer.parallel
            self.seen = (trainer.shards, trainer.processes, 0 if dp is None else len(dp.worker_pids))


def test_shards_follow_the_work_not_the_load(two_cores):
    lab = build_mlp([64, 80, 70, 10], "logistic", seed=0)
    small = build_mlp([64, 100, 10], "relu", seed=0)
    wide = build_mlp([784, 256, 128, 10], "relu", seed=0)
    tiny = build_mlp([4, 3, 2], "relu", seed=0)
    assert workplan.step_flops(lab, 1437) == 6 * 1437 * (64 * 80 + 80 * 70 + 70 * 10)
    assert workplan.choose_shards(lab, SGD(), 1437, steps=500) == 2  # the lab: 98 MFLOP a step, 500 epochs
    assert workplan.choose_shards(wide, Adam(), 128, steps=469) == 2
    assert workplan.choose_shards(small, Adam(), 200, steps=800) == 1  # 9 MFLOP steps: one process is faster
    assert workplan.choose_shards(lab, SGD(), 1437, steps=10) == 1  # too short to pay for the workers
    assert workplan.choose_shards(wide, Adam(), 20, steps=10**5) == 1  # too few rows for two shards of 16
    assert workplan.choose_shards(tiny, Adam(), 64, steps=10**5) == 1  # 0.01 MFLOP steps
    big = build_mlp([784, 1024, 1024, 10], "relu", seed=0)
    assert workplan.choose_shards(big, SGD(), 32, steps=1000) == 2  # largest product 67 MFLOP: processes
    assert workplan.choose_shards(big, SGD(), 64, steps=1000) == 1  # 134 MFLOP: BLAS threads share it better
    assert workplan.choose_shards(wide, Adam(), 128, 469, callbacks=[GradientClipping(1.0)]) == 1
    norm = build_mlp([784, 256, 10], "relu", seed=0, batch_norm=True)
    assert any(isinstance(layer, BatchNorm) for layer in norm.layers)
    assert workplan.choose_shards(norm, Adam(), 128, steps=469) == 1


def test_processes_follow_the_idle_cores(monkeypatch):
    for idle, expected in ((2.0, 2), (1.8, 2), (1.7, 1), (0.0, 1)):
        monkeypatch.setattr(workplan, "idle_cores", lambda idle=idle: idle)
        assert workplan.choose_processes(2) == expected
    monkeypatch.setattr(workplan, "idle_cores", lambda: 2.0)
    assert workplan.choose_processes(1) == 1


def test_one_shard_where_processes_are_not_welcome(two_cores, monkeypatch):
    lab = build_mlp([64, 80, 70, 10], "logistic", seed=0)
    monkeypatch.setattr(parallel, "fork_unsupported_reason", lambda: None)
    assert workplan.choose_shards(lab, SGD(), 1437, 500) == 2
    out = []
    worker = threading.Thread(target=lambda: out.append(workplan.choose_shards(lab, SGD(), 1437, 500)))
    worker.start()
    worker.join()
    assert out == [1]  # outside the main thread: the caller shares the cores out
    monkeypatch.setattr(workplan, "_blas_limited_to_one", lambda: True)
    assert workplan.choose_shards(lab, SGD(), 1437, 500) == 1  # OMP_NUM_THREADS=1: joblib, Dask workers
    monkeypatch.setattr(workplan, "_blas_limited_to_one", lambda: False)
    monkeypatch.setattr(parallel, "fork_unsupported_reason", lambda: "a daemon")
    assert workplan.choose_shards(lab, SGD(), 1437, 500) == 1


def test_blas_limited_to_one_thread_means_one_process(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert workplan._blas_limited_to_one()
    monkeypatch.delenv("OMP_NUM_THREADS")
    for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        assert workplan._blas_limited_to_one()
    if threads.callers_blas_threads() == 1:
        pytest.skip("BLAS runs on one thread here")
    assert not workplan._blas_limited_to_one()
    with threads.blas_threads(1):  # glassnet's own limit for small products is not the caller's choice
        assert not workplan._blas_limited_to_one()
        assert threads.callers_blas_threads() > 1


def test_idle_cores_sees_another_process_working(monkeypatch):
    if workplan.busy_cpu_seconds() is None:
        pytest.skip("no /proc/stat")
    monkeypatch.setattr(workplan, "_idle_cache", {})
    idle = workplan.idle_cores()
    assert 0.0 <= idle <= parallel.available_cpus()
    # another process spinning on every core leaves (about) none idle
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    stop, running = ctx.Event(), ctx.Queue()
    spinners = [
        ctx.Process(target=_spin, args=(stop, running), daemon=True) for _ in range(parallel.available_cpus())
    ]
    for p in spinners:
        p.start()
    try:
        for _ in spinners:  # a spawned child imports this module first: seconds on a loaded machine
            running.get(timeout=120)
        monkeypatch.setattr(workplan, "_idle_cache", {})
        monkeypatch.setattr(workplan, "IDLE_WINDOW", 0.3)
        busy = workplan.idle_cores()
    finally:
        stop.set()
        for p in spinners:
            p.join(5)
    assert busy < 0.75


def test_one_stray_tick_does_not_take_the_second_process(monkeypatch):
    """/proc/stat counts 10 ms ticks: one tick of other work in the 20 ms window is half a core, so the window
    is watched as long again (a quarter of a core), and two idle cores still get two processes; other work
    that goes on is seen through both windows."""
    clock = {"now": 0.0}
    monkeypatch.setattr(workplan.time, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(workplan.time, "sleep", lambda s: clock.update(now=clock["now"] + s))
    monkeypatch.setattr(workplan, "_cpu_seconds_of", lambda pids: 0.0)
    monkeypatch.setattr(parallel, "available_cpus", lambda: 2)
    monkeypatch.setattr(parallel, "affinity_cpus", lambda: 2)
    # the machine's busy CPU seconds at the window's start, after 20 ms and after 40 ms
    cases = {
        "idle": ([0.0, 0.0], 2.0),
        "one tick": ([0.0, 0.01, 0.01], 1.75),
        "a job": ([0.0, 0.02, 0.04], 1.0),
    }
    for name, (readings, expected) in cases.items():
        clock["now"] = 0.0
        monkeypatch.setattr(workplan, "busy_cpu_seconds", iter(readings).__next__)
        monkeypatch.setattr(workplan, "_idle_cache", {})
        assert workplan.idle_cores() == pytest.approx(expected), name
    assert workplan.processes_for(1.75, 2) == 2 and workplan.processes_for(1.0, 2) == 1


def _spin(stop, running):  # pragma: no cover - runs in a child process
    running.put(True)
    while not stop.is_set():
        pass


def _fit(X, y, n_jobs, processes=None, monkeypatch=None, **kwargs):
    if processes is not None:
        monkeypatch.setattr(workplan, "choose_processes", lambda shards: min(shards, processes))
    net = build_mlp([64, 64, 48, 10], "relu", seed=0, dropout=kwargs.pop("dropout", 0.25))
    plan, w = Plan(), kwargs.pop("sample_weight", None)
    Trainer(net, Adam(lr=0.01), seed=3, n_jobs=n_jobs, callbacks=[plan], **kwargs).fit(
        X, y, 3, sample_weight=w
    )
    return net.flat_params.copy(), plan.seen


@no_fork
@pytest.mark.parametrize("batch", [None, 200, 77])
def test_the_model_does_not_depend_on_the_processes(digits, two_cores, monkeypatch, batch):
    """The same shards in one process (a busy machine) and in two give the same weights, bit for bit, with
    dropout, augmentation and sample weights."""
    X, y = digits
    monkeypatch.setattr(workplan, "MIN_FIT_SECONDS", 0.0)  # shards even for this short fit of small steps
    monkeypatch.setattr(workplan, "SHARD_FLOPS", 1.0)
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(X))

    def noise(Xb, rng):
        return Xb + rng.normal(0, 0.05, Xb.shape).astype(Xb.dtype)

    runs = {
        p: _fit(X, y, None, p, monkeypatch, batch_size=batch, augment=noise, sample_weight=w) for p in (1, 2)
    }
    assert runs[1][1] == (2, 1, 0) and runs[2][1] == (2, 2, 1)  # (shards, processes, workers)
    np.testing.assert_array_equal(runs[1][0], runs[2][0])


@no_fork
def test_three_shards_in_one_two_or_three_processes(digits, monkeypatch):
    X, y = digits
    monkeypatch.setattr(parallel, "available_cpus", lambda: 3)
    monkeypatch.setattr(workplan, "_blas_limited_to_one", lambda: False)
    monkeypatch.setattr(workplan, "MIN_FIT_SECONDS", 0.0)
    monkeypatch.setattr(workplan, "SHARD_FLOPS", 1.0)
    runs = [_fit(X, y, None, p, monkeypatch, batch_size=100) for p in (1, 2, 3)]
    assert [seen for _, seen in runs] == [(3, 1, 0), (3, 2, 1), (3, 3, 2)]
    params = [w for w, _ in runs]
    np.testing.assert_array_equal(params[0], params[1])
    np.testing.assert_array_equal(params[0], params[2])


@no_fork
def test_explicit_n_jobs_is_kept(digits, two_cores, monkeypatch):
    X, y = digits
    monkeypatch.setattr(workplan, "choose_processes", lambda shards: pytest.fail("n_jobs was given"))
    assert _fit(X, y, 1)[1] == (1, 1, 0)
    assert _fit(X, y, 2)[1] == (2, 2, 1)


@no_fork
def test_explicit_n_jobs_runs_in_no_more_processes_than_cores(digits, two_cores, monkeypatch):
    """n_jobs=5 on 2 cores: 5 shards (the model of n_jobs=5) in 2 processes, not 5 (issue 20, item 11)."""
    X, y = digits
    monkeypatch.setattr(parallel, "available_cpus", lambda: 2)
    params, seen = _fit(X, y, 5)
    assert seen == (5, 2, 1)
    monkeypatch.setattr(parallel, "available_cpus", lambda: 5)
    params_5, seen_5 = _fit(X, y, 5)
    assert seen_5 == (5, 5, 4)
    np.testing.assert_array_equal(params, params_5)


def test_absurd_n_jobs_is_refused_before_anything_forks():
    with pytest.raises(ValueError, match="n_jobs=100000 is more than the 64 shards"):
        Trainer(build_mlp([4, 3, 2], seed=0), SGD(), n_jobs=100_000)


def test_short_fits_train_on_the_plain_path(digits, two_cores):
    X, y = digits
    params, seen = _fit(X, y, None, batch_size=32)  # 3 epochs of 19 small steps: about 10 ms of work
    assert seen == (1, 1, 0)
    np.testing.assert_array_equal(params, _fit(X, y, 1, batch_size=32)[0])


@no_fork
def test_the_estimator_default_chooses_processes_for_the_lab(two_cores, monkeypatch):
    """``MLPClassifier()`` on the lab's full-batch network shards its steps; on a busy machine it trains the
    same model in one process."""
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    models = {}
    for idle in (2.0, 0.0):
        monkeypatch.setattr(workplan, "idle_cores", lambda idle=idle: idle)
        plan = Plan()
        clf = MLPClassifier((80, 70), activation="logistic", solver="sgd", batch_size=len(X), max_iter=100,
                            learning_rate_init=0.5, momentum=0.0, random_state=0)  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning after 100 epochs
            clf.fit(X, y, callbacks=[plan])
        models[idle] = (clf, plan.seen)
    assert models[2.0][1] == (2, 2, 1) and models[0.0][1] == (2, 1, 0)
    for a, b in zip(models[2.0][0].coefs_, models[0.0][0].coefs_, strict=True):
        np.testing.assert_array_equal(a, b)


class _Recorder(Callback):
    def __init__(self):
        self.processes = []

    def on_epoch_begin(self, trainer, epoch):
        self.processes.append(trainer.processes)


@no_fork
def test_the_processes_follow_the_machine_during_a_fit_and_the_model_does_not_change(
    digits, two_cores, monkeypatch
):
    """Another job takes a core after the first epochs, then leaves: the fit drops to one process and comes
    back to two, and trains the weights of a fit that kept two processes throughout, bit for bit."""
    X, y = digits
    monkeypatch.setattr(workplan, "MIN_FIT_SECONDS", 0.0)
    monkeypatch.setattr(workplan, "SHARD_FLOPS", 1.0)
    monkeypatch.setattr(workplan, "REPLAN_SECONDS", 0.0)
    monkeypatch.setattr(workplan, "choose_processes", lambda shards: 2)
    load = iter([0.0, 1.0, 1.0, 0.0] + [0.0] * 10)  # cores other work used, one look at each epoch's start
    monkeypatch.setattr(workplan.Processes, "_others", lambda self: next(load))

    def fit(n_jobs):
        net = build_mlp([64, 64, 48, 10], "relu", seed=0, dropout=0.25)
        rec = _Recorder()
        trainer = Trainer(net, Adam(lr=0.01), batch_size=100, seed=3, n_jobs=n_jobs, callbacks=[rec])
        trainer.fit(X, y, 6)
        return net.flat_params.copy(), rec.processes

    followed, processes = fit(None)
    assert processes == [2, 1, 1, 2, 2, 2]
    fixed, _ = fit(2)
    np.testing.assert_array_equal(followed, fixed)


@no_fork
def test_a_fit_does_not_count_its_own_workers_as_other_work(digits, monkeypatch):
    if parallel.available_cpus() < 2 or workplan.busy_cpu_seconds() is None:
        pytest.skip("needs 2 cores and /proc/stat")
    import time

    time.sleep(0.3)  # the workers of earlier tests' fits take a moment to exit
    monkeypatch.setattr(workplan, "_idle_cache", {})
    if workplan.idle_cores() < 1.8:
        pytest.skip("the machine is busy")
    X, y = digits
    seen = []

    class Look(Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            if trainer.parallel is not None and epoch == 3:
                seen.append(trainer._sessions_probe._others())

    monkeypatch.setattr(workplan, "REPLAN_SECONDS", 1e9)  # measure, but do not reopen
    original = workplan.Processes.__enter__

    def enter(self):
        result = original(self)
        if not hasattr(self, "_window"):  # n_jobs=2 does not follow the cores: open the window to read it
            self._look()
        trainer_ref[0]._sessions_probe = self
        return result

    trainer_ref = []
    monkeypatch.setattr(workplan.Processes, "__enter__", enter)
    net = build_mlp([64, 256, 256, 10], "relu", seed=0)
    trainer = Trainer(net, Adam(), batch_size=256, n_jobs=2, callbacks=[Look()])
    trainer_ref.append(trainer)
    trainer.fit(np.tile(X, (4, 1)), np.tile(y, 4), 4)
    monkeypatch.setattr(workplan, "_idle_cache", {})
    if workplan.idle_cores() < 1.8:  # other work came along during the fit (another test's processes)
        pytest.skip("the machine got busy")
    assert seen and seen[0] < 0.6  # the worker kept a core busy; counted as other work it would be ~1


def test_other_work_is_the_machines_busy_time_less_this_process_and_its_workers(monkeypatch):
    """The arithmetic of Processes._others, with the clocks replaced: 1.5 cores busy in all over one second,
    of which this process and its workers used 1.0, is 0.5 cores of other work."""
    clock = {"busy": 100.0, "own": 10.0, "now": 50.0}
    monkeypatch.setattr(workplan, "busy_cpu_seconds", lambda: clock["busy"])
    monkeypatch.setattr(workplan, "_cpu_seconds_of", lambda pids: clock["own"])
    monkeypatch.setattr(workplan.time, "monotonic", lambda: clock["now"])
    procs = workplan.Processes(lambda n: contextlib.nullcontext(), shards=2, processes=2, follow=True)
    with procs:
        clock.update(busy=101.5, own=11.0, now=51.0)
        assert procs._others() == pytest.approx(0.5)


def test_a_containers_cpu_quota_caps_the_cores(tmp_path, monkeypatch):
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "cpu.max").write_text("150000 100000\n")
    assert parallel.cgroup_cpus(str(v2)) == 1.5
    (v2 / "cpu.max").write_text("max 100000\n")
    assert parallel.cgroup_cpus(str(v2)) is None
    v1 = tmp_path / "v1"
    (v1 / "cpu").mkdir(parents=True)
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("200000\n")
    (v1 / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert parallel.cgroup_cpus(str(v1)) == 2.0
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert parallel.cgroup_cpus(str(v1)) is None
    assert parallel.cgroup_cpus(str(tmp_path / "absent")) is None
    monkeypatch.setattr(parallel, "affinity_cpus", lambda: 64)
    monkeypatch.setattr(parallel, "cgroup_cpus", lambda: 1.5)
    assert parallel.available_cpus() == 2  # a container of 1.5 CPUs on a 64-core host: 2 processes at most
    assert workplan.idle_given(others=10.0) == 2.0  # other containers busy on the host: our quota still holds
    assert workplan.idle_given(others=63.5) == 0.5
    monkeypatch.setattr(parallel, "cgroup_cpus", lambda: None)
    assert parallel.available_cpus() == 64


def test_at_most_eight_shards(monkeypatch):
    monkeypatch.setattr(parallel, "available_cpus", lambda: 64)
    monkeypatch.setattr(workplan, "_may_fork", lambda: True)
    net = build_mlp([64, 400, 10], "relu", seed=0)
    # steps of 1024 rows and 182 MFLOP: 9 shards by the work, 64 by the rows and by the cores
    assert workplan.choose_shards(net, Adam(), 1024, steps=1000) == workplan.MAX_SHARDS == 8
