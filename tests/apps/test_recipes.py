"""Recipes, the estimator options they use (label smoothing, batch norm), the seed ensemble and the benchmark."""

import json

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits

from glassnet import MLPClassifier
from glassnet.estimators import EnsembleClassifier
from glassnet.recipes import RECIPES, make_estimator, recommended_digits, recommended_fashion_mnist

# short fits on purpose: max_iter is reached before convergence
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def small_digits():
    X, y = load_digits(return_X_y=True)
    return (X[:300] / 16.0).astype(np.float32), y[:300]


def test_recipes_are_valid_estimator_settings():
    for getter in (recommended_digits, recommended_fashion_mnist):
        params = getter()
        MLPClassifier(**params).get_params()  # every key is a real parameter
        params["max_iter"] = -1
        assert getter()["max_iter"] > 0  # a copy each time
    assert set(RECIPES) == {"digits", "fashion-mnist"}


def test_make_estimator_builds_ensembles_and_applies_overrides():
    model = make_estimator("digits", random_state=0, max_iter=3)
    assert isinstance(model, EnsembleClassifier) and model.n_estimators == RECIPES["digits"].n_ensemble
    assert model.estimator.max_iter == 3
    single = make_estimator("digits", random_state=0, n_ensemble=1)
    assert isinstance(single, MLPClassifier) and single.label_smoothing == 0.1
    with pytest.raises(ValueError, match="Unknown recipe"):
        make_estimator("cifar")


def test_digits_recipe_learns_quickly(small_digits):
    X, y = small_digits
    model = make_estimator("digits", random_state=0, max_iter=15, n_ensemble=2).fit(X[:200], y[:200])
    assert model.score(X[200:], y[200:]) > 0.85
    proba = model.predict_proba(X[200:])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    members = np.mean([m.predict_proba(X[200:]) for m in model.estimators_], axis=0)
    np.testing.assert_allclose(proba, members)


def test_ensemble_is_reproducible_and_clonable(small_digits):
    X, y = small_digits
    member = MLPClassifier((16,), max_iter=5, batch_size=50)
    a = EnsembleClassifier(member, n_estimators=2, random_state=1).fit(X, y)
    b = clone(a).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    seeds = [m.random_state for m in a.estimators_]
    assert len(set(seeds)) == 2
    with pytest.raises(ValueError, match="n_estimators"):
        EnsembleClassifier(member, n_estimators=0).fit(X, y)


def test_ensemble_fits_members_in_processes_with_the_same_result(small_digits):
    X, y = small_digits
    member = MLPClassifier((16,), max_iter=5, batch_size=50)
    one = EnsembleClassifier(member, n_estimators=3, random_state=2).fit(X, y)
    two = EnsembleClassifier(member, n_estimators=3, random_state=2, n_jobs=2).fit(X, y)
    assert [m.random_state for m in two.estimators_] == [m.random_state for m in one.estimators_]
    np.testing.assert_array_equal(two.predict_proba(X), one.predict_proba(X))
    for bad in (0, 1.5, "2", True):
        with pytest.raises(ValueError, match="'n_jobs' parameter of EnsembleClassifier"):
            EnsembleClassifier(member, n_estimators=2, n_jobs=bad).fit(X, y)


def test_label_smoothing_softens_the_probabilities(small_digits):
    X, y = small_digits
    kw = dict(hidden_layer_sizes=(32,), max_iter=30, batch_size=50, random_state=0)
    sharp = MLPClassifier(**kw).fit(X, y).predict_proba(X).max(axis=1).mean()
    smooth = MLPClassifier(**kw, label_smoothing=0.2).fit(X, y).predict_proba(X).max(axis=1).mean()
    assert smooth < sharp
    binary = y[:100] % 2
    with pytest.raises(ValueError, match="three or more classes"):
        MLPClassifier(label_smoothing=0.1, max_iter=2).fit(X[:100], binary)


def test_batch_norm_option_builds_and_saves(small_digits, tmp_path):
    from glassnet.io import load_estimator, save_estimator

    X, y = small_digits
    clf = MLPClassifier((16,), batch_norm=True, max_iter=5, batch_size=50, random_state=0).fit(X, y)
    assert [type(layer).__name__ for layer in clf.network_.layers][:3] == ["Dense", "BatchNorm", "ReLU"]
    path = tmp_path / "bn.npz"
    save_estimator(path, clf)
    loaded = load_estimator(path)
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), rtol=1e-5)
    with pytest.raises(ValueError, match="stochastic solver"):
        MLPClassifier(batch_norm=True, solver="lbfgs").fit(X, y)


def test_accuracy_benchmark_runs_and_writes_json(tmp_path, monkeypatch, capsys):
    from glassnet.bench import accuracy

    def tiny_digits(quick=False, seed=0, threads=1, log=print):
        return {
            "quick": True,
            "mean": 0.99,
            "std": 0.001,
            "single_network_mean": 0.98,
            "single_network_std": 0.002,
            "recipe": "tiny",
        }

    monkeypatch.setattr(accuracy, "run_digits", tiny_digits)
    out = tmp_path / "acc.json"
    assert accuracy.main(["--dataset", "digits", "--quick", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "0.9900" in printed and "0.982" in printed and "met" in printed
    assert json.loads(out.read_text())["digits"]["mean"] == 0.99


def test_accuracy_benchmark_digits_quick_path(monkeypatch):
    from glassnet.bench import accuracy
    from glassnet.recipes import RECIPES as recipes

    real = accuracy.run_digits
    monkeypatch.setitem(
        recipes, "digits", type(recipes["digits"])("digits", {**recipes["digits"].params}, 1, "one network")
    )
    monkeypatch.setattr(
        "glassnet.recipes.make_estimator",
        lambda name, random_state=None, **kw: MLPClassifier((16,), max_iter=3, random_state=random_state),
    )
    result = real(quick=True, log=lambda *_: None)
    assert len(result["fold_accuracies"]) == 2 and 0 <= result["mean"] <= 1


def test_ensemble_members_can_differ_in_more_than_their_seed(small_digits):
    X, y = small_digits
    member = MLPClassifier((16,), max_iter=3, batch_size=50)
    varied = [{"batch_norm": True}, {"batch_norm": False, "hidden_layer_sizes": (8,)}]
    ens = EnsembleClassifier(member, n_estimators=3, random_state=0, member_params=varied).fit(X, y)
    assert [m.batch_norm for m in ens.estimators_] == [True, False, True]
    assert [m.hidden_layer_sizes for m in ens.estimators_] == [(16,), (8,), (16,)]
    plain = EnsembleClassifier(member, n_estimators=3, random_state=0).fit(X, y)
    assert [m.random_state for m in plain.estimators_] == [m.random_state for m in ens.estimators_]
    for bad in ([], {"batch_norm": True}, [{"random_state": 1}], ["batch_norm"]):
        with pytest.raises(ValueError, match="'member_params' parameter"):
            EnsembleClassifier(member, n_estimators=2, member_params=bad).fit(X, y)
    with pytest.raises(ValueError, match="Invalid parameter 'not_a_param'"):
        EnsembleClassifier(member, n_estimators=2, member_params=[{"not_a_param": 1}]).fit(X, y)


def test_batch_norm_fits_when_the_last_batch_would_have_one_row():
    """A last batch of one row has no batch statistics: it joins the batch before (it raised mid-fit)."""
    rng = np.random.default_rng(0)
    X, y = rng.random((129, 5)), np.arange(129) % 2
    clf = MLPClassifier((8,), batch_norm=True, batch_size=64, max_iter=2, random_state=0).fit(X, y)
    assert clf.t_ == 2 * 129  # every row seen each epoch
    with pytest.raises(ValueError, match="batch_norm=True needs at least 2 samples"):
        MLPClassifier((8,), batch_norm=True).fit(X[:1], y[:1])


def test_recipes_vary_members_unless_a_setting_is_overridden():
    ens = make_estimator("fashion-mnist", random_state=0)
    assert ens.member_params == [{"batch_norm": True}, {"batch_norm": False}]
    assert ens.n_jobs == RECIPES["fashion-mnist"].ensemble_jobs
    assert make_estimator("fashion-mnist", batch_norm=False).member_params is None  # the same for all
    assert make_estimator("fashion-mnist", n_ensemble=1).batch_norm is True  # the first member's settings
    assert make_estimator("digits").member_params is None
