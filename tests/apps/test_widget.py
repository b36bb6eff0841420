"""glassnet.widget without a browser: the payloads, the callback's updates and throttling, the playground cell.

The widget's drawing in a real JupyterLab is tested in test_widget_browser.py.
"""

import math
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("anywidget")

from glassnet.callbacks import Callback  # noqa: E402
from glassnet.network import build_mlp  # noqa: E402
from glassnet.optim import SGD, Adam  # noqa: E402
from glassnet.training import Trainer  # noqa: E402
from glassnet.widget import FitWidget, LiveFit  # noqa: E402
from glassnet.widget import live as live_module  # noqa: E402
from glassnet.widget.payload import (  # noqa: E402
    PALETTE,
    DecisionMap,
    curve,
    first_dense_weights,
    image_shape_for,
    weight_tiles,
)

ROOT = Path(__file__).resolve().parents[2]
EVERY = {"max_rate": math.inf, "budget": 1.0}  # an update at every hook: counts are exact


def moons(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    return X, y


def fit(net, X, y, callbacks, epochs=3, batch_size=40, **kwargs):
    trainer = Trainer(net, Adam(0.01), batch_size=batch_size, seed=0, callbacks=callbacks, **kwargs)
    trainer.fit(X, y, epochs=epochs)
    return trainer


def rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)


# --- payloads ------------------------------------------------------------------------------------------------


def test_curve_thins_to_max_points_keeping_the_last_and_turns_nan_into_none():
    values = list(np.arange(1000.0))
    c = curve(values, max_points=400)
    assert len(c["x"]) <= 400 and c["x"][0] == 1 and c["x"][-1] == 1000 and c["y"][-1] == 999.0
    assert c["x"] == sorted(set(c["x"]))
    assert curve([1.0, float("nan"), float("inf"), 2.0]) == {"x": [1, 2, 3, 4], "y": [1.0, None, None, 2.0]}
    assert curve([]) == {"x": [], "y": []}


def test_image_shape_auto_explicit_and_never():
    assert image_shape_for(64) == (8, 8) and image_shape_for(784) == (28, 28)
    assert image_shape_for(2) is None and image_shape_for(4) is None and image_shape_for(49) is None  # 7 x 7
    assert image_shape_for(65) is None
    assert image_shape_for(64, (4, 16)) == (4, 16)
    assert image_shape_for(784, None) is None
    with pytest.raises(ValueError, match=r"height \* width == 64"):
        image_shape_for(64, (8, 9))
    with pytest.raises(ValueError, match="'auto', None or"):
        image_shape_for(64, "square")


def test_weight_tiles_map_zero_to_128_and_each_unit_to_its_own_scale():
    W = np.array([[0.0, 1.0, -1.0, 0.5], [0.0, 0.0, 0.0, 0.0], [2.0, -4.0, 0.0, 4.0]], dtype=np.float32)
    tiles = np.frombuffer(weight_tiles(W, (2, 2), max_units=2), dtype=np.uint8).reshape(2, 2, 2)
    assert tiles[0].tolist() == [[128, 255], [0, 191]]
    assert tiles[1].tolist() == [[128, 128], [128, 128]]  # an all-zero unit: no division by zero
    all_three = np.frombuffer(weight_tiles(W, (2, 2), max_units=16), dtype=np.uint8).reshape(3, 4)
    assert all_three[2].tolist() == [191, 0, 128, 255]


def test_first_dense_weights_is_the_first_layers_W():
    net = build_mlp([5, 3, 2], seed=0)
    assert first_dense_weights(net) is net.layers[0].params["W"] and first_dense_weights(net).shape == (3, 5)


def test_decision_map_covers_the_data_with_a_margin_and_thins_the_points():
    X, y = moons(1000)
    m = DecisionMap(X, y, "multiclass", resolution=16, max_points=300)
    x0, x1, y0, y1 = m.extent
    span = X.max(axis=0) - X.min(axis=0)
    assert x0 == pytest.approx(X[:, 0].min() - 0.1 * span[0]) and x1 == pytest.approx(
        X[:, 0].max() + 0.1 * span[0]
    )
    assert y0 == pytest.approx(X[:, 1].min() - 0.1 * span[1]) and y1 == pytest.approx(
        X[:, 1].max() + 0.1 * span[1]
    )
    assert m.grid.shape == (256, 2)
    assert m.grid[0, 1] > m.grid[-1, 1] and m.grid[0, 0] < m.grid[15, 0]  # top row first, left to right
    assert 250 <= len(m.points) <= 300
    assert all(0 <= u <= 1 and 0 <= v <= 1 and c in PALETTE[:2] for u, v, c in m.points)
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        DecisionMap(np.zeros((5, 3)), None, "multiclass")
    with pytest.raises(ValueError, match="NaN or infinite"):
        DecisionMap(np.array([[0.0, 1.0], [np.nan, 2.0]]), None, "multiclass")
    sparse = pytest.importorskip("scipy.sparse")
    assert DecisionMap(sparse.csr_matrix(X), y, "multiclass", resolution=16).extent == m.extent


def _sign_net(n_outputs: int, loss: str):
    """A network whose logits are (-x0, x0) (two outputs) or x0 (one): class 1 right of x0 = 0."""
    net = build_mlp([2, n_outputs], loss=loss, seed=0)
    W = net.layers[0].params["W"]
    W[...] = [[-10.0, 0.0], [10.0, 0.0]] if n_outputs == 2 else [[10.0, 0.0]]
    net.layers[0].params["b"][...] = 0.0
    return net


@pytest.mark.parametrize("n_outputs, loss, task", [(2, "softmax_cross_entropy", "multiclass"),
                                                   (1, "sigmoid_binary_cross_entropy", "multilabel")])  # fmt: skip
def test_decision_map_colours_cells_by_the_winning_class(n_outputs, loss, task):
    X = np.array([[-1.0, -1.0], [1.0, 1.0]])
    m = DecisionMap(X, np.array([0, 1]), task, resolution=10)
    cells = (
        np.frombuffer(m.render(_sign_net(n_outputs, loss)), dtype=np.uint8).reshape(10, 10, 3).astype(float)
    )
    white = np.full(3, 255.0)
    # a sure cell: white + (class colour - white) * 0.55
    assert cells[5, 0] == pytest.approx(np.rint(white + (rgb(PALETTE[0]) - white) * 0.55), abs=1)
    assert cells[5, 9] == pytest.approx(np.rint(white + (rgb(PALETTE[1]) - white) * 0.55), abs=1)
    assert [c for _, _, c in m.points] == [PALETTE[0], PALETTE[1]]


def test_decision_map_of_a_regression_runs_blue_to_orange():
    X = np.array([[-1.0, 0.0], [1.0, 0.0]])
    net = build_mlp([2, 1], loss="squared_error", seed=0)
    net.layers[0].params["W"][...] = [[1.0, 0.0]]
    m = DecisionMap(X, np.array([-1.0, 1.0]), "regression", resolution=8)
    cells = np.frombuffer(m.render(net), dtype=np.uint8).reshape(8, 8, 3).astype(float)
    assert np.argmax(cells[4, 0] - cells[4, 0].min()) == 2 and np.argmax(cells[4, 7]) == 0  # bluish, orange
    assert m.points[0][2] == "#2f74c0" and m.points[1][2] == "#e07b39"


# --- the callback: what it sends -----------------------------------------------------------------------------


def test_two_feature_fit_sends_curves_epoch_and_a_decision_map_but_no_weights():
    X, y = moons()
    live = LiveFit(data=(X, y), map_resolution=12, **EVERY)
    fit(build_mlp([2, 8, 2], seed=0), X, y, [live], epochs=4, validation_data=(X, y))
    w = live.widget
    assert (w.status, w.epoch, w.title) == ("done", 4, "network 2-8-2, softmax_cross_entropy")
    assert set(w.curves) == {"loss", "val_loss", "val_score"} and w.curves["loss"]["x"] == [1, 2, 3, 4]
    assert w.curves["loss"]["y"] == pytest.approx(live.records["loss"])
    assert w.map_size == 12 and len(w.map_rgb) == 12 * 12 * 3 and len(w.map_points) == len(X)
    assert (
        w.weights == b"" and w.weights_shape == [0, 0, 0] and w.note == "" and w.map_title == "decision map"
    )
    assert w.updates == live.updates
    regression = LiveFit(data=(X, X[:, :1]), **EVERY)
    fit(build_mlp([2, 8, 1], loss="squared_error", seed=0), X, X[:, :1], [regression], epochs=1)
    assert (
        regression.widget.map_title == "output (blue low, orange high)" and regression.widget.map_size == 40
    )


def test_image_fit_sends_the_first_layers_weights_as_pictures_and_no_map():
    rng = np.random.default_rng(1)
    X, y = rng.random((60, 64)).astype(np.float32), rng.integers(0, 3, 60)
    net = build_mlp([64, 20, 3], seed=0)
    live = LiveFit(max_units=12, **EVERY)
    fit(net, X, y, [live], epochs=2)
    w = live.widget
    assert w.weights_shape == [12, 8, 8] and len(w.weights) == 12 * 64 and w.map_size == 0
    expected = weight_tiles(net.layers[0].params["W"], (8, 8), 12)
    assert w.weights == expected  # the weights after the last step
    live = LiveFit(image_shape=(4, 16), **EVERY)
    fit(build_mlp([64, 20, 3], seed=0), X, y, [live], epochs=1)
    assert live.widget.weights_shape == [16, 4, 16]
    live = LiveFit(image_shape=None, **EVERY)
    fit(build_mlp([64, 20, 3], seed=0), X, y, [live], epochs=1)
    assert live.widget.weights == b"" and live.widget.weights_shape == [0, 0, 0]
    with pytest.raises(ValueError, match=r"height \* width == 64"):
        fit(build_mlp([64, 20, 3], seed=0), X, y, [LiveFit(image_shape=(5, 5))], epochs=1)


def test_neither_map_nor_pictures_for_other_inputs():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(50, 5)), rng.integers(0, 2, 50)
    live = LiveFit(**EVERY)
    fit(build_mlp([5, 4, 2], seed=0), X, y, [live], epochs=2)
    w = live.widget
    assert w.map_size == 0 and w.map_rgb == b"" and w.weights == b"" and w.note == ""
    assert w.curves["loss"]["x"] == [1, 2] and w.epoch == 2


def test_two_features_without_data_say_how_to_get_the_map_and_validation_data_is_used():
    X, y = moons()
    live = LiveFit(**EVERY)
    fit(build_mlp([2, 4, 2], seed=0), X, y, [live], epochs=1)
    assert live.widget.map_size == 0 and "LiveFit(data=(X, y))" in live.widget.note
    live = LiveFit(**EVERY)
    fit(build_mlp([2, 4, 2], seed=0), X, y, [live], epochs=1, validation_data=(X[:30], y[:30]))
    assert live.widget.map_size == 40 and len(live.widget.map_points) == 30 and live.widget.note == ""


def test_an_estimators_fit_draws_its_validation_rows_and_partial_fit_continues_the_curves():
    from glassnet.estimators import MLPClassifier

    X, y = moons(200)
    live = LiveFit(**EVERY)
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, early_stopping=True, validation_fraction=0.25,
                        n_iter_no_change=50, random_state=0)  # fmt: skip
    with pytest.warns(UserWarning, match="Maximum iterations"):
        clf.fit(X, y, callbacks=[live])
    assert live.widget.map_size == 40 and 45 <= len(live.widget.map_points) <= 55  # the validation quarter
    assert live.widget.epoch == 3 and live.widget.curves["loss"]["y"] == pytest.approx(clf.loss_curve_)
    assert live.widget.title == "MLPClassifier 2-8-1, sigmoid_binary_cross_entropy"  # one logit: 2 classes
    stream = LiveFit(**EVERY)
    clf = MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    for _ in range(3):
        clf.partial_fit(X, y, classes=[0, 1], callbacks=[stream])
    assert stream.widget.epoch == 3 and stream.widget.curves["loss"]["y"] == pytest.approx(clf.loss_curve_)


def test_watching_does_not_change_the_fit():
    X, y = moons()
    plain = build_mlp([2, 8, 8, 2], dropout=0.2, seed=0)
    watched = build_mlp([2, 8, 8, 2], dropout=0.2, seed=0)
    fit(plain, X, y, [], epochs=3)
    fit(watched, X, y, [LiveFit(data=(X, y), **EVERY)], epochs=3)
    np.testing.assert_array_equal(plain.flat_params, watched.flat_params)


def test_statuses_after_early_stop_and_interruption():
    X, y = moons()

    class StopNow(Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            trainer.stop_training = True
            trainer.history.stopped_early = True

    live = LiveFit(**EVERY)
    fit(build_mlp([2, 4, 2], seed=0), X, y, [live, StopNow()], epochs=5)
    assert live.widget.status == "stopped early" and live.widget.epoch == 1

    class CtrlC(Callback):
        def on_batch_end(self, trainer, batch, logs):
            raise KeyboardInterrupt

    live = LiveFit(**EVERY)
    fit(build_mlp([2, 4, 2], seed=0), X, y, [live, CtrlC()], epochs=5)
    assert live.widget.status == "interrupted" and live.widget.epoch == 0


def test_the_final_status_travels_with_the_final_numbers():
    """The page must never show "done" beside the numbers of an earlier update (the browser test raced)."""
    X, y = moons()
    live = LiveFit(max_rate=1e-3)
    sent = []
    live.widget._send = lambda msg, buffers=None: sent.append(msg)  # what would go to the browser
    fit(build_mlp([2, 4, 2], seed=0), X, y, [live], epochs=3)
    done = [m["state"] for m in sent if m.get("method") == "update" and m["state"].get("status") == "done"]
    assert len(done) == 1 and done[0]["epoch"] == 3 and done[0]["updates"] == live.updates


# --- throttling ---------------------------------------------------------------------------------------------


def test_unthrottled_it_sends_after_every_epoch_and_never_hooks_a_batch():
    X, y = moons(120)
    live = LiveFit(**EVERY)
    fit(build_mlp([2, 4, 2], seed=0), X, y, [live], epochs=3, batch_size=40)  # 3 batches an epoch
    assert live.updates == 1 + 3 + 1  # begin, every epoch, end


def test_watching_keeps_the_compiled_epoch():
    """A callback with on_batch_end sends the Trainer back to its Python loop (3x slower for small networks)."""
    from glassnet.training import compiled

    X, y = moons()
    plain = Trainer(build_mlp([2, 8, 2], seed=0), Adam(0.01), batch_size=40, seed=0)
    watched = Trainer(build_mlp([2, 8, 2], seed=0), Adam(0.01), batch_size=40, seed=0, callbacks=[LiveFit()])
    assert compiled.covers(watched) == compiled.covers(plain)
    assert not hasattr(LiveFit, "on_batch_end") or LiveFit.on_batch_end is Callback.on_batch_end


def test_throttled_it_sends_only_the_first_and_last_state_of_a_short_fit():
    X, y = moons(120)
    live = LiveFit(max_rate=1e-3)  # at most one update in 1000 s
    fit(build_mlp([2, 4, 2], seed=0), X, y, [live], epochs=3, batch_size=10)
    assert live.updates == 2 and live.widget.epoch == 3 and live.widget.status == "done"
    assert live.widget.curves["loss"]["x"] == [1, 2, 3]  # the last update carries every epoch


def test_the_next_update_waits_for_the_rate_or_the_budget(monkeypatch):
    X, y = moons(40)
    trainer = Trainer(build_mlp([2, 4, 2], seed=0), SGD(0.1), batch_size=40, seed=0)
    clock = iter([100.0, 100.01, 200.0, 200.5])  # two updates: one costs 10 ms, the next 500 ms
    monkeypatch.setattr(live_module.time, "perf_counter", lambda: next(clock))
    live = LiveFit(data=(X, y), max_rate=10.0, budget=0.02, display=False)
    live._send(trainer)
    assert live._next == pytest.approx(100.0 + max(0.1, 0.01 / 0.02))  # the budget: 0.5 s later
    live._send(trainer)
    assert live._next == pytest.approx(200.0 + 0.5 / 0.02)
    live = LiveFit(max_rate=4.0, budget=1.0, display=False)
    clock = iter([300.0, 300.001])
    live._send(trainer)
    assert live._next == pytest.approx(300.25)  # the rate: a quarter second later


# --- checks and the notebook ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, match", [
    ({"data": [1, 2]}, "data must be a tuple"),
    ({"max_rate": 0}, "max_rate must be a number in"),
    ({"max_rate": float("nan")}, "max_rate must be a number in"),
    ({"budget": 1.5}, "budget must be a number in"),
    ({"budget": True}, "budget must be a number in"),
    ({"map_resolution": 4}, r"map_resolution must be an integer in \[8, 200\]"),
    ({"max_units": 0}, r"max_units must be an integer in \[1, 64\]"),
    ({"display": "yes"}, "display must be 'auto', True or False"),
    ({"image_shape": 64}, "image_shape must be 'auto', None or"),
])  # fmt: skip
def test_bad_settings_are_refused_with_a_sentence(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LiveFit(**kwargs)


def test_outside_a_notebook_it_is_not_displayed_and_its_repr_shows_the_widget(capsys):
    X, y = moons()
    live = LiveFit(data=(X, y))
    fit(build_mlp([2, 4, 2], seed=0), X, y, [live], epochs=1)
    assert not live._shown and capsys.readouterr().out == ""  # nothing printed in a script
    bundle = live._repr_mimebundle_()
    assert live._shown and "application/vnd.jupyter.widget-view+json" in bundle[0]
    assert bundle[0]["application/vnd.jupyter.widget-view+json"]["model_id"] == live.widget.model_id


def test_the_browser_code_ships_in_the_package():
    esm, css = str(FitWidget._esm), str(FitWidget._css)
    assert "export default" in esm and "glassnet-live" in css
    assert "http://" not in esm and "https://" not in esm  # no CDN, nothing fetched
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"glassnet.widget" = ["static/*"]' in pyproject


def test_without_anywidget_the_import_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "anywidget", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "glassnet.widget.view")
    import importlib

    with pytest.raises(ImportError, match=r"pip install 'glassnet\[widget\]'"):
        importlib.import_module("glassnet.widget.view")


def test_playground_starts_once_in_the_kernel_and_is_framed_by_notebook_pages_only(monkeypatch):
    import glassnet.widget.notebook_playground as nbp
    from glassnet.playground.server import PlaygroundServer

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj.data))
    monkeypatch.setattr(nbp, "_server", None)
    server = nbp.playground()
    try:
        assert server.url.startswith("http://127.0.0.1:") and nbp.playground() is server  # one a kernel
        with urllib.request.urlopen(server.url, timeout=10) as answer:
            assert answer.status == 200 and b"<html" in answer.read().lower()
            assert answer.headers.get("X-Frame-Options") is None
            policies = answer.headers.get_all("Content-Security-Policy")
        assert "frame-ancestors 'self' http://127.0.0.1:* http://localhost:* vscode-webview:" in policies
        assert any("default-src 'self'" in policy for policy in policies)  # the playground's own still holds
        assert len(shown) == 2 and f'<iframe class="glassnet-playground" src="{server.url}"' in shown[0]
        with pytest.raises(ValueError, match="height must be an integer"):
            nbp.playground(height=50)
    finally:
        server.shutdown()
    with PlaygroundServer("127.0.0.1", 0).start() as other:  # a playground started otherwise: never framed
        assert not nbp._frameable(other.url)
    assert "new tab" in nbp._cell_html("http://127.0.0.1:1/", 500, False)
