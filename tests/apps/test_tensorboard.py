"""The TensorBoard callback: event files read back with TensorBoard's own reader."""

import numpy as np
import pytest

pytest.importorskip("tensorboard")

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

from glassnet.integrations import TensorBoard  # noqa: E402
from glassnet.integrations.tensorboard import histogram  # noqa: E402
from glassnet.mlp import build_mlp  # noqa: E402
from glassnet.optim import Adam  # noqa: E402
from glassnet.training import Trainer  # noqa: E402

rng = np.random.default_rng(0)
X = rng.normal(size=(60, 4)).astype(np.float32)
y = (X[:, 0] - X[:, 1] > 0).astype(int)


def read(folder):
    events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0})
    events.Reload()
    return events


def test_trainer_scalars_and_histograms_read_back_with_tensorboard(tmp_path):
    net = build_mlp([4, 8, 2], seed=0)
    board = TensorBoard(tmp_path / "run", histogram_freq=2, bins=10)
    trainer = Trainer(
        net, Adam(0.01), batch_size=20, seed=0, validation_data=(X[:20], y[:20]), callbacks=[board]
    )
    history = trainer.fit(X, y, epochs=5)
    events = read(tmp_path / "run")
    tags = events.Tags()
    assert {"loss", "val_loss", "val_score", "lr", "time"} <= set(tags["scalars"])
    loss = events.Scalars("loss")
    assert [e.step for e in loss] == [1, 2, 3, 4, 5]
    np.testing.assert_allclose([e.value for e in loss], history["loss"], rtol=1e-6)
    np.testing.assert_allclose(
        [e.value for e in events.Scalars("val_score")], history["val_score"], rtol=1e-6
    )
    assert set(tags["histograms"]) == {"layers.0.W", "layers.0.b", "layers.2.W", "layers.2.b"}
    # every 2 epochs, and the last epoch's weights at the end
    assert [e.step for e in events.Histograms("layers.0.W")] == [2, 4, 5]
    last = events.Histograms("layers.2.W")[-1].histogram_value
    W = net.parameters()["layers.2.W"].astype(np.float64)
    assert last.num == W.size and sum(last.bucket) == W.size
    assert last.min == pytest.approx(W.min()) and last.max == pytest.approx(W.max())
    assert last.sum == pytest.approx(W.sum(), rel=1e-6)
    assert last.sum_squares == pytest.approx((W**2).sum(), rel=1e-6)


def test_estimator_fit_and_partial_fit_continue_the_steps(tmp_path):
    from glassnet.estimators import MLPClassifier

    board = TensorBoard(tmp_path, histogram_freq=0)
    clf = MLPClassifier(hidden_layer_sizes=(6,), max_iter=3, random_state=0, batch_size=20)
    with pytest.warns(Warning):  # not converged in 3 epochs
        clf.fit(X, y, callbacks=[board])
    clf.partial_fit(X, y, callbacks=[board])
    clf.partial_fit(X, y, callbacks=[board])
    events = read(tmp_path)
    loss = events.Scalars("loss")
    assert [e.step for e in loss] == [1, 2, 3, 4, 5]
    np.testing.assert_allclose([e.value for e in loss], clf.loss_curve_, rtol=1e-6)
    assert events.Tags()["histograms"] == []  # histogram_freq=0


def test_histogram_buckets_follow_tensorboards_convention():
    h = histogram(np.array([0.0, 1.0, 1.0, 2.0, np.nan, np.inf]), bins=2)
    assert h["num"] == 4 and h["min"] == 0.0 and h["max"] == 2.0  # non-finite values left out
    assert h["bucket_limit"] == [1.0, 2.0] and h["bucket"] == [1.0, 3.0]
    assert h["sum"] == 4.0 and h["sum_squares"] == 6.0
    constant = histogram(np.zeros(5))
    assert constant["bucket"] == [5.0] and constant["num"] == 5.0
    assert histogram(np.array([np.nan]))["num"] == 0.0


@pytest.mark.parametrize(
    "kwargs, message",
    [({"histogram_freq": -1}, "histogram_freq"), ({"histogram_freq": 1.5}, "histogram_freq"),
     ({"bins": 0}, "bins"), ({"flush_secs": 0}, "flush_secs")],
)  # fmt: skip
def test_bad_settings_are_refused(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        TensorBoard(tmp_path, **kwargs)


def test_a_file_in_place_of_the_folder_is_reported_before_training(tmp_path):
    blocker = tmp_path / "run"
    blocker.write_text("not a folder")
    trainer = Trainer(build_mlp([4, 8, 2], seed=0), Adam(0.01), callbacks=[TensorBoard(blocker)])
    with pytest.raises(NotADirectoryError, match="not a folder"):
        trainer.fit(X, y, epochs=2)
    assert trainer.history.epochs == 0


def test_without_tensorboard_the_error_names_the_extra(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "tensorboard.summary.writer.event_file_writer", None)
    with pytest.raises(ImportError, match=r"pip install 'glassnet\[tensorboard\]'"):
        TensorBoard(tmp_path)
