"""One early-stopping and one adaptive-rate rule (issue 19, item 2): scikit-learn's rules are settings of the
engine's EarlyStopping and ReduceLROnPlateau, which share one improvement rule."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from glassnet import MLPClassifier
from glassnet.callbacks import Callback, EarlyStopping, ReduceLROnPlateau
from glassnet.network import build_mlp
from glassnet.optim import SGD
from glassnet.training import Trainer
from glassnet.training.callbacks import Improvement

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 3)).astype(np.float32)
y = (X[:, 0] > 0).astype(int)


class Feed(Callback):
    """Puts made-up values in each epoch's logs, before the rule under test reads them."""

    def __init__(self, **values):
        self.values = values

    def on_epoch_end(self, trainer, epoch, logs):
        for name, values in self.values.items():
            logs[name] = values[epoch]


def fit(rule, epochs, **values):
    trainer = Trainer(build_mlp([3, 4, 2], seed=0), SGD(0.1), batch_size=20, seed=0, n_jobs=1,
                      validation_data=(X, y), callbacks=[Feed(**values), rule])  # fmt: skip
    trainer.fit(X, y, epochs=epochs)
    return trainer


def test_an_improvement_of_exactly_tol_counts_with_scikit_learns_comparison():
    losses = [3.0, 2.5, 2.0, 1.5, 1.0, 0.5]  # each epoch exactly tol=0.5 better than the last
    strict = fit(EarlyStopping("loss", patience=2, tol=0.5, restore_best=False), 6, loss=losses)
    inclusive = fit(
        EarlyStopping("loss", patience=2, tol=0.5, restore_best=False, inclusive=True), 6, loss=losses
    )
    assert strict.history.epochs == 3 and strict.history.stopped_early
    assert inclusive.history.epochs == 6 and not inclusive.history.stopped_early


def test_a_tiebreak_lets_a_lower_validation_loss_improve_on_an_equal_score():
    scores, val_losses = [0.9] * 8, [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3]
    plain = EarlyStopping("val_score", patience=2, tol=1e-3)
    fit(plain, 8, val_score=scores, val_loss=val_losses)
    tied = EarlyStopping("val_score", patience=2, tol=1e-3, tiebreak="val_loss")
    trainer = fit(tied, 8, val_score=scores, val_loss=val_losses)
    assert plain.stopped_epoch == 2 and plain.best_epoch == 0
    assert tied.stopped_epoch is None and tied.best_epoch == 7 and trainer.history.best_epoch == 7


def test_a_non_finite_value_is_no_improvement():
    rule = EarlyStopping("val_loss", patience=2, tol=0.0, restore_best=False)
    fit(rule, 5, val_loss=[1.0, math.nan, math.inf, 0.5, 0.4])
    assert rule.stopped_epoch == 2  # two epochs without a finite, better value


def test_patience_none_keeps_the_best_weights_without_stopping_and_on_stop_restores_only_when_stopped():
    keeper = EarlyStopping("val_score", patience=None)
    trainer = fit(keeper, 4, val_score=[0.1, 0.5, 0.2, 0.2])
    assert trainer.history.epochs == 4 and keeper.best_epoch == 1
    np.testing.assert_array_equal(trainer.net.flat_params, keeper.best_params)
    on_stop = EarlyStopping("val_score", patience=None, restore_best="on_stop")
    trainer = fit(on_stop, 4, val_score=[0.1, 0.5, 0.2, 0.2])
    assert not np.array_equal(trainer.net.flat_params, on_stop.best_params)  # not stopped: the last weights


def test_restart_false_continues_the_count_across_fits_and_through_its_state():
    rule = EarlyStopping("loss", patience=3, tol=0.0, restore_best=False, restart=False)
    fit(rule, 2, loss=[1.0, 2.0])
    assert rule.wait == 1
    fresh = EarlyStopping("loss", patience=3, tol=0.0, restore_best=False, restart=False)
    fresh.load_state_dict(rule.state_dict())
    fit(fresh, 2, loss=[2.0, 2.0])
    assert fresh.stopped_epoch == 1  # 1 + 2 epochs without improvement
    again = EarlyStopping("loss", patience=3, tol=0.0, restore_best=False)  # restart=True: Keras' rule
    again.load_state_dict(rule.state_dict())
    fit(again, 2, loss=[2.0, 2.0])
    assert again.stopped_epoch is None


def test_reduce_lr_divides_by_one_over_factor_and_stops_at_stop_lr():
    plateau = ReduceLROnPlateau("loss", factor=0.2, patience=1, min_delta=0.0, stop_lr=0.005)
    trainer = fit(plateau, 6, loss=[1.0] * 6)
    # 0.1 / 5 = 0.02 exactly (0.1 * 0.2 is 0.020000000000000004), then 0.004; at 0.004 <= 0.005 it stops
    assert trainer.history["lr"] == [0.1, 0.1, 0.02, 0.004]
    assert plateau.stopped_epoch == 3 and trainer.history.stopped_early


def test_the_rule_judges_with_the_same_comparisons_as_scikit_learn():
    rule = Improvement(-1.0, tol=0.1, inclusive=True)  # scikit-learn's training-loss rule
    assert rule.step(1.0) == (True, True)
    assert rule.step(0.95) == (False, True)  # better, but by less than tol: counted, and the new best
    assert rule.wait == 1 and rule.best == -0.95
    with pytest.raises(ValueError, match="tol must be >= 0"):
        Improvement(1.0, tol=-1.0)


def test_the_estimators_stop_through_the_engines_callbacks():
    clf = MLPClassifier(hidden_layer_sizes=(4,), solver="sgd", tol=0.5, n_iter_no_change=1, max_iter=50,
                        random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning: a rule stopped it
        clf.fit(X, y)
    assert clf.n_iter_ == 3 and clf._no_improvement_count == 2
    assert clf.history_.stopped_early  # recorded by EarlyStopping, as for any Trainer
    early = MLPClassifier(hidden_layer_sizes=(4,), early_stopping=True, tol=0.5, n_iter_no_change=1,
                          max_iter=50, random_state=0).fit(X, y)  # fmt: skip
    assert early.history_.stopped_early and early.history_.best_epoch == 0
