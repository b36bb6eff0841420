"""The speed benchmark's busy flag counts only other processes' work (recorded ``/proc`` readings, and real
spinning processes measured by CPU time, never by speed), and every case is printed beside its floor."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from glassnet.bench import _frameworks as fw
from glassnet.bench import _timing, speed
from glassnet.bench._report import _busy_line

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
SELF = 100
SLACK = 2 * 3  # ticks: the resolution of two readings of 2 CPUs and one process tree


def _record(root: Path, cpus: dict[int, list[int]], procs: dict[int, tuple[int, ...]]) -> Path:
    """Write a /proc-like folder: ``cpus[i]`` is the line ``cpu<i> user nice system idle iowait irq softirq
    steal`` in clock ticks, ``procs[pid]`` is ``(ppid, utime, stime, cutime, cstime)``."""
    for old in root.glob("[0-9]*/stat"):
        old.unlink()
    root.mkdir(exist_ok=True)
    total = [sum(col) for col in zip(*cpus.values(), strict=True)]
    lines = ["cpu  " + " ".join(map(str, total))]  # the sum of all CPUs: never read
    lines += [f"cpu{i} " + " ".join(map(str, fields)) for i, fields in cpus.items()]
    (root / "stat").write_text("\n".join([*lines, "intr 7814705 0 0", "ctxt 21273703"]) + "\n")
    for pid, (ppid, utime, stime, cutime, cstime) in procs.items():
        (root / str(pid)).mkdir(exist_ok=True)
        # a name with spaces and parentheses, as a process may give itself
        (root / str(pid) / "stat").write_text(
            f"{pid} (python (worker) 1) S {ppid} {pid} 30355 0 -1 4194304 102 0 0 0 "
            f"{utime} {stime} {cutime} {cstime} 20 0 1 0 821724 3133440 414\n"
        )
    return root


def _cpu(busy: int, steal: int = 0) -> list[int]:
    return [busy, 0, 0, 1000, 0, 0, 0, steal]


# the benchmark (pid 100) with a worker (200) that has a worker of its own (300), a child (500) that ends and
# is reaped within the window, and a stranger (400, parent init) that stays idle
BEFORE_PROCS = {SELF: (1, 500, 20, 0, 0), 200: (SELF, 10, 0, 0, 0), 300: (200, 5, 0, 0, 0),
                400: (1, 70, 0, 0, 0), 500: (SELF, 40, 0, 0, 0)}  # fmt: skip
# in the window: the benchmark's threads 150 ticks, 200: 100, 300: 50, 500: 20 more before it ended
AFTER_PROCS = {SELF: (1, 650, 20, 60, 0), 200: (SELF, 110, 0, 0, 0), 300: (200, 55, 0, 0, 0),
               400: (1, 70, 0, 0, 0)}  # fmt: skip
OWN_TICKS = 150 + 100 + 50 + 20


def _window(
    tmp_path, extra_busy: int = 0, steal: int = 0, strangers: int = 0, wall: float = 1.5, cpu2: int = 0
):
    """A MachineLoad over recorded readings: the machine busy with our work plus ``extra_busy`` ticks (of
    which ``strangers`` ticks by process 400), ``steal`` stolen ticks, ``cpu2`` ticks on a CPU not ours."""
    root = tmp_path / "proc"

    def read():
        return _timing.read_cpu(root, pid=SELF, cpus={0, 1})

    clock = iter([10.0, 10.0 + wall])
    load = _timing.MachineLoad(read=read, clock=lambda: next(clock))
    _record(root, {0: _cpu(5000), 1: _cpu(7000), 2: _cpu(100)}, BEFORE_PROCS)
    with load:
        busy = OWN_TICKS + extra_busy
        after = {**AFTER_PROCS, 400: (1, 70 + strangers, 0, 0, 0)}
        _record(root, {0: _cpu(5000 + busy // 2, steal), 1: _cpu(7000 + busy - busy // 2), 2: _cpu(100 + cpu2)},
                after)  # fmt: skip
    return load


def test_the_benchmark_its_threads_and_its_descendants_are_not_other_work(tmp_path):
    load = _window(tmp_path, cpu2=500)  # a CPU this process may not use is not looked at
    report = load.report({"glassnet": [1.0, 1.05]})
    assert load.other_cores == 0.0 and not report["busy"] and report["why"] == ""
    assert _timing.read_cpu(tmp_path / "proc", pid=SELF, cpus={0, 1}).own == pytest.approx(
        (650 + 20 + 60 + 110 + 55) / TICK
    )  # the worker's worker too, and the reaped child through the benchmark's cutime


def test_a_few_ticks_of_rounding_in_a_short_window_are_not_other_work(tmp_path):
    load = _window(tmp_path, extra_busy=SLACK, wall=0.05)  # 0.06 s in 0.05 s would read as 1.2 cores
    assert load.other_cores == pytest.approx(0.0, abs=1e-9) and not load.report()["busy"]


def test_another_process_s_work_is_counted_and_flags_the_part(tmp_path):
    load = _window(tmp_path, extra_busy=120, strangers=120)
    report = load.report({"glassnet": [1.0, 1.05]})
    assert load.other_cores == pytest.approx((120 - SLACK) / TICK / 1.5)
    assert report["busy"] == ((120 - SLACK) / TICK / 1.5 > speed.BUSY_OTHER_CORES)
    res = {"machine_load": report, "cpu_per_wall": {"glassnet": 1.9, "torch": 1.0}}
    if report["busy"]:
        line = _busy_line(res)
        assert line.startswith("  !! MACHINE BUSY (other processes used")
        assert "this process kept 1.00-1.90 cores busy" in line and "threads included" in line


def test_time_the_hypervisor_stole_counts_as_other_work_and_is_named(tmp_path):
    load = _window(tmp_path, steal=60, wall=1.0)
    report = load.report()
    assert load.steal_cores == pytest.approx(60 / TICK)
    assert load.other_cores == pytest.approx((60 - SLACK) / TICK)
    if report["busy"]:
        assert "taken by the hypervisor" in report["why"]


def test_spread_repeats_are_noisy_not_busy(tmp_path):
    report = _window(tmp_path).report({"x": [1.0, 1.1], "y": [1.0, 2.0]})
    assert not report["busy"] and report["noisy"] and report["spread"]["y"] == pytest.approx(1.0)
    line = _busy_line({"machine_load": report})
    assert line.startswith("  machine idle enough (other processes used 0.00 cores")
    assert "repeats spread by up to 100 %" in line and "BUSY" not in line


def test_without_proc_stat_other_work_is_not_measured_and_nothing_is_flagged(tmp_path):
    assert _timing.read_cpu(tmp_path / "nothing") is None
    load = _timing.MachineLoad(read=lambda: None)
    with load:
        pass
    report = load.report({"x": [1.0, 1.0]})
    assert report["other_cores"] is None and not report["busy"]
    assert "not measured here" in _busy_line({"machine_load": report})


# --- real processes: CPU time only, so a busy machine cannot make these fail ---------------------------------

_SPIN = """
import sys, time
while time.process_time() < 0.3:
    pass
open(sys.argv[1], "w").write("spun")
time.sleep(120)
"""

# starts the spinner (its output not on our pipe) and ends at once: the spinner's parent is gone, so it is no
# descendant of the test
_STRANGER = """
import subprocess, sys
quiet = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]], **quiet).pid)
"""


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _wait_for(path: Path) -> None:
    for _ in range(1200):  # a bound for a machine so busy that 0.3 s of CPU takes minutes, not a threshold
        if path.exists():
            return
        time.sleep(0.1)
    raise AssertionError(f"the spinner never wrote {path}")


def test_a_spinning_child_is_the_benchmark_s_own_and_a_spinning_stranger_is_other_work(tmp_path):
    if _timing.read_cpu() is None:
        pytest.skip("no /proc/stat: other processes' work is not measured here")
    start = _timing.read_cpu()
    child = subprocess.Popen([sys.executable, "-c", _SPIN, str(tmp_path / "child")])
    launcher = subprocess.run(
        [sys.executable, "-c", _STRANGER, _SPIN, str(tmp_path / "stranger")], capture_output=True, text=True
    )
    stranger = int(launcher.stdout)
    try:
        _wait_for(tmp_path / "child")
        _wait_for(tmp_path / "stranger")
        end = _timing.read_cpu()
        child_cpu, stranger_cpu = _cpu_seconds(child.pid), _cpu_seconds(stranger)
    finally:
        child.kill()
        child.wait()
        os.kill(stranger, 9)
    assert child_cpu > 0.2 and stranger_cpu > 0.2  # they spun (0.3 s, as the clock ticks count it)
    own = end.own - start.own
    others = (end.machine - start.machine) + (end.steal - start.steal) - own
    assert own >= child_cpu  # the child is ours (and so is the launcher, reaped)
    # the stranger is other work (the per-CPU counts are sampled at each tick: a little slack)
    assert others >= stranger_cpu - 0.1


# --- the machine's floor -------------------------------------------------------------------------------------


def _floor_results(threads: int = 1, busy: bool = False) -> dict:
    load = {"other_cores": 0.0, "loadavg": [1.0, 1.0], "spread": {}, "busy": busy, "why": ""}
    return {
        "machine": {
            "threads": threads,
            "processor": "cpu",
            "numpy": "2",
            "blas": [],
            "torch": None,
            "sklearn": None,
            "env": {},
        },
        "jobs": 1,
        "notes": [],
        "a": {
            "task": "lab",
            "gflop_per_epoch": 0.05,
            "ms_per_epoch": {"glassnet": 1.0, "jax": 0.9},
            "machine_load": load,
        },
        "b": {
            "task": "fashion",
            "rows": 10,
            "epochs": 1,
            "gflop_per_epoch": 10.0,
            "s_per_epoch": {"glassnet": 0.125, fw.ONE_PROCESS: 0.2, "torch": 0.3},
            "test_accuracy": {},
            "machine_load": load,
        },
        "c": {
            "task": "wide",
            "gflop_per_epoch": 50.0,
            "gemm_gflops": 90.0,
            "gemm_gflops_best": 100.0,
            "gflops": {"glassnet": 80.0, "torch": 70.0},
            "fraction_of_gemm": {"glassnet": 80 / 90, "torch": 70 / 90},
            "machine_load": load,
        },
        "e": {
            "wide": {
                "task": "wide fit",
                "rows": 10,
                "epochs": 1,
                "gflop_per_fit": 40.0,
                "s_per_fit": {"glassnet.MLPClassifier": 1.0, "glassnet": 0.8, "jax": 0.7},
                "machine_load": load,
            }
        },
    }


def test_every_case_gets_its_floor_from_c_s_numpy_rate_and_glassnet_rows_their_share():
    results = _floor_results()
    speed.add_floors(results, speed.SETTINGS["quick"])
    assert results["floor_rate"] == {"gflops": 100.0, "from": "(c)'s NumPy runs"}
    assert results["a"]["floor"]["value"] == pytest.approx(0.5)  # 0.05 GFLOP at 100 GFLOP/s: 0.5 ms
    assert results["a"]["floor"]["share"] == {"glassnet": pytest.approx(0.5)}  # not JAX's
    assert results["b"]["floor"]["share"] == {
        "glassnet": pytest.approx(0.8),
        fw.ONE_PROCESS: pytest.approx(0.5),
    }
    assert results["c"]["floor"]["share"] == {"glassnet": pytest.approx(0.8)}  # 80 of the best 100 GFLOP/s
    assert results["e"]["wide"]["floor"]["share"] == {
        "glassnet.MLPClassifier": pytest.approx(0.4),
        "glassnet": pytest.approx(0.5),
    }
    results["targets"] = speed.verdicts(results)
    (b,) = [t for t in results["targets"] if "floor" in t["target"]]
    assert b["value"] == pytest.approx(0.8) and b["met"] is True  # one thread: >= 0.75
    out = io.StringIO()
    speed.print_report(results, out)
    text = out.getvalue()
    assert "at NumPy's best rate here, 100.0 GFLOP/s" in text
    assert "floor 0.5 ms/epoch (0.05 GFLOP of matrix products); share of it: glassnet 50 %" in text
    assert "floor 0.1 s/epoch (10 GFLOP of matrix products); share of it: glassnet 80 %, " in text
    assert "glassnet, 1 process 50 %" in text
    assert "share of it: glassnet.MLPClassifier 40 %, glassnet 50 %" in text


def test_the_floor_share_target_is_judged_on_one_thread_only_and_not_above_100_percent():
    two = _floor_results(threads=2)
    speed.add_floors(two, speed.SETTINGS["quick"])
    assert not [t for t in speed.verdicts(two) if "floor" in t["target"]]
    slowed = _floor_results()
    slowed["c"]["gemm_gflops_best"] = 40.0  # the NumPy runs were slowed: glassnet above 100 % of it
    speed.add_floors(slowed, speed.SETTINGS["quick"])
    (b,) = [t for t in speed.verdicts(slowed) if "floor" in t["target"]]
    assert b["value"] > 1.0 and b["met"] is None
    out = io.StringIO()
    slowed["targets"] = speed.verdicts(slowed)
    speed.print_report(slowed, out)
    assert "above 100 % (not measurable" in out.getvalue()


def test_without_c_the_floor_measures_numpy_s_rate_itself(monkeypatch):
    results = _floor_results()
    del results["c"]
    cfg = dict(speed.SETTINGS["quick"], c_batches=1, repeats=1)
    monkeypatch.setattr(speed, "SPEC_C", fw.MLPSpec((64, 32, 10), "relu", "sgd", lr=0.1, batch_size=16))
    speed.add_floors(results, cfg)
    assert results["floor_rate"]["gflops"] > 0 and "measured for the floor" in results["floor_rate"]["from"]
    assert results["a"]["floor"]["value"] == pytest.approx(0.05 / results["floor_rate"]["gflops"] * 1e3)
