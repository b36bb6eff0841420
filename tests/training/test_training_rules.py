"""The training loop's rules, the same for every entry point: divergence judged per fit, the last step
checked, sample weights validated once, and what scikit-learn users expect of a fitted estimator."""

from __future__ import annotations

import copy
import io
import pickle
import sys

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_digits

import glassnet
from glassnet.exceptions import TrainingDivergedError
from glassnet.network import build_mlp
from glassnet.optim import SGD
from glassnet.training import Trainer


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y


# --- divergence: no false alarms, the real cases caught -----------------------------------------------------


def test_a_fit_on_sorted_targets_is_not_called_divergence():
    rng = np.random.RandomState(0)
    X = rng.randn(1000, 3)
    y = 2 * X[:, 0] + rng.randn(1000)
    order = np.argsort(np.abs(y))
    model = glassnet.MLPRegressor(shuffle=False, batch_size=50, max_iter=3, random_state=0)
    with pytest.warns(Warning):  # ConvergenceWarning: 3 epochs
        model.fit(X[order], y[order])
    assert model.score(X, y) > 0.2


def test_a_warm_started_refit_on_noisier_data_is_judged_by_its_own_course():
    rng = np.random.RandomState(1)
    X = rng.randn(400, 3)
    model = glassnet.MLPRegressor(max_iter=300, random_state=0, warm_start=True)
    model.fit(X, X[:, 0] + 0.05 * rng.randn(400))
    first_loss = model.loss_
    model.fit(X, X[:, 0] + 3.0 * rng.randn(400))  # a much higher loss than the first fit's: not divergence
    assert model.loss_ > 10 * first_loss


@pytest.mark.parametrize("lr, alpha", [(1e6, 1e-4), (1e20, 1e-4), (1e10, 1e-4), (0.01, 1e40)])
def test_exploding_steps_raise_and_leave_finite_weights(digits, lr, alpha):
    X, y = digits
    model = glassnet.MLPClassifier(
        solver="sgd", learning_rate_init=lr, alpha=alpha, batch_size=200, max_iter=3, random_state=0
    )
    with pytest.raises(TrainingDivergedError, match="diverged"):
        model.fit(X, y)
    assert np.all(np.isfinite(model.network_.flat_params))


def test_the_final_step_is_checked_so_a_fit_never_returns_non_finite_predictions(digits):
    X, y = digits
    # one batch per epoch and a single epoch: the only loss the loop sees is the one before the step
    model = glassnet.MLPClassifier(solver="sgd", learning_rate_init=1e20, batch_size=len(X), max_iter=1)
    with pytest.raises(TrainingDivergedError, match="after the last step|in epoch 1"):
        model.fit(X, y)


def test_divergence_is_catchable_as_value_error(digits):
    X, y = digits
    with pytest.raises(ValueError):
        glassnet.MLPClassifier(solver="sgd", learning_rate_init=1e20, max_iter=2, random_state=0).fit(X, y)


# --- sample weights: validated once, the same with one process and two ---------------------------------------


@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize(
    "weights, message",
    [(np.zeros(60), "zero everywhere"), (-np.ones(60), "non-negative"), (np.r_[np.nan, np.ones(59)], "NaN")],
)
def test_bad_sample_weights_are_refused_before_training(n_jobs, weights, message):
    if n_jobs == 2 and not sys.platform.startswith("linux"):
        pytest.skip("data parallelism forks, on Linux only")
    X = np.random.default_rng(0).normal(size=(60, 4))
    y = np.arange(60) % 3
    trainer = Trainer(build_mlp([4, 8, 3], seed=0), SGD(lr=0.1), batch_size=10, n_jobs=n_jobs, seed=0)
    with pytest.raises(ValueError, match=message):
        trainer.fit(X, y, epochs=1, sample_weight=weights)


def test_a_batch_of_zero_weights_takes_no_step_with_one_process_or_two():
    X = np.random.default_rng(0).normal(size=(60, 4))
    y = np.arange(60) % 3
    weights = np.r_[np.zeros(20), np.ones(40)]  # the first batch (no shuffling) has only zero weights
    results = []
    for n_jobs in (1, 2):
        net = build_mlp([4, 8, 3], seed=0, dtype=np.float64)
        trainer = Trainer(net, SGD(lr=0.1), batch_size=20, shuffle=False, n_jobs=n_jobs, seed=0)
        history = trainer.fit(X, y, epochs=2, sample_weight=weights)
        results.append((net.flat_params.copy(), history["loss"]))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10)


# --- what a scikit-learn user can tell ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "roundtrip",
    [
        lambda m: pickle.loads(pickle.dumps(m)),
        copy.deepcopy,
        lambda m: joblib.load(_dumped(m)),
    ],
    ids=["pickle", "deepcopy", "joblib"],
)
def test_a_copied_estimator_keeps_training(roundtrip):
    model = glassnet.MLPRegressor(hidden_layer_sizes=(42,), random_state=42, learning_rate_init=0.01)
    model.fit([[2.0]], [4.0])
    copied = roundtrip(model)
    for _ in range(200):
        copied.partial_fit([[2.0]], [1.0])
    assert copied.predict([[2.0]])[0] == pytest.approx(1.0, abs=0.01)  # scikit-learn: 0.99998


def _dumped(model):
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize("y", [np.arange(20) % 3, np.r_[np.zeros(10), np.ones(9), 2]])
def test_early_stopping_on_small_or_rare_class_data_fits(y):
    X = np.random.RandomState(0).randn(len(y), 2)
    model = glassnet.MLPClassifier(early_stopping=True, max_iter=5, random_state=0)
    with pytest.warns(Warning):
        model.fit(X, y)
    assert len(model.validation_scores_) >= 1


def test_coefs_and_intercepts_can_be_assigned_both_ways():
    X = np.random.RandomState(0).randn(30, 3)
    model = glassnet.MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    with pytest.warns(Warning):
        model.fit(X, np.arange(30) % 2)
    model.coefs_[1] = np.zeros_like(model.coefs_[1])
    model.intercepts_ = [np.zeros(4), np.full(1, 3.0)]
    np.testing.assert_array_equal(model.predict_proba(X)[:, 1], np.full(30, 1 / (1 + np.exp(-3.0))))
    with pytest.raises(ValueError, match="shape"):
        model.coefs_[0] = np.zeros((2, 2))
    assert glassnet.MLPClassifier().loss == "log_loss"


def test_partial_fit_early_stops_a_stream_on_the_callers_validation_set(digits):
    X, y = digits
    X_val, y_val = X[:300], y[:300]
    model = glassnet.MLPClassifier(
        hidden_layer_sizes=(16,), early_stopping=True, n_iter_no_change=2, tol=0.5, random_state=0
    )
    with pytest.raises(ValueError, match="needs your validation set"):
        model.partial_fit(X[300:400], y[300:400], classes=np.arange(10))
    calls = 0
    while not getattr(model, "_stopped_early", False) and calls < 50:
        model.partial_fit(X[300:], y[300:], classes=np.arange(10), eval_set=(X_val, y_val))
        calls += 1
    assert model._stopped_early and calls < 50  # tol=0.5: no call improves that much after the first
    best = model.best_validation_score_
    assert model.score(X_val, y_val) == pytest.approx(best)  # the best weights were restored
    weights = model.network_.flat_params.copy()
    with pytest.warns(UserWarning, match="Early stopping ended this partial_fit stream"):
        model.partial_fit(X[300:], y[300:], eval_set=(X_val, y_val))
    np.testing.assert_array_equal(model.network_.flat_params, weights)
