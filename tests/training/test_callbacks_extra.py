"""The callbacks practitioners expect: ReduceLROnPlateau, GradientClipping, CSVLogger, EpochScoring, the
TerminateOnNaN behaviour of the divergence rule, and Optuna pruning."""

import csv
import sys

import numpy as np
import pytest

from glassnet.callbacks import (
    Callback,
    CSVLogger,
    EpochScoring,
    GradientClipping,
    ModelCheckpoint,
    OptunaPruning,
    ReduceLROnPlateau,
)
from glassnet.checkpoint import list_checkpoints, load_checkpoint, resume
from glassnet.exceptions import TrainingDivergedError
from glassnet.metrics import accuracy_score
from glassnet.mlp import build_mlp
from glassnet.optim import SGD, Adam
from glassnet.schedules import StepLR
from glassnet.training import Trainer

rng = np.random.default_rng(0)
X = rng.normal(size=(80, 4)).astype(np.float32)
y = (X[:, 0] - X[:, 1] > 0).astype(int)


def net(seed=0):
    return build_mlp([4, 10, 2], seed=seed)


class Feed(Callback):
    """Puts a made-up value in each epoch's logs (for a monitor to watch)."""

    def __init__(self, name, values):
        self.name, self.values = name, list(values)

    def on_epoch_end(self, trainer, epoch, logs):
        logs[self.name] = self.values[epoch]


# --- ReduceLROnPlateau ---------------------------------------------------------------------------------------


def test_reduce_lr_on_plateau_changes_the_rate_the_trainer_uses():
    plateau = ReduceLROnPlateau("fake", factor=0.5, patience=2, min_delta=0.0)
    values = [3.0, 2.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0]
    trainer = Trainer(net(), SGD(0.1), batch_size=20, seed=0, callbacks=[Feed("fake", values), plateau])
    trainer.fit(X, y, epochs=8)
    # epochs 2 and 3 do not improve on 2.0: reduced after epoch 3, again after epoch 5
    assert trainer.history["lr"] == [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    assert plateau.reductions == [(3, 0.05), (5, 0.025)]
    assert trainer.optimizer.lr == 0.025  # what the last step used


def test_reduce_lr_on_plateau_min_lr_cooldown_and_mode_max():
    plateau = ReduceLROnPlateau("val_accuracy", factor=0.1, patience=1, cooldown=2, min_lr=0.003)
    assert plateau.sign == 1.0  # an accuracy is maximised
    trainer = Trainer(
        net(), SGD(0.1), batch_size=20, seed=0, callbacks=[Feed("val_accuracy", [0.5] * 8), plateau]
    )
    trainer.fit(X, y, epochs=8)
    # reduced after epoch 1; the cooldown counts down in epochs 2 and 3 (as Keras counts it), so epoch 3
    # waits again; reduced to the floor after it; never below it
    assert trainer.history["lr"] == [0.1, 0.1] + [pytest.approx(0.01)] * 2 + [0.003] * 4


def test_reduce_lr_on_plateau_lasts_with_a_schedule_that_recomputes_the_rate():
    plateau = ReduceLROnPlateau("fake", factor=0.5, patience=1, min_delta=0.0)
    schedule = StepLR(0.1, step_size=100)  # recomputes lr = lr0 * gamma^k after every epoch
    trainer = Trainer(net(), SGD(0.1), schedule=schedule, batch_size=20, seed=0,
                      callbacks=[Feed("fake", [1.0] * 4), plateau])  # fmt: skip
    trainer.fit(X, y, epochs=4)
    assert trainer.history["lr"] == [0.1, 0.1, 0.05, 0.025]


def test_reduce_lr_on_plateau_val_loss_needs_validation_data():
    trainer = Trainer(net(), SGD(0.1), batch_size=20, seed=0, callbacks=[ReduceLROnPlateau()])
    with pytest.raises(ValueError, match="monitors 'val_loss'.*validation_data"):
        trainer.fit(X, y, epochs=1)
    trainer = Trainer(net(), SGD(0.1), batch_size=20, seed=0, validation_data=(X, y),
                      callbacks=[ReduceLROnPlateau(patience=0, min_delta=10.0)])  # fmt: skip
    trainer.fit(X, y, epochs=4)  # after the first, every epoch counts as no improvement (min_delta is huge)
    assert trainer.history["lr"] == [0.1, 0.1, pytest.approx(0.01), pytest.approx(0.001)]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_reduce_lr_on_plateau_from_an_estimator():
    from glassnet import MLPClassifier

    plateau = ReduceLROnPlateau(patience=0, min_delta=10.0)
    clf = MLPClassifier(
        hidden_layer_sizes=(6,), solver="sgd", max_iter=4, random_state=0, learning_rate_init=0.1
    )
    clf.fit(X, y, eval_set=(X, y), callbacks=[plateau])
    assert clf.history_["lr"] == [0.1, 0.1, pytest.approx(0.01), pytest.approx(0.001)]
    assert clf._optimizer.lr == pytest.approx(0.001)


# --- GradientClipping -----------------------------------------------------------------------------------------


def test_gradient_clipping_rescales_the_step_to_max_norm():
    model = net()
    before = model.flat_params.copy()
    model.loss_and_grad(X, model.loss.prepare_targets(y, model.dtype), None, n_samples=len(X), check=False)
    g = model.flat_grads.astype(np.float64).copy()
    norm = np.sqrt(g @ g)
    clip = GradientClipping(max_norm=norm / 4)
    trainer = Trainer(model, SGD(1.0), batch_size=None, seed=0, callbacks=[clip])
    trainer.fit(X, y, epochs=1)
    step = model.flat_params.astype(np.float64) - before
    np.testing.assert_allclose(step, -g * (norm / 4) / (norm + 1e-6), rtol=1e-4, atol=1e-7)
    assert np.sqrt(step @ step) == pytest.approx(norm / 4, rel=1e-4)
    assert trainer.history["grad_norm"] == [pytest.approx(norm, rel=1e-5)]
    assert clip.n_clipped == 1


def test_gradient_clipping_above_the_norm_changes_nothing():
    plain = Trainer(net(), Adam(0.01), batch_size=16, seed=0)
    plain.fit(X, y, epochs=3)
    clipped = Trainer(net(), Adam(0.01), batch_size=16, seed=0, callbacks=[GradientClipping(1e9)])
    clipped.fit(X, y, epochs=3)
    np.testing.assert_array_equal(plain.net.flat_params, clipped.net.flat_params)


def test_gradient_clipping_needs_one_process():
    trainer = Trainer(net(), SGD(0.1), batch_size=16, seed=0, n_jobs=2, callbacks=[GradientClipping(1.0)])
    with pytest.raises(ValueError, match="GradientClipping needs n_jobs=1"):
        trainer.fit(X, y, epochs=1)
    with pytest.raises(ValueError, match="max_norm"):
        GradientClipping(0.0)


# --- CSVLogger and EpochScoring -------------------------------------------------------------------------------


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def test_csv_logger_writes_every_recorded_value(tmp_path):
    half = (X[:40], y[:40])
    scoring = EpochScoring({"acc": "accuracy", "ones": lambda net, X, y: 1.0}, data=half, prefix="half_")
    path = tmp_path / "log.csv"
    trainer = Trainer(net(), Adam(0.01), batch_size=16, seed=0, validation_data=(X, y),
                      callbacks=[scoring, GradientClipping(100.0), CSVLogger(path)])  # fmt: skip
    trainer.fit(X, y, epochs=4)
    header, rows = read_csv(path)
    records = {k: v for k, v in trainer.history.records.items() if v}
    assert header == ["epoch", *records]
    assert {"loss", "val_loss", "val_score", "lr", "time", "half_acc", "half_ones", "grad_norm"} <= set(
        header
    )
    assert [r[0] for r in rows] == ["1", "2", "3", "4"]
    for j, key in enumerate(header[1:], start=1):
        assert [float(r[j]) for r in rows] == records[key]  # full precision
    assert trainer.history["half_acc"][-1] == accuracy_score(trainer.net, *half)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]  # written atomically, no temporaries


def test_csv_logger_of_a_resumed_run_has_every_epoch(tmp_path):
    def make(folder):
        return Trainer(net(), Adam(0.01), batch_size=16, seed=0,
                       callbacks=[ModelCheckpoint(folder, every=3), CSVLogger(folder / "log.csv")])  # fmt: skip

    straight = make(tmp_path / "a")
    straight.fit(X, y, epochs=5)
    make(tmp_path / "b").fit(X, y, epochs=3)
    again = make(tmp_path / "b")
    resume(again, tmp_path / "b")
    again.fit(X, y, epochs=2)
    _, rows_a = read_csv(tmp_path / "a" / "log.csv")
    _, rows_b = read_csv(tmp_path / "b" / "log.csv")
    assert [r[:2] for r in rows_b] == [r[:2] for r in rows_a]  # epoch and loss, bit for bit


def test_epoch_scoring_needs_data_and_known_names():
    with pytest.raises(ValueError, match="needs data"):
        Trainer(net(), SGD(0.1), batch_size=16, callbacks=[EpochScoring(["accuracy"])]).fit(X, y, epochs=1)
    with pytest.raises(ValueError, match="unknown scorer 'f1'"):
        Trainer(net(), SGD(0.1), batch_size=16, callbacks=[EpochScoring(["f1"], data=(X, y))]).fit(
            X, y, epochs=1
        )
    with pytest.raises(TypeError, match="scorers"):
        EpochScoring({})


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_epoch_scoring_with_scikit_learn_scorers_and_scoring_monitor():
    from sklearn.callback import ScoringMonitor
    from sklearn.metrics import f1_score, log_loss

    from glassnet import MLPClassifier

    labels = np.array(["no", "yes"])[y]
    scoring = EpochScoring(["accuracy", "f1_macro", "neg_log_loss"], data=(X, labels))
    monitor = ScoringMonitor(scoring="accuracy")
    clf = MLPClassifier(
        hidden_layer_sizes=(6,), dropout=0.3, max_iter=4, random_state=0, learning_rate_init=0.05
    )
    clf.set_callbacks(monitor).fit(X, labels, callbacks=[scoring])
    history = clf.history_
    assert len(history["val_accuracy"]) == len(history["val_f1_macro"]) == 4
    assert history["val_accuracy"][-1] == clf.score(X, labels)  # scored without dropout
    assert history["val_f1_macro"][-1] == pytest.approx(f1_score(labels, clf.predict(X), average="macro"))
    assert history["val_neg_log_loss"][-1] == pytest.approx(-log_loss(labels, clf.predict_proba(X)))
    rows = [row for row in monitor.get_logs().data if row["task_name"] == "epoch"]
    assert [row["accuracy"] for row in rows] == pytest.approx(history["val_accuracy"])


# --- TerminateOnNaN: the divergence rule ----------------------------------------------------------------------


def test_a_nan_loss_ends_the_fit_and_no_checkpoint_holds_it(tmp_path):
    big = X * np.float32(1e4)
    trainer = Trainer(net(), SGD(10.0, momentum=0.9), batch_size=16, seed=0, divergence_factor=None,
                      callbacks=[ModelCheckpoint(tmp_path, every=1)])  # fmt: skip
    with pytest.raises(TrainingDivergedError, match="diverged"):
        trainer.fit(big, y, epochs=50)
    assert np.all(np.isfinite(trainer.net.flat_params))  # the weights from before the trouble
    for path in list_checkpoints(tmp_path):
        ckpt = load_checkpoint(path)
        assert all(np.all(np.isfinite(a)) for name, a in ckpt.arrays.items() if name.startswith("net/"))
        assert all(np.isfinite(ckpt.history["loss"]))


# --- Optuna ---------------------------------------------------------------------------------------------------


def objective_for(epochs, records):
    def objective(trial):
        lr = trial.suggest_float("lr", 1e-3, 1e-1, log=True)
        trainer = Trainer(net(), Adam(lr), batch_size=16, seed=0, validation_data=(X, y),
                          callbacks=[OptunaPruning(trial, monitor="val_loss")])  # fmt: skip
        records.append(trainer.history)
        trainer.fit(X, y, epochs=epochs)
        return trainer.history["val_loss"][-1]

    return objective


def test_optuna_pruning_prunes_and_reports():
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    records = []
    pruned = optuna.create_study(
        sampler=optuna.samplers.RandomSampler(seed=0), pruner=optuna.pruners.ThresholdPruner(upper=1e-6)
    )
    pruned.optimize(objective_for(5, records), n_trials=2)
    assert [t.state for t in pruned.trials] == [optuna.trial.TrialState.PRUNED] * 2
    assert [h.epochs for h in records] == [1, 1]  # stopped at the first report
    records.clear()
    kept = optuna.create_study(
        sampler=optuna.samplers.RandomSampler(seed=0), pruner=optuna.pruners.NopPruner()
    )
    kept.optimize(objective_for(3, records), n_trials=2)
    assert [t.state for t in kept.trials] == [optuna.trial.TrialState.COMPLETE] * 2
    trial = kept.trials[0]
    assert [trial.intermediate_values[k] for k in range(3)] == records[0]["val_loss"]


def test_optuna_pruning_without_optuna_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(ImportError, match="pip install optuna"):
        OptunaPruning(trial=None)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_epoch_scoring_scores_an_estimators_validation_rows_by_default():
    from glassnet import MLPClassifier

    labels = np.array(["no", "yes"])[y]
    X_val, y_val = X[:30], labels[:30]
    ones = lambda net, X, Y: float(np.all((Y == 0) | (Y == 1)))  # noqa: E731 - the network's targets: indices
    clf = MLPClassifier(hidden_layer_sizes=(6,), max_iter=3, random_state=0)
    clf.fit(
        X, labels, eval_set=(X_val, y_val), callbacks=[EpochScoring({"acc": "accuracy", "indices": ones})]
    )
    assert clf.history_["val_acc"][-1] == clf.score(X_val, y_val)
    assert clf.history_["val_indices"] == [1.0, 1.0, 1.0]


# --- batch hooks and stopping mid-epoch --------------------------------------------------------------------------


class BatchLog(Callback):
    """Records the batch hooks' calls; asks to stop after batch ``stop_at`` of the second epoch."""

    def __init__(self, stop_at=None):
        self.calls, self.stop_at = [], stop_at

    def on_batch_begin(self, trainer, batch, logs):
        self.calls.append(("begin", trainer.epoch, batch, logs["size"]))

    def on_batch_end(self, trainer, batch, logs):
        self.calls.append(("end", trainer.epoch, batch, logs["size"]))
        if trainer.epoch == 1 and batch == self.stop_at:
            trainer.stop_training = True


def test_on_batch_begin_comes_before_each_step_and_matches_its_end():
    log = BatchLog()
    Trainer(net(), Adam(0.01), batch_size=32, seed=0, callbacks=[log]).fit(X, y, epochs=2)
    sizes = [32, 32, 16]  # 80 rows
    expected = [(hook, e, b, n) for e in range(2) for b, n in enumerate(sizes) for hook in ("begin", "end")]
    assert log.calls == expected


def test_stop_training_in_a_batch_hook_ends_the_epoch_after_that_batch():
    log = BatchLog(stop_at=0)
    trainer = Trainer(
        net(), Adam(0.01), batch_size=32, seed=0, callbacks=[log], validation_data=(X[:20], y[:20])
    )
    history = trainer.fit(X, y, epochs=5)
    assert [c[1:3] for c in log.calls if c[0] == "end"] == [(0, 0), (0, 1), (0, 2), (1, 0)]
    assert len(history["loss"]) == 2 and len(history["val_loss"]) == 2  # the cut epoch is recorded
    assert trainer.optimizer.t == 4  # 3 steps, then 1
