"""The training loop: learning, validation, early stopping, divergence, Ctrl-C, callbacks."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from glassnet.callbacks import Callback
from glassnet.exceptions import TrainingDivergedError
from glassnet.network import build_mlp
from glassnet.optim import SGD, Adam
from glassnet.schedules import CosineLR
from glassnet.training import Trainer, train_validation_split


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16.0, y[:600]


def test_minibatch_adam_learns_digits(digits):
    X, y = digits
    net = build_mlp([64, 64, 10], "relu", seed=0)
    trainer = Trainer(net, Adam(lr=0.01), batch_size=64, seed=0, validation_fraction=0.2)
    history = trainer.fit(X, y, epochs=15)
    assert history.epochs == 15
    assert history["loss"][-1] < history["loss"][0] / 5
    assert history["val_score"][-1] > 0.9
    assert len(history["val_loss"]) == 15 and not net.training


def test_own_validation_set_and_early_stopping_restores_best(digits):
    X, y = digits

    class Recorder(Callback):
        def on_train_begin(self, trainer):
            self.snapshots = []

        def on_epoch_end(self, trainer, epoch, logs):
            self.snapshots.append(trainer.net.flat_params.copy())

    rec = Recorder()
    net = build_mlp([64, 128, 10], "relu", seed=0)
    trainer = Trainer(
        net,
        Adam(lr=0.05),
        batch_size=32,
        seed=0,
        validation_data=(X[500:], y[500:]),
        early_stopping=True,
        patience=3,
        callbacks=[rec],
    )
    history = trainer.fit(X[:500], y[:500], epochs=200)
    assert history.stopped_early and history.epochs < 200
    best = int(np.argmax(history["val_score"]))
    assert history.best_epoch == best
    np.testing.assert_array_equal(net.flat_params, rec.snapshots[best])


def test_divergence_stops_with_a_clear_error_and_keeps_finite_weights(digits):
    X, y = digits
    net = build_mlp([64, 80, 70, 10], "logistic", seed=0)
    trainer = Trainer(net, SGD(lr=14.37), batch_size=None)  # the lab: 0.01 x 1437 summed = 14.37 mean
    with pytest.raises(TrainingDivergedError, match=r"diverged in epoch \d+.*smaller"):
        trainer.fit(X, y, epochs=50)
    assert np.all(np.isfinite(net.flat_params))
    net = build_mlp([64, 32, 10], "relu", seed=0)
    with pytest.raises(TrainingDivergedError, match="learning rate"):
        Trainer(net, SGD(lr=1e6), batch_size=50, seed=0).fit(X, y, epochs=5)
    assert np.all(np.isfinite(net.flat_params))


def test_an_overflowing_step_is_a_divergence_not_a_warning(digits):
    X, y = digits  # warnings are errors in this suite: a RuntimeWarning from the matmul would fail the test
    net = build_mlp([64, 16, 10], "relu", seed=0)
    before = net.flat_params.copy()
    with pytest.raises(TrainingDivergedError, match="loss became (inf|nan).*standardize the inputs"):
        Trainer(net, SGD(lr=0.1), batch_size=100, seed=0).fit(X * 3e37, y, epochs=2)
    np.testing.assert_array_equal(net.flat_params, before)


def test_keyboard_interrupt_keeps_weights(digits):
    X, y = digits

    class Interrupt(Callback):
        def on_batch_end(self, trainer, batch, logs):
            if trainer.epoch == 2 and batch == 1:
                raise KeyboardInterrupt

    net = build_mlp([64, 32, 10], "relu", seed=0)
    history = Trainer(net, Adam(lr=0.01), batch_size=100, seed=0, callbacks=[Interrupt()]).fit(
        X, y, epochs=10
    )
    assert history.interrupted and history.epochs == 2
    assert np.mean(net.predict(X) == y) > 0.5


def test_callbacks_see_every_batch_and_can_stop(digits):
    X, y = digits

    class Count(Callback):
        def __init__(self):
            self.batches, self.epochs = 0, 0

        def on_batch_end(self, trainer, batch, logs):
            self.batches += 1
            assert logs["size"] <= 128 and np.isfinite(logs["loss"])

        def on_epoch_end(self, trainer, epoch, logs):
            self.epochs += 1
            trainer.stop_training = epoch == 2

    count = Count()
    Trainer(build_mlp([64, 16, 10], seed=0), Adam(), batch_size=128, seed=0, callbacks=[count]).fit(X, y, 10)
    assert count.epochs == 3 and count.batches == 3 * 5


def test_schedule_drives_the_optimizer(digits):
    X, y = digits
    opt = Adam(lr=0.01)
    sched = CosineLR(0.01, total_steps=10, warmup_steps=2)
    history = Trainer(build_mlp([64, 16, 10], seed=0), opt, schedule=sched, batch_size=300, seed=0).fit(
        X, y, 5
    )
    assert history["lr"][0] == pytest.approx(0.01)  # after one warm-up step
    assert opt.lr == pytest.approx(sched._rate(9))


def test_sample_weight_and_regression(digits):
    X, _ = digits
    target = X[:, :3] * 2 - 1
    net = build_mlp([64, 32, 3], "tanh", loss="squared_error", seed=0)
    history = Trainer(net, Adam(lr=0.01), batch_size=50, seed=0, validation_fraction=0.25).fit(
        X, target, 30, sample_weight=np.ones(len(X))
    )
    assert history["val_score"][-1] > 0.8  # R^2


def test_bad_arguments(digits):
    X, y = digits
    net = build_mlp([64, 16, 10], seed=0)
    with pytest.raises(ValueError, match="rows"):
        Trainer(net, Adam()).fit(X, y[:10], 1)
    with pytest.raises(ValueError, match="batch_size"):
        Trainer(net, Adam(), batch_size=0)
    with pytest.raises(ValueError, match="epochs"):
        Trainer(net, Adam()).fit(X, y, 0)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 10\)"):
        Trainer(net, Adam()).fit(X, y + 5, 1)
    with pytest.raises(ValueError, match="NaN"):
        Trainer(net, Adam()).fit(np.full_like(X, np.nan), y, 1)
    with pytest.raises(ValueError, match="validation_fraction"):
        train_validation_split(X, y, 1.5, np.random.default_rng(0))


def test_augment_is_applied_to_training_batches_only(digits):
    X, y = digits
    seen = []

    def augment(Xb, rng):
        seen.append(len(Xb))
        return Xb + rng.normal(0, 0.01, Xb.shape).astype(Xb.dtype)

    net = build_mlp([64, 16, 10], seed=0)
    trainer = Trainer(net, Adam(lr=0.01), batch_size=200, seed=0, augment=augment, validation_fraction=0.25)
    history = trainer.fit(X, y, epochs=8)
    assert seen == [200, 200, 50] * 8  # 450 training rows per epoch; validation rows are never augmented
    assert history["val_score"][-1] > 0.7
