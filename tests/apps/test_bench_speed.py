"""The speed benchmark's peers and reports: JAX does the same training as glassnet, busy machines are named,
results go under bench-results/, and the estimator cases run (never timings)."""

from __future__ import annotations

import dataclasses
import io
import json
import sys

import numpy as np
import pytest

from glassnet import fast
from glassnet.bench import _frameworks as fw
from glassnet.bench import speed


@pytest.fixture
def tiny(monkeypatch):
    quick = dict(speed.SETTINGS["quick"], a_epochs=5, c_batches=2, repeats=1, e_rows=64, e_epochs=(1, 3, 2))
    monkeypatch.setitem(speed.SETTINGS, "quick", quick)
    return dict(quick, jobs=1)


def _digits():
    from glassnet.data import load_digits

    data = load_digits()
    return data.X_train, data.y_train


# JAX runs in a child process: once its backend has started in a process, every later os.fork() there (glassnet's
# data-parallel tests) warns that JAX is multithreaded, and the suite turns warnings into errors.
_JAX_CHECK = """
import json, sys
import numpy as np
from glassnet.bench import _frameworks as fw, speed
from glassnet.data import load_digits
from glassnet.layers import Dense

data = load_digits()
X, y = data.X_train, data.y_train
specs = [
    speed.SPEC_A,  # full batch, plain gradient descent, sigmoid
    fw.MLPSpec((64, 16, 10), "relu", "adam", lr=1e-2, batch_size=100, shuffle=False),  # a shorter last batch
]
for spec in specs:
    net = fw.glassnet_fit(spec, X, y, 2)
    ref = [(d.W.T, d.b) for d in net.layers if isinstance(d, Dense)]
    for fit in (fw.jax_fit, fw.jax_step_fit):
        params, _ = fit(spec, X, y, 2)
        for (W, b), (Wj, bj) in zip(ref, params, strict=True):
            np.testing.assert_allclose(np.asarray(Wj), W, rtol=1e-3, atol=2e-5)
            np.testing.assert_allclose(np.asarray(bj), b, rtol=1e-3, atol=2e-5)
assert fw.jax_predict(fw.jax_fit(specs[1], X, y, 1), X[:7]).shape == (7,)
speed.SETTINGS["quick"].update(a_epochs=5, repeats=1)
argv = ["--quick", "--only", "a", "--frameworks", "glassnet,jax", "--threads", "1", "--no-numpy-path"]
assert speed.main([*argv, "--json", sys.argv[1]]) == 0
"""


def test_jax_trains_exactly_what_glassnet_trains_and_shows_in_both_rows(tmp_path):
    pytest.importorskip("jax")
    import subprocess

    out = tmp_path / "s.json"
    proc = subprocess.run(
        [sys.executable, "-c", _JAX_CHECK, str(out)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out.read_text())
    assert set(results["a"]["ms_per_epoch"]) == {"glassnet", "jax", fw.JAX_STEP}
    assert any(t["target"] == "(a) epoch time glassnet/jax" for t in results["targets"])
    assert "jax, jit step" in proc.stdout


def test_speed_command_says_when_jax_is_absent(tiny, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)  # import jax raises ImportError
    out = tmp_path / "s.json"
    argv = ["--quick", "--only", "a", "--frameworks", "glassnet,jax", "--threads", "1"]
    assert speed.main([*argv, "--no-numpy-path", "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    assert list(results["a"]["ms_per_epoch"]) == ["glassnet"]
    assert any("jax skipped" in note and "pip install jax" in note for note in results["notes"])


def test_results_go_under_bench_results_not_into_the_current_folder(tiny, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["--quick", "--only", "a", "--frameworks", "glassnet", "--threads", "1"]
    assert speed.main([*argv, "--no-numpy-path"]) == 0
    written = list((tmp_path / "bench-results").glob("speed-*-1t.json"))
    assert len(written) == 1 and list(tmp_path.glob("*.json")) == []
    results = json.loads(written[0].read_text())
    assert results["machine"]["glassnet_fast"] == fast.describe()
    assert "bench-results" in capsys.readouterr().out


def test_the_numpy_path_row_shows_what_the_kernels_gain(tiny, tmp_path):
    if not fast.enabled():
        pytest.skip("numba is not installed or GLASSNET_FAST=0: no compiled kernels to compare")
    out = tmp_path / "s.json"
    argv = ["--quick", "--only", "a", "--frameworks", "glassnet", "--threads", "1"]
    assert speed.main([*argv, "--json", str(out)]) == 0
    rows = {"glassnet", fw.STEP_LOOP, fw.NUMPY_PATH}  # and the compiled epoch off, the per-step kernels on
    assert set(json.loads(out.read_text())["a"]["ms_per_epoch"]) == rows
    assert fast.enabled() and fast.epochs_enabled()  # switched back on after the rows


def _results(c_share=0.9, busy=False, other=0.0):
    load = {"other_cores": other, "loadavg": [2.0, 2.1], "spread": {"glassnet": 0.05}, "busy": busy,
            "why": "other processes used 1.30 cores" if busy else ""}  # fmt: skip
    return {
        "machine": {
            "threads": 1,
            "processor": "cpu",
            "numpy": "2",
            "blas": [],
            "torch": None,
            "sklearn": None,
            "env": {},
        },  # fmt: skip
        "jobs": 1,
        "notes": [],
        "a": {
            "task": "lab",
            "ms_per_epoch": {"glassnet": 1.0, "jax": 1.2, "sklearn": 2.0},
            "machine_load": load,
        },
        "c": {
            "task": "wide",
            "gemm_gflops": 100.0,
            "gflops": {"glassnet": 100.0 * c_share},
            "fraction_of_gemm": {"glassnet": c_share},
            "machine_load": load,
        },  # fmt: skip
    }


def test_a_busy_machine_is_named_next_to_the_figures_and_its_targets_are_not_judged():
    results = _results(busy=True, other=1.3)
    results["targets"] = speed.verdicts(results)
    out = io.StringIO()
    speed.print_report(results, out)
    text = out.getvalue()
    assert "MACHINE BUSY (other processes used 1.30 cores" in text
    assert all(t["met"] is None and t["busy"] for t in results["targets"])
    assert "not measurable (busy machine)" in text


def test_an_impossible_share_of_the_matmul_rate_is_not_printed_as_a_percentage():
    results = _results(c_share=2.12)
    results["targets"] = speed.verdicts(results)
    out = io.StringIO()
    speed.print_report(results, out)
    text = out.getvalue()
    assert "212 %" not in text and "not measurable" in text
    (c,) = [t for t in results["targets"] if t["target"].startswith("(c)")]
    assert c["met"] is None


def test_an_idle_machine_gets_verdicts_against_jax_on_one_thread():
    results = _results()
    rows = {t["target"]: t for t in speed.verdicts(results)}
    assert rows["(a) epoch time glassnet/jax"]["met"] is True  # 1.0 / 1.2 <= 1.0 on one thread
    assert rows["(a) epoch time glassnet/sklearn"]["met"] is False  # 0.5 > 1/3
    assert rows["(c) glassnet GFLOP/s / NumPy matmul GFLOP/s"]["met"] is True  # 0.9 >= 0.85


def test_machine_load_calls_spread_repeats_noisy_and_only_other_processes_busy():
    with speed.MachineLoad() as load:
        pass
    report = load.report({"x": [1.0, 1.1], "y": [1.0, 2.0]})
    assert report["noisy"] and report["spread"]["x"] == pytest.approx(0.1)
    assert report["busy"] == (
        report["other_cores"] is not None and report["other_cores"] > speed.BUSY_OTHER_CORES
    )  # the spread is no evidence: the benchmark's own work spreads repeats (tests/apps/test_bench_load.py)


def test_alternate_reports_cpu_per_wall_second():
    cpu: dict = {}
    speed.alternate({"spin": lambda: sum(range(20000))}, repeats=2, cpu=cpu)
    assert 0.0 < cpu["spin"] < 4.0


def test_estimator_cases_run_through_the_default_estimators(tiny):
    pytest.importorskip("sklearn")
    out = speed.bench_estimators(["glassnet", "sklearn"], tiny, [])
    assert set(out) == {"wide", "lab", "small"}
    for case in out.values():
        # the float64 rows: the call a user makes on the loaders' arrays (issue 22's target 3)
        assert set(case["s_per_fit"]) == {
            fw.ESTIMATOR,
            "glassnet",
            "sklearn",
            fw.ESTIMATOR_F64,
            fw.ESTIMATOR_F64_AS32,
            fw.SKLEARN_F64,
        }
        assert all(t > 0 for t in case["s_per_fit"].values())
    assert "batch_size='auto'" in out["small"]["task"]
    from glassnet.bench import _report as report

    labels = [v["target"] for v in report.verdicts({"e": out, "machine": {"threads": 2}})]
    assert "(e) small MLPClassifier()/sklearn, float64 input" in labels
    assert "(e) small MLPClassifier()/sklearn, float64 input, dtype='float32'" in labels


def test_the_float64_rows_train_on_float64_copies_made_once():
    as64 = speed._float64_copies()
    X = np.ones((3, 2), dtype=np.float32)
    first = as64(X)
    assert first.dtype == np.float64 and as64(X) is first
    fit = speed._estimator_case_fits(["glassnet", "sklearn"], 1, {})
    X, y = _digits()
    clf = fit[fw.ESTIMATOR_F64](speed.SPEC_E_SMALL, X[:200], y[:200], 1)
    assert clf.network_.dtype == np.float64
    clf = fit[fw.ESTIMATOR_F64_AS32](speed.SPEC_E_SMALL, X[:200], y[:200], 1)
    assert clf.network_.dtype == np.float32


def test_estimator_cases_show_the_per_step_loop_beside_the_compiled_epoch(tiny, monkeypatch):
    if not fast.enabled():
        pytest.skip("numba is not installed or GLASSNET_FAST=0: no compiled epoch to compare")
    monkeypatch.setattr(speed, "SPEC_E_WIDE", dataclasses.replace(speed.SPEC_E_WIDE, sizes=(784, 16, 10)))
    out = speed.bench_estimators(["glassnet"], dict(tiny, numpy_path=True), [])
    rows = {fw.ESTIMATOR, fw.ESTIMATOR_STEP_LOOP, "glassnet", fw.STEP_LOOP}
    assert all(set(case["s_per_fit"]) == rows == set(case["cpu_s_per_fit"]) for case in out.values())
    assert fast.epochs_enabled()


def test_default_estimator_fit_leaves_n_jobs_unset():
    pytest.importorskip("sklearn")
    X, y = _digits()
    spec = dataclasses.replace(speed.SPEC_E_SMALL, batch_size=200)
    clf = fw.glassnet_default_estimator_fit(spec, X[:300], y[:300], 1, batch_size="auto")
    assert clf.get_params()["batch_size"] == "auto"
    assert clf.get_params()["n_jobs"] is None


def test_version_says_whether_the_fast_paths_are_on(capsys, monkeypatch):
    from glassnet.cli import main

    assert main(["--version"]) == 0
    assert fast.describe() in " ".join(capsys.readouterr().out.split())  # argparse may wrap the line
    monkeypatch.setattr(fast, "AVAILABLE", False)
    monkeypatch.setattr(fast, "ENABLED", False)
    assert main(["--version"]) == 0
    assert "fast paths off (numba not installed" in " ".join(capsys.readouterr().out.split())


def test_pinned_to_one_cpu_cpu_times_are_judged_even_on_a_busy_machine():
    results = _results(busy=True, other=1.3)
    results["a"]["cpu_ms_per_epoch"] = {"glassnet": 1.0, "jax": 1.1, "sklearn": 3.5}
    assert "(a) CPU time glassnet/jax" not in {t["target"] for t in speed.verdicts(results)}  # not pinned
    results["pinned"] = True  # pinned to one CPU: CPU time is one core's work, JAX's helper thread included
    rows = {t["target"]: t for t in speed.verdicts(results)}
    assert rows["(a) epoch time glassnet/jax"]["met"] is None  # wall time: not measurable
    assert rows["(a) CPU time glassnet/jax"]["met"] is True and not rows["(a) CPU time glassnet/jax"]["busy"]
    assert rows["(a) CPU time glassnet/sklearn"]["met"] is True  # 1.0 / 3.5 <= 1/3
    results["targets"] = list(rows.values())
    out = io.StringIO()
    speed.print_report(results, out)
    assert "CPU time, same ms/epoch:" in out.getvalue()
