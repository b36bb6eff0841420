"""``python -m glassnet.bench.busy``: the jobs it runs (the big cases on a few rows), what it counts as a job's
CPU time (never the spinner's), ``--only`` and the report (recorded figures, never timings)."""

from __future__ import annotations

import sys

import pytest

from glassnet.bench import busy

TINY = {"recipe_rows": 64, "wide_rows": 48, "wide_epochs": 1}


def test_only_picks_jobs_and_an_unknown_one_is_an_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(busy.SIZES, "quick", TINY)
    assert list(busy._jobs(True, tmp_path, ["train", "compare"])[0]) == ["compare", "train"]  # in their order
    assert list(tmp_path.iterdir()) == []  # the big cases' arrays only when they run
    assert list(busy._jobs(True, tmp_path)[0]) == list(busy.JOBS)
    assert busy.main(["--only", "train,nope", "--json", str(tmp_path / "b.json")]) == 2
    assert "--only takes compare, train, fit, recipe, wide; got ['nope']" in capsys.readouterr().err


def test_the_big_cases_are_set_up_and_the_recipe_s_epoch_runs_on_a_few_rows(tmp_path, monkeypatch):
    pytest.importorskip("sklearn")  # MLPClassifier's checks
    monkeypatch.setitem(busy.SIZES, "quick", TINY)
    jobs, notes = busy._jobs(True, tmp_path, ["recipe", "wide"])
    assert [title for title, _ in jobs.values()] == [
        "Fashion-MNIST recipe, one epoch",
        "wide MLPClassifier(), 1 epochs",
    ]
    assert len(notes) == 1 and notes[0].startswith("recipe: 64 ")
    assert jobs["wide"][1][-2:] == ["wide", "1"]  # the same script as the recipe's, the wide case's settings
    wall, cpu = busy.run_job(jobs["recipe"][1])
    assert wall > 0 and cpu > 0


_WAIT = """
import os, sys, time
while not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
"""

_SPIN_THEN_SAY_SO = """
import sys, time
while time.process_time() < 0.5:
    pass
open(sys.argv[1], "w").close()
time.sleep(120)
"""


def test_a_busy_run_counts_the_job_s_cpu_time_and_not_the_spinner_s(tmp_path):
    if busy.children_cpu() is None:
        pytest.skip("no resource module: CPU times are not measured here")
    flag = tmp_path / "spun"
    # the spinner spends 0.5 s of CPU, then says so; the job waits for that and ends (it spends little)
    spin = [sys.executable, "-c", _SPIN_THEN_SAY_SO, str(flag)]
    wall, cpu = busy._busy_run([sys.executable, "-c", _WAIT, str(flag)], spin)
    assert flag.exists() and cpu < 0.5  # the spinner's 0.5 s are not the job's


def test_a_job_s_cpu_time_counts_its_work():
    spin = "import time\nwhile time.process_time() < 0.2:\n    pass"
    wall, cpu = busy.run_job([sys.executable, "-c", spin])
    assert cpu >= 0.2


def test_the_report_judges_wall_and_cpu_ratios_against_their_targets():
    results = {
        "jobs": {
            "fine": {
                "idle": [1.0, 1.2, 1.1],
                "busy": [1.3, 1.4, 1.2],
                "idle_cpu": [1.0] * 3,
                "busy_cpu": [1.2] * 3,
            },
            "spins": {"idle": [2.0], "busy": [2.4], "idle_cpu": [2.0], "busy_cpu": [3.0]},
            "stalls": {"idle": [2.0], "busy": [4.0], "idle_cpu": [2.0], "busy_cpu": [2.0]},
            "old file": {"idle": [2.0], "busy": [2.2]},  # recorded before CPU times were
        },
        "notes": ["recipe: 12,800 rows of Fashion-MNIST"],
    }
    lines = {line.split("  ")[0]: line for line in busy.report(results).splitlines()}
    assert lines["fine"].endswith("met") and " 1.30 " in lines["fine"] and " 1.20 " in lines["fine"]
    assert lines["spins"].endswith("MISSED: cpu")  # 1.2 of the wall time, 1.5 of the CPU time
    assert lines["stalls"].endswith("MISSED: wall")
    assert lines["old file"].endswith("met") and " - " in lines["old file"]
    assert "note: recipe: 12,800 rows of Fashion-MNIST" in busy.report(results)
