"""Scaling out on Dask: searches through joblib's dask backend, streaming through dask-ml's Incremental,
the example of docs/scaling-out.md, and a cluster that goes away mid-search.

One local cluster of two worker processes (one thread each) serves the module; starting it is most of the
module's time.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

pytest.importorskip("sklearn")
distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")

from sklearn.model_selection import GridSearchCV  # noqa: E402

import glassnet  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

PAGE = Path(__file__).resolve().parents[2] / "docs" / "scaling-out.md"  # the example README links to


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X, y


def _grid():
    estimator = glassnet.MLPClassifier(solver="adam", max_iter=8, random_state=0)
    return GridSearchCV(
        estimator, {"hidden_layer_sizes": [(4,), (8,)], "alpha": [1e-4, 1e-1]}, cv=2, n_jobs=-1
    )


# --- (a) searches through joblib's dask backend -----------------------------------------------------------


def test_grid_search_runs_on_the_workers_and_matches_a_local_search(client, data):
    X, y = data
    search = _grid()
    with distributed.get_task_stream(client) as tasks, joblib.parallel_config(backend="dask"):
        search.fit(X, y)
    worker_tasks = [t for t in tasks.data if "fit_and_score" in t["key"]]
    assert worker_tasks and {t["worker"] for t in worker_tasks} <= set(client.scheduler_info()["workers"])
    local = _grid().set_params(n_jobs=1).fit(X, y)
    assert_allclose(search.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"])
    assert search.best_params_ == local.best_params_
    assert_array_equal(search.predict(X), local.predict(X))


def _inside_a_worker() -> dict:
    """Runs in a Dask worker: is it a daemon, how many BLAS threads, and what does n_jobs=2 do there."""
    import multiprocessing
    import warnings

    from threadpoolctl import threadpool_info

    import glassnet

    X = np.random.default_rng(0).normal(size=(64, 3))
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        glassnet.MLPClassifier((4,), solver="adam", max_iter=2, n_jobs=2, random_state=0).fit(X, y)
    return {
        "daemon": multiprocessing.current_process().daemon,
        "blas_threads": sorted({pool["num_threads"] for pool in threadpool_info()}),
        "messages": [str(w.message) for w in caught],
        "children": len(multiprocessing.active_children()),
    }


def test_workers_neither_fork_nor_oversubscribe_blas(client):
    reports = client.run(_inside_a_worker)
    assert len(reports) == 2
    for report in reports.values():
        assert report["daemon"]  # a nanny's worker process: glassnet may not fork from it...
        assert any("n_jobs=2" in m and "training in one process" in m for m in report["messages"])
        assert report["children"] == 0  # ...and did not
        assert report["blas_threads"] == [1]  # one BLAS thread per worker thread (the nanny's limits)


def test_a_pickled_estimator_keeps_training(data):
    """What joblib and Dask do to an estimator between two calls: pickle it. It must keep learning."""
    import pickle

    X, y = data
    shipped = glassnet.MLPClassifier((6,), solver="adam", random_state=0).partial_fit(X, y, classes=[0, 1])
    kept = pickle.loads(pickle.dumps(shipped))
    shipped = pickle.loads(pickle.dumps(shipped)).partial_fit(X, y)
    kept.partial_fit(X, y)
    assert_array_equal(shipped.predict_proba(X), kept.predict_proba(X))
    first = glassnet.MLPClassifier((6,), solver="adam", random_state=0).partial_fit(X, y, classes=[0, 1])
    assert not np.array_equal(shipped.predict_proba(X), first.predict_proba(X))


# --- (b) streaming through dask-ml's Incremental ----------------------------------------------------------


def test_incremental_streams_every_block_through_partial_fit(client):
    pytest.importorskip("dask.array")
    wrappers = pytest.importorskip("dask_ml.wrappers", reason="dask-ml does not import here")
    import dask.array as da

    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 4))
    y = (X[:, 0] - X[:, 2] > 0).astype(int)
    dX, dy = da.from_array(X, chunks=100), da.from_array(y, chunks=100)
    assert dX.numblocks == (4, 1)

    def make():
        return glassnet.MLPClassifier(
            (8,), solver="adam", batch_size=10, learning_rate_init=0.01, random_state=0
        )

    inc = wrappers.Incremental(make(), scoring="accuracy", shuffle_blocks=False)
    inc.fit(dX, dy, classes=[0, 1])
    local = make()
    for start in range(0, 400, 100):
        local.partial_fit(X[start : start + 100], y[start : start + 100], classes=[0, 1])
    assert inc.estimator_.t_ == local.t_ == 400  # every block, once
    assert_allclose(inc.estimator_.predict_proba(X), local.predict_proba(X), rtol=1e-12)
    assert inc.score(dX, dy) > 0.8  # it learned
    assert_array_equal(inc.predict(dX).compute(), local.predict(X))


# --- (c) the documented example ---------------------------------------------------------------------------


def _documented_example() -> str:
    match = re.search(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)
    assert match, "docs/scaling-out.md has no python example"
    return match.group(1)


_EXAMPLE_CLUSTER = "LocalCluster(n_workers=2, threads_per_worker=1)"


def test_documented_scaling_out_example_runs(client, capsys):
    """The example's code as written, on the module's cluster (the same settings) to save a second start-up."""
    code = _documented_example()
    assert _EXAMPLE_CLUSTER in code and 'parallel_config(backend="dask")' in code
    code = code.replace(_EXAMPLE_CLUSTER, "_module_cluster")
    namespace = {"__name__": "__main__", "_module_cluster": contextlib.nullcontext(client.cluster)}
    exec(compile(code, str(PAGE), "exec"), namespace)
    assert client.cluster.status.name == "running"  # the example's `with` closed its client only
    printed = capsys.readouterr().out
    assert printed.startswith("best {") and "hidden_layer_sizes" in printed


# --- bad input: the cluster goes away mid-search ----------------------------------------------------------

_started = threading.Event()


class _SlowToFit(glassnet.MLPClassifier):
    """Announces that a fit began, so the test can pull the cluster away from a search in progress."""

    def fit(self, X, y, **kwargs):
        _started.set()
        time.sleep(0.2)
        return super().fit(X, y, **kwargs)


def test_cluster_going_away_mid_search_is_an_error_and_leaves_no_result(data):
    X, y = data
    search = GridSearchCV(
        _SlowToFit(solver="adam", max_iter=5, random_state=0),
        {"hidden_layer_sizes": [(3,), (4,), (5,), (6,), (7,), (8,)]},
        cv=3,
        n_jobs=-1,
    )
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    )
    client = distributed.Client(cluster)
    outcome: dict = {}

    def run_search():
        try:
            with joblib.parallel_config(backend="dask"):
                search.fit(X, y)
            outcome["finished"] = True
        except BaseException as exc:  # noqa: BLE001 - what the caller sees is the point of the test
            outcome["error"] = exc

    _started.clear()
    runner = threading.Thread(target=run_search)
    try:
        runner.start()
        assert _started.wait(60), "no fit started on the cluster"
        cluster.close()  # the cluster goes away while fits are running
        runner.join(120)  # a hang guard, not a timing claim
        assert not runner.is_alive(), "the search hung after its cluster went away"
    finally:
        client.close()
        cluster.close()
    assert "error" in outcome, "the search finished although its cluster went away"
    error = outcome["error"]
    assert type(error).__module__.split(".")[0] in ("distributed", "asyncio", "concurrent", "tornado")
    assert not hasattr(search, "best_estimator_") and not hasattr(search, "cv_results_")
