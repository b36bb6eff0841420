"""Weight averaging (EMA and SWA): the averages' formulas step by step, when they start, what the fit keeps."""

import numpy as np
import pytest

from glassnet.nn.network import build_mlp
from glassnet.nn.optim import SGD
from glassnet.training.averaging import WeightAveraging
from glassnet.training.callbacks import Callback
from glassnet.training.trainer import Trainer


def _data(seed=0):
    X = np.random.default_rng(seed).normal(size=(48, 3))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


class Recorder(Callback):
    """The weights after every step and at the end of every epoch (before WeightAveraging's final swap)."""

    def __init__(self):
        self.steps, self.epochs = [], []

    def on_batch_end(self, trainer, batch, logs):
        self.steps.append(trainer.net.flat_params.copy())

    def on_epoch_end(self, trainer, epoch, logs):
        self.epochs.append(trainer.net.flat_params.copy())


def _fit(averaging, epochs=4, seed=0):
    X, y = _data()
    net = build_mlp([3, 5, 2], seed=seed)
    record = Recorder()
    Trainer(net, SGD(0.1), batch_size=16, seed=seed, callbacks=[record, averaging]).fit(X, y, epochs=epochs)
    return net, record


def test_swa_is_the_mean_of_the_end_of_epoch_weights_from_start():
    swa = WeightAveraging("swa", start=1)
    net, record = _fit(swa, epochs=4)
    expected = np.mean(record.epochs[1:], axis=0)
    np.testing.assert_allclose(net.flat_params, expected, rtol=1e-6, atol=1e-9)
    assert swa.n_averaged == 3


def test_ema_follows_its_recurrence_after_every_step():
    ema = WeightAveraging("ema", decay=0.9)
    net, record = _fit(ema, epochs=2)
    expected = record.steps[0].copy()
    for w in record.steps[1:]:
        expected = 0.9 * expected + 0.1 * w
    np.testing.assert_allclose(net.flat_params, expected, rtol=1e-6, atol=1e-9)
    assert ema.n_averaged == len(record.steps) == 2 * 3  # 48 rows in batches of 16


def test_ema_with_decay_zero_keeps_the_last_weights():
    net, record = _fit(WeightAveraging("ema", decay=0.0), epochs=2)
    np.testing.assert_array_equal(net.flat_params, record.steps[-1])


def test_start_after_the_last_epoch_changes_nothing_and_fits_are_reproducible():
    late = WeightAveraging("swa", start=10)
    net, record = _fit(late, epochs=3)
    np.testing.assert_array_equal(net.flat_params, record.epochs[-1])
    assert late.average is None
    a, _ = _fit(WeightAveraging("ema", decay=0.99), seed=3)
    b, _ = _fit(WeightAveraging("ema", decay=0.99), seed=3)
    np.testing.assert_array_equal(a.flat_params, b.flat_params)


def test_a_second_fit_starts_a_new_average():
    X, y = _data()
    net = build_mlp([3, 5, 2], seed=0)
    swa = WeightAveraging("swa")
    trainer = Trainer(net, SGD(0.1), batch_size=16, seed=0, callbacks=[swa])
    trainer.fit(X, y, epochs=2)
    trainer.fit(X, y, epochs=1)
    assert swa.n_averaged == 1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"method": "polyak"}, "method must be one of"),
        ({"decay": 1.0}, r"decay must be a float in \[0, 1\)"),
        ({"decay": True}, "decay must be"),
        ({"start": -1}, "start must be a non-negative int"),
        ({"start": 1.5}, "start must be"),
    ],
)
def test_bad_settings_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        WeightAveraging(**kwargs)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_estimator_parameter_averages_and_refuses_lbfgs():
    from glassnet import MLPClassifier

    X, y = _data()
    kwargs = dict(hidden_layer_sizes=(6,), max_iter=4, batch_size=16, random_state=0, n_jobs=1)
    plain = MLPClassifier(**kwargs).fit(X, y)
    swa = MLPClassifier(**kwargs, weight_averaging="swa", averaging_start=0.5).fit(X, y)
    assert not np.array_equal(plain.network_.flat_params, swa.network_.flat_params)
    again = MLPClassifier(**kwargs, weight_averaging="swa", averaging_start=0.5).fit(X, y)
    np.testing.assert_array_equal(swa.network_.flat_params, again.network_.flat_params)
    with pytest.raises(ValueError, match="weight_averaging"):
        MLPClassifier(weight_averaging="mean").fit(X, y)
    with pytest.raises(ValueError, match="stochastic solver"):
        MLPClassifier(solver="lbfgs", weight_averaging="ema").fit(X, y)


def test_only_ema_hooks_the_batches():
    """SWA leaves the loop's compiled epoch available (no per-step Python); EMA needs every step."""
    from glassnet.training.compiled import _hooks_batches

    assert not _hooks_batches(WeightAveraging("swa"))
    assert _hooks_batches(WeightAveraging("ema"))
