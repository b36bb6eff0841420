"""The accuracy comparison (issue 24): the same folds for every method, fold-by-fold counts, CPU time, targets."""

import json

import numpy as np
import pytest

from glassnet.bench import accuracy_cv


class _Fixed:
    """A stand-in estimator scoring a fixed accuracy; remembers the rows it was fitted on."""

    seen: dict = {}

    def __init__(self, name, accuracy, members=()):
        self.name, self.accuracy = name, accuracy
        if members:
            self.estimators_ = list(members)

    def fit(self, X, y):
        _Fixed.seen.setdefault(self.name, []).append(X[:3].copy())
        return self

    def score(self, X, y):
        return self.accuracy


@pytest.fixture
def stand_ins(monkeypatch):
    _Fixed.seen = {}
    members = [_Fixed("member", 0.98), _Fixed("member", 0.99)]
    monkeypatch.setattr(
        "glassnet.recipes.make_estimator",
        lambda name, random_state=None, **kw: _Fixed(
            "glassnet", 0.99 if random_state % 2 else 0.985, members
        ),
    )
    monkeypatch.setattr(
        accuracy_cv, "_digits_peer", lambda name, seed: _Fixed(name, 0.988 if name == "svc" else 0.97)
    )
    return _Fixed


def test_every_method_sees_the_same_folds_and_is_counted_against_the_svc(stand_ins):
    result = accuracy_cv.run_digits_cv(cv_seeds=(11, 23), n_repeats=1, log=lambda *_: None)
    for name in ("glassnet", "svc", "sklearn-mlp"):
        assert len(stand_ins.seen[name]) == 4  # 2 seeds x 2 folds
        for a, b in zip(stand_ins.seen["glassnet"], stand_ins.seen[name], strict=True):
            np.testing.assert_array_equal(a, b)
    run = result["runs"]["11"]
    # fold k's networks are seeded 11 + k (odd: 0.99, even: 0.985) against the SVC's 0.988
    assert run["glassnet"]["fold_accuracies"] == [0.99, 0.985]
    assert run["glassnet_vs_svc"] == {"won": 1, "tied": 0, "lost": 1}
    assert run["glassnet-one"]["fold_accuracies"] == [pytest.approx(0.985)] * 2
    assert all(run[m]["cpu_seconds_per_fold"] >= 0 for m in accuracy_cv.DIGITS_METHODS)
    report = accuracy_cv.format_report({"digits": result})
    assert "RBF SVC (C=10, gamma='scale')" in report and "CPU s/fold" in report
    assert "seed 11: 1 / 0 / 1; seed 23: 1 / 0 / 1; all: 2 / 0 / 2" in report
    assert "mean >= 0.99 on every seed: NOT met" in report  # a mean of 0.9875 is below 0.990
    assert "more folds won than lost against the SVC: NOT met" in report  # 2 against 2


def test_the_cv_seed_draws_other_folds(stand_ins):
    accuracy_cv.run_digits_cv(cv_seeds=(1,), n_repeats=1, methods=("svc",), log=lambda *_: None)
    first = stand_ins.seen.pop("svc")
    accuracy_cv.run_digits_cv(cv_seeds=(2,), n_repeats=1, methods=("svc",), log=lambda *_: None)
    assert not all(np.array_equal(a, b) for a, b in zip(first, stand_ins.seen["svc"], strict=True))


def test_compare_folds_counts_and_checks_lengths():
    assert accuracy_cv.compare_folds([0.5, 0.7], [0.5, 0.6]) == {"won": 1, "tied": 1, "lost": 0}
    # the same count of correct answers computed two ways is a tie, not a win by rounding
    assert accuracy_cv.compare_folds([0.1 + 0.2], [0.3]) == {"won": 0, "tied": 1, "lost": 0}
    with pytest.raises(ValueError, match="same folds"):
        accuracy_cv.compare_folds([0.5], [0.5, 0.6])


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="Unknown method"):
        accuracy_cv.run_digits_cv(methods=("knn",), log=lambda *_: None)


def test_main_writes_json_and_refuses_bad_options(stand_ins, tmp_path, capsys):
    out = tmp_path / "cv.json"
    code = accuracy_cv.main(["--repeats", "1", "--cv-seeds", "5", "--json", str(out)])
    assert code == 0
    data = json.loads(out.read_text())
    assert data["digits"]["cv_seeds"] == [5] and data["targets"]["digits"] == 0.990
    assert "glassnet recipe against the SVC, folds won / tied / lost" in capsys.readouterr().out
    assert accuracy_cv.main(["--repeats", "0", "--json", "-"]) == 2


def test_fashion_report_gives_wall_and_cpu_time():
    result = {
        "protocol": "official test set (10,000 images)", "n_train": 60000, "threads": 2, "recipe": "r",
        "methods": {"glassnet": {"accuracy": 0.912, "train_wall_seconds": 500.0, "train_cpu_seconds": 900.0,
                                 "epochs": 40}},
    }  # fmt: skip
    report = accuracy_cv.format_report({"fashion-mnist": result})
    assert "0.9120" in report and "500" in report and "900" in report
    assert "accuracy met" in report
    result["member_accuracies"] = [0.9101, 0.9093]
    assert "networks alone: 0.9101, 0.9093" in accuracy_cv.format_report({"fashion-mnist": result})


def _fake_fashion(monkeypatch, n_train: int) -> None:
    """``load_dataset`` gives random 28x28 images: ``n_train`` to train on, 40 to score."""
    import types

    import glassnet.data

    rng = np.random.default_rng(0)
    fake = types.SimpleNamespace(
        X_train=rng.random((n_train, 784)), y_train=np.arange(n_train) % 10,
        X_test=rng.random((40, 784)), y_test=np.arange(40) % 10,
    )  # fmt: skip
    monkeypatch.setattr(glassnet.data, "load_dataset", lambda name, data_dir=None: fake)


def test_the_fashion_run_records_how_many_networks_it_averaged(monkeypatch):
    """The JSON says how many members the recipe averaged (it was only in the summary string)."""
    _fake_fashion(monkeypatch, 120)
    overrides = {"n_ensemble": 2, "max_iter": 1, "hidden_layer_sizes": (8,), "batch_size": 32}
    result = accuracy_cv.run_fashion(threads=1, overrides=overrides, log=lambda *_: None)
    assert result["n_ensemble"] == 2 and len(result["member_accuracies"]) == 2


def test_the_fashion_run_counts_the_cpu_time_of_members_fitted_in_processes(monkeypatch):
    """With members fitted in processes, their CPU time is in the training CPU time (it was the parent's
    only, which mostly waits)."""
    _fake_fashion(monkeypatch, 1000)
    overrides = {"n_ensemble": 2, "max_iter": 15, "hidden_layer_sizes": (256,), "batch_size": 50}
    cpu = {}
    for jobs in (1, 2):
        result = accuracy_cv.run_fashion(threads=1, overrides=dict(overrides), log=lambda *_: None, jobs=jobs)
        assert result["ensemble_jobs"] == jobs
        cpu[jobs] = result["methods"]["glassnet"]["train_cpu_seconds"]
    assert cpu[2] > 0.7 * cpu[1], cpu
