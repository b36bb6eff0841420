"""glassnet playground without a browser: data sets, settings, sessions, the script, and the HTTP API."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from glassnet.io import load_model
from glassnet.nn import functional as F
from glassnet.nn import register_activation
from glassnet.nn.layers import ActivationLayer, hidden_activations, unregister_activation
from glassnet.playground.config import ConfigError, validate_config
from glassnet.playground.datasets import DATASETS, make_dataset, parse_csv
from glassnet.playground.server import PlaygroundServer
from glassnet.playground.session import Session, SessionError, SessionManager
from glassnet.trace import trace_step

SMALL = {"n_samples": 120, "layers": "4:tanh:0", "batch_size": 10}


# --- data sets and settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_datasets_are_seeded_2d_problems(name):
    X_train, y_train, X_test, y_test = make_dataset(
        name, n_samples=90, noise=0.1, train_fraction=0.6, classes=3
    )
    assert X_train.shape == (54, 2) and X_test.shape == (36, 2) and X_train.dtype == np.float32
    k = DATASETS[name][2] or 3
    assert set(np.concatenate([y_train, y_test])) == set(range(k))
    again = make_dataset(name, n_samples=90, noise=0.1, train_fraction=0.6, classes=3)
    np.testing.assert_array_equal(again[0], X_train)
    assert not np.array_equal(
        make_dataset(name, n_samples=90, seed=1)[0], make_dataset(name, n_samples=90)[0]
    )


def test_csv_with_header_and_string_labels():
    X, y, names = parse_csv("x,y,label\n0,1,cat\n1,0,dog\n2,2,cat\n3,1,dog\n")
    assert names == ["cat", "dog"] and y.tolist() == [0, 1, 0, 1]
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-6)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "empty"),
        ("1,2,0\n3,4\n5,6,1\n7,8,0\n", "line 2: expected 3 columns"),
        ("1,2,0\n3,x,1\n5,6,1\n7,8,0\n9,9,1\n", "line 2: the first two columns must be numbers"),
        ("1,2,0\n3,nan,1\n5,6,1\n7,8,0\n", "line 2: NaN"),
        ("1,2,0\n3,4,0\n5,6,0\n7,8,0\n", "at least 2 classes"),
        ("1,2,0\n", "at least 4"),
    ],
)
def test_bad_csv_says_what_and_where(text, match):
    with pytest.raises(ValueError, match=match):
        parse_csv(text)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"layers": "8:softplus"}, "unknown activation 'softplus'"),
        ({"layers": "0:relu"}, "at least 1 unit"),
        ({"layers": "500:relu"}, "limit of 128"),
        ({"layers": ",".join(["4:relu"] * 11)}, "limit of 10"),
        ({"n_samples": 10**6}, r"n_samples must be in \[10, 5000\]"),
        ({"batch_size": 500}, "larger than the 60 training points"),
        ({"lr": float("nan")}, "finite"),
        ({"optimizer": "rmsprop"}, "Unknown optimizer"),
        ({"dataset": "mnist"}, "Unknown dataset"),
        ({"layers": "128:relu,128:relu,128:relu,128:relu,128:relu,128:relu,128:relu,128:relu,128:relu,128:relu,128:relu"},
         "limit of 10"),
        ({"layers": ",".join(["128:relu"] * 10), "n_samples": 200}, "parameters, more than"),
        ({"batch_norm": True, "batch_size": 1}, "at least 2"),
    ],
)  # fmt: skip
def test_settings_out_of_bounds_get_a_clear_message(change, match):
    with pytest.raises(ConfigError, match=match):
        validate_config({"n_samples": 120, **change})


# --- sessions and the script --------------------------------------------------------------------------------


def test_reset_gives_the_same_initial_weights_and_a_step_is_trace_step():
    session = Session("a", {**SMALL, "layers": "5:relu:0.2,3:gelu", "batch_norm": True})
    start = session.net.flat_params.copy()
    reference, optimizer = session.net.astype(session.net.dtype), session.optimizer
    schedule_lr = session.schedule.lr
    state = session.step(trace=True)
    assert state["step"] == 1 and state["batch_size"] == 10
    rows = np.array(state["rows"])
    reference.train()
    from glassnet.playground.build import build_optimizer

    ref_opt = build_optimizer(session.config)
    ref_opt.lr = schedule_lr
    ref = trace_step(reference, session.X_train[rows], session.y_train[rows], ref_opt, n_samples=60)
    assert state["loss"] == ref.loss
    np.testing.assert_array_equal(session.net.flat_params, reference.flat_params)
    assert optimizer is session.optimizer
    session.play()
    time.sleep(0.3)
    session.pause()
    assert session.steps > 1
    session.reset()
    np.testing.assert_array_equal(session.net.flat_params, start)
    assert session.steps == 0 and session.curves["epoch"] == [0]


@pytest.mark.parametrize(
    "config",
    [
        {**SMALL, "dataset": "moons", "optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "schedule": "step",
         "step_size": 2, "alpha": 0.01},
        {**SMALL, "dataset": "spirals", "classes": 3, "layers": "6:relu:0.3,4:logistic", "batch_norm": True,
         "optimizer": "adamw", "schedule": "cosine", "total_epochs": 5, "batch_size": 7, "seed": 3},
        {**SMALL, "dataset": "blobs", "classes": 4, "layers": "", "schedule": "adaptive", "optimizer": "adam"},
        {**SMALL, "dataset": "xor", "layers": "5:logistic,3:identity", "init": "he_normal", "schedule": "invscaling"},
    ],
)  # fmt: skip
def test_copy_as_python_takes_the_same_steps(config):
    session = Session("s", config)
    for _ in range(23):  # a few epochs and a part of one
        session.step(trace=False)
    namespace = {"__name__": "playground_script"}
    exec(compile(session.python(), "playground_script.py", "exec"), namespace)
    np.testing.assert_array_equal(namespace["net"].flat_params, session.net.flat_params)
    assert namespace["trainer"].epoch == session.epoch


def test_copy_as_python_runs_as_a_script(tmp_path):
    session = Session("s", {**SMALL, "dataset": "csv"}, csv_text="a,b,c\n" + "".join(
        f"{np.cos(t):.4f},{np.sin(t):.4f},{'in' if t < 3 else 'out'}\n" for t in np.linspace(0, 6, 40)))  # fmt: skip
    for _ in range(7):
        session.step(trace=False)
    (tmp_path / "data.csv").write_text(session.csv_text)
    script = tmp_path / "run.py"
    script.write_text(session.python() + "np.save('weights.npy', net.flat_params)\n")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "test accuracy" in done.stdout
    np.testing.assert_array_equal(np.load(tmp_path / "weights.npy"), session.net.flat_params)


def test_the_session_trains_through_the_trainer_however_the_page_drives_it():
    """Stepping, playing and pausing take the steps of one plain ``Trainer.fit``: two epochs of the session
    equal ``fit(epochs=2)`` of the same network, optimizer, schedule and batch order, bit for bit."""
    from glassnet.playground.build import build_network, build_optimizer, build_schedule, build_trainer

    config = {**SMALL, "layers": "5:relu:0.3,4:tanh", "batch_norm": True, "batch_size": 7, "schedule": "step",
              "step_size": 1, "optimizer": "sgd", "momentum": 0.9, "alpha": 0.01}  # fmt: skip
    session = Session("t", config)
    n = len(session.X_train)  # 60 rows: batches of 7, 7, ..., 4
    for _ in range(3):
        session.step(trace=False)
    session.play(steps_per_frame=1)  # the slowest speed: a frame a step, so it stays within two epochs
    while session.steps < 5:
        time.sleep(0.005)
    session.pause()
    while session.epoch < 2:
        assert session.step(trace=True)["batch_size"] in (7, n % 7)
    assert session.steps == 2 * len(range(0, n, 7)) and session.epoch == 2
    net = build_network(session.config, session.n_classes)
    trainer = build_trainer(session.config, net, build_optimizer(session.config),
                            build_schedule(session.config, n))  # fmt: skip
    trainer.fit(session.X_train, session.y_train, epochs=2)
    np.testing.assert_array_equal(net.flat_params, session.net.flat_params)
    assert session.curves["epoch"][-1] == 2 and session.schedule.lr == trainer.schedule.lr
    session.close()


def test_a_csv_runs_model_file_keeps_the_standardisation(tmp_path):
    """The network learns on standardised features; the downloaded model predicts the CSV's raw rows."""
    from glassnet.cli._model import model_inputs
    from glassnet.playground.datasets import read_csv

    rows = [
        (100 + 40 * np.cos(t), -7 + 0.01 * np.sin(t), "in" if t < 3 else "out") for t in np.linspace(0, 6, 80)
    ]
    text = "a,b,c\n" + "".join(f"{a:.4f},{b:.6f},{c}\n" for a, b, c in rows)  # far from unit scale
    session = Session("c", {**SMALL, "dataset": "csv", "layers": "6:tanh"}, csv_text=text)
    for _ in range(30):
        session.step(trace=False)
    (tmp_path / "m.npz").write_bytes(session.model_bytes())
    model = load_model(tmp_path / "m.npz")
    X_raw, _, _ = read_csv(text)
    X_net = model_inputs(model.preprocessing, X_raw)
    np.testing.assert_allclose(X_net.mean(axis=0), 0, atol=1e-5)
    both = np.concatenate([session.X_train, session.X_test])
    np.testing.assert_allclose(np.sort(X_net, axis=0), np.sort(both, axis=0), atol=1e-5)
    session.net.eval()
    np.testing.assert_array_equal(model.network.predict(X_net), session.net.predict(X_net))
    session.close()


def test_settings_change_while_it_trains_and_copy_as_python_follows():
    """Learning rate, L2, momentum, the schedule, batch size and dropout rates apply to the running network;
    the script takes the same steps with the same changes; a change of shape resets and says why."""
    config = {**SMALL, "layers": "6:relu:0.2,4:tanh", "optimizer": "sgd", "lr": 0.1, "momentum": 0.5,
              "schedule": "step", "step_size": 2, "alpha": 0.0}  # fmt: skip
    session = Session("live", config)
    for _ in range(13):
        session.step(trace=False)
    weights = session.net.flat_params.copy()
    changes = [
        ({"lr": 0.05, "alpha": 0.01}, ["lr", "alpha"]),
        ({"batch_size": 7, "layers": "6:relu:0.5,4:tanh"}, ["batch_size", "dropout"]),
        (
            {"momentum": 0.9, "schedule": "cosine", "total_epochs": 4},
            ["schedule", "total_epochs", "momentum"],
        ),
    ]
    for patch, keys in changes:
        said = session.configure({**config, **patch})
        config = {**config, **patch}
        assert said.startswith("Changed while training") and all(k in said for k in keys)
        np.testing.assert_array_equal(session.net.flat_params, weights)  # no reset
        for _ in range(9):
            session.step(trace=False)
        weights = session.net.flat_params.copy()
    assert [m["step"] for m in session.marks] == [13, 22, 31] and session.net.layers[2].rate == 0.5
    assert session.trainer.alpha == 0.01 and session.optimizer.momentum == 0.9
    frame = json.loads(session.frame)
    assert [m["text"] for m in frame["marks"]][0] == "lr 0.1 → 0.05, alpha 0.0 → 0.01"
    code = session.python()
    assert code.count("fit_steps(trainer") == 4 and "trainer.batch_size = 7" in code
    namespace = {"__name__": "playground_script"}
    exec(compile(code, "playground_script.py", "exec"), namespace)
    np.testing.assert_array_equal(namespace["net"].flat_params, session.net.flat_params)
    session.play(
        steps_per_frame=10
    )  # a change while playing: it plays on, at its speed, with the new setting
    said = session.configure({**config, "lr": 0.01})
    assert session.playing and session.steps_per_frame == 10 and said.startswith("Changed while training")
    said = session.configure({**config, "layers": "6:relu:0.5,5:tanh"})
    assert said.startswith("Reset to step 0") and "the layers" in said and session.steps == 0
    session.close()


def test_a_weight_set_by_hand_trains_on_and_the_script_repeats_it():
    session = Session("w", {**SMALL, "layers": "5:tanh,3:relu"})
    for _ in range(7):
        session.step(trace=False)
    said = session.set_weight(1, 2, 4, -1.25)  # the second Dense layer: W is 3x5
    assert "set to -1.25" in said and session.net.layers[2].params["W"][2, 4] == -1.25
    assert session.marks[-1]["step"] == 7
    for _ in range(9):
        session.step(trace=False)
    code = session.python()
    assert 'net.layers[2].params["W"][2, 4] = -1.25' in code
    namespace = {"__name__": "playground_script"}
    exec(compile(code, "playground_script.py", "exec"), namespace)
    np.testing.assert_array_equal(namespace["net"].flat_params, session.net.flat_params)
    for args, match in [((5, 0, 0, 1.0), "Dense layer"), ((0, 9, 0, 1.0), "5x2"), ((0, 0, 0, float("nan")), "number"),
                        ((0, 0, 0, 1e9), "number"), ((0, 0, 0, True), "number")]:  # fmt: skip
        with pytest.raises(SessionError, match=match):
            session.set_weight(*args)
    session.close()


def test_a_point_added_by_a_click_trains_on_and_the_script_adds_it_too(server):
    status, state = request(server, "POST", "/api/session", {"config": {**SMALL, "layers": "4:tanh"}})
    sid = state["id"]
    session = server.sessions.get(sid)
    for _ in range(5):
        session.step(trace=False)
    weights, n = session.net.flat_params.copy(), len(session.X_train)
    status, reply = request(server, "POST", f"/api/session/{sid}/point", {"x": 0.3, "y": -0.7, "label": 1})
    assert status == 200 and "added" in reply["change"] and len(reply["train"]["y"]) == n + 1
    np.testing.assert_array_equal(session.net.flat_params, weights)  # no reset
    for _ in range(8):
        session.step(trace=False)
    assert session.hooks.batches == len(range(0, n + 1, 10))  # the Trainer's epochs cover the new point
    code = session.python()
    namespace = {"__name__": "playground_script"}
    exec(compile(code, "playground_script.py", "exec"), namespace)
    np.testing.assert_array_equal(namespace["net"].flat_params, session.net.flat_params)
    for body, match in [
        ({"x": 9.0, "y": 0, "label": 0}, "x must be"),
        ({"x": 0, "y": 0, "label": 2}, "label"),
    ]:
        status, reply = request(server, "POST", f"/api/session/{sid}/point", body)
        assert status == 400 and match in reply["error"]


def test_engineered_inputs_feed_the_network_and_the_script():
    from glassnet.playground.datasets import add_features

    session = Session("f", {**SMALL, "dataset": "circles", "features": "x1x2,x1sq", "layers": "3:tanh"})
    assert session.config["features"] == ["x1sq", "x1x2"]  # the table's order
    assert session.net.layers[0].params["W"].shape == (3, 4) and session.X_train.shape[1] == 4
    x1, x2 = session.points_train[:, 0], session.points_train[:, 1]
    np.testing.assert_allclose(session.X_train[:, 2:], np.column_stack([x1 * x1, x1 * x2]), rtol=1e-6)
    assert add_features(session.points_train, []) is session.points_train
    for _ in range(9):
        session.step(trace=False)
    session.add_point(0.5, -0.5, 0)
    for _ in range(4):
        session.step(trace=False)
    code = session.python()
    assert "add_features(X_train, features)" in code
    namespace = {"__name__": "playground_script"}
    exec(compile(code, "playground_script.py", "exec"), namespace)
    np.testing.assert_array_equal(namespace["net"].flat_params, session.net.flat_params)
    state = session.state()
    assert state["layout"][0]["names"] == ["x₁", "x₂", "x₁²", "x₁x₂"] and len(state["train"]["x"][0]) == 2
    with pytest.raises(ConfigError, match="features must be names"):
        validate_config({"features": "x3sq"})
    session.close()


def test_frames_are_throttled_and_idle_sessions_are_freed():
    manager = SessionManager(max_sessions=2, idle_timeout=1.0)
    session = manager.create(SMALL)
    manager.create(SMALL)
    with pytest.raises(ValueError, match="limit"):
        manager.create(SMALL)
    version = session.version
    session.play()
    time.sleep(0.5)
    session.pause()
    frames = session.version - version
    assert 1 <= frames <= 0.5 * 30 + 3  # at most max_fps frames a second
    frame = json.loads(session.frame)
    assert frame["step"] == session.steps and len(frame["neurons"]["maps"]) == 1
    assert len(np.frombuffer(__import__("base64").b64decode(frame["grid"]["cls"]), np.uint8)) == 48 * 48
    time.sleep(1.1)
    assert len(manager.reap()) == 2 and session.closed
    manager.close_all()


def test_a_diverging_run_stops_with_a_message():
    session = Session(
        "d", {**SMALL, "optimizer": "sgd", "lr": 10.0, "momentum": 0.99, "layers": "8:identity"}
    )
    with pytest.raises(SessionError, match="diverged"):
        for _ in range(300):
            session.step(trace=False)
    assert "diverged" in session.message and "Lower the learning rate" in session.message
    with pytest.raises(SessionError, match="diverged"):  # until the settings change or a reset
        session.step(trace=False)
    assert np.all(np.isfinite(session.net.flat_params))  # the Trainer kept the weights from before
    session._publish()  # a frame of a NaN network is still valid JSON
    assert json.loads(session.frame)["message"] == session.message


def test_the_divergence_rule_warns_before_nan():
    """ReLU with SGD at lr 10 used to run on at losses of 11-160 with dead units; the Trainer's divergence
    rule ends it with its advice while every number is still finite."""
    session = Session("r", {"dataset": "circles", "layers": "8:relu,8:relu", "optimizer": "sgd", "lr": 10.0,
                            "momentum": 0.9})  # fmt: skip
    with pytest.raises(SessionError, match="diverged"):
        for _ in range(2000):
            session.step(trace=False)
    assert "too large" in session.message and np.all(np.isfinite(session.net.flat_params))
    frame = json.loads(session.frame)
    assert frame["train_loss"] is not None and frame["train_loss"] < 11
    session.close()


def test_a_stalled_run_gets_a_hint_and_a_learning_one_none():
    from glassnet.playground.frames import stall_hint

    config = validate_config({"dataset": "spirals", "layers": "4:relu", "optimizer": "sgd", "lr": 0.01})
    flat = {"epoch": list(range(60)), "train_loss": [1.0 - 0.001 * min(e, 30) for e in range(60)],
            "train_acc": [0.66] * 60}  # fmt: skip
    hint = stall_hint(flat, config)
    assert "stalled" in hint and "more units" in hint and "larger learning rate" in hint and "dead" in hint
    learning = {**flat, "train_loss": [1.0 - 0.01 * e for e in range(60)]}
    assert stall_hint(learning, config) is None
    assert stall_hint({**flat, "train_acc": [0.99] * 60}, config) is None  # nothing left to learn
    assert stall_hint({k: v[:30] for k, v in flat.items()}, config) is None  # too early to tell


def test_formulas_become_mathml_and_no_tex_is_left():
    from glassnet.playground.mathml import rst_to_html, tex_to_mathml

    out = tex_to_mathml(r"\ell = -\sum_k y_k \log\mathrm{softmax}(z)_k")
    assert out.startswith("<math") and "<mi>ℓ</mi>" in out and "<msub><mo>∑</mo><mi>k</mi></msub>" in out
    assert '<mi mathvariant="normal">softmax</mi>' in out and "\\" not in out
    assert '<mi mathvariant="normal">logsoftmax</mi>' in tex_to_mathml(r"\logsoftmax(z)")  # unknown: its name
    assert "<mfrac><mrow><mi>∂</mi><mi>L</mi></mrow>" in tex_to_mathml(r"\frac{\partial L}{\partial z}")
    html = rst_to_html("A <b> tag and ``code`` and :math:`x < y`.\n\n.. math::\n\n    a^2 + b^2")
    assert "&lt;b&gt;" in html and "<code>code</code>" in html and "<mo>&lt;</mo>" in html
    assert html.count("<math") == 2 and 'display="block"' in html


def test_the_step_sends_labels_and_probabilities_that_give_dl_dz_by_hand():
    session = Session("h", SMALL)
    trace = session.step(trace=True)
    p, y = np.array(trace["proba"]["values"]), np.array(trace["labels"])
    assert p.shape == (10, 2) and y.tolist() == session.y_train[trace["rows"]].tolist()
    by_hand = (p - np.eye(2)[y]) / trace["batch_size"]  # dL/dz = (p - y) / N
    np.testing.assert_allclose(by_hand, trace["grad_logits"]["values"], rtol=1e-5, atol=1e-7)
    assert "<math" in trace["loss_formula_html"] and "<math" in trace["layers"][0]["formula"]["summary_html"]
    session.close()


# --- the HTTP API ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    with PlaygroundServer(port=0, idle_timeout=60) as s:
        yield s


def request(server, method, path, body=None, headers=None, raw=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    kind = response.getheader("Content-Type", "")
    return response.status, json.loads(payload) if "json" in kind else payload


def upload(server, path, content):
    return request(server, "POST", path, raw=content, headers={"Content-Type": "application/octet-stream"})


def test_page_and_static_files_are_served_without_any_external_url(server):
    status, page = request(server, "GET", "/")
    assert status == 200 and b"glassnet playground" in page
    for name in ("app.js", "style.css"):
        status, body = request(server, "GET", f"/static/{name}")
        assert status == 200 and body
        body = body.replace(b'"http://www.w3.org/2000/svg"', b"")  # SVG's namespace: a name, never fetched
        assert b"http://" not in body and b"https://" not in body  # nothing from a CDN, no external font
    assert b"http" not in page.replace(b"http-equiv", b"")


def test_api_session_step_gradcheck_script_and_model(server, tmp_path):
    status, state = request(server, "POST", "/api/session", {"config": SMALL})
    assert status == 200 and state["layers"] == ["Dense", "Tanh", "Dense"]
    sid = state["id"]
    status, result = request(server, "POST", f"/api/session/{sid}/step", {"trace": True})
    trace = result["trace"]
    assert status == 200 and [layer["kind"] for layer in trace["layers"]] == ["Dense", "Tanh", "Dense"]
    assert "def forward" in trace["layers"][0]["source_forward"]["code"]
    assert "z = x Wᵀ + b" in trace["layers"][0]["formula"]["summary"]
    status, check = request(server, "POST", f"/api/session/{sid}/gradcheck", {})
    assert status == 200 and max(check["errors"].values()) < 1e-5
    status, script = request(server, "GET", f"/api/session/{sid}/python")
    assert status == 200 and b"fit_steps(trainer, X_train, y_train, steps=1)" in script
    status, model = request(server, "GET", f"/api/session/{sid}/model")
    (tmp_path / "m.npz").write_bytes(model)
    loaded = load_model(tmp_path / "m.npz").network
    np.testing.assert_array_equal(loaded.flat_params, server.sessions.get(sid).net.flat_params)


def test_bad_input_gets_a_message_and_the_server_keeps_running(server):
    status, state = request(server, "POST", "/api/session", {"config": SMALL})
    sid = state["id"]
    cases = [
        ({"config": {**SMALL, "layers": "8:swish"}}, "unknown activation"),
        ({"config": {**SMALL, "layers": "0:relu"}}, "at least 1 unit"),
        ({"config": {**SMALL, "dataset": "csv"}, "csv": "1,2,0\n3,nan,1\n5,6,1\n7,8,0\n"}, "NaN"),
        ({"config": {**SMALL, "dataset": "csv"}, "csv": "1;2;0\n3;4;1\n"}, "CSV"),
        ({"config": {**SMALL, "layers": "1000:relu"}}, "limit"),
    ]
    for body, match in cases:
        status, reply = request(server, "POST", f"/api/session/{sid}/config", body)
        assert status == 400 and match in reply["error"], reply
    status, reply = request(server, "POST", f"/api/session/{sid}/config", raw=b"{not json")
    assert status == 400 and "not valid JSON" in reply["error"]
    status, reply = request(server, "POST", "/api/session/nope/step", {"trace": True})
    assert status == 404 and "reload the page" in reply["error"]
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:  # a body too large
        sock.sendall(f"POST /api/session HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                     f"Content-Length: {9 * 1024 * 1024}\r\n\r\nxxxx".encode())  # fmt: skip
        reply = sock.makefile("rb").readline()
    assert reply.startswith(b"HTTP/1.1 413")
    status, state2 = request(server, "GET", f"/api/session/{sid}/state")
    assert status == 200 and state2["config"]["layers"][0]["units"] == 4  # unchanged by the bad requests


def test_foreign_host_and_origin_are_refused(server):
    status, reply = request(server, "GET", "/", headers={"Host": f"evil.example:{server.port}"})
    assert status == 421 and "DNS rebinding" in reply["error"]
    status, reply = request(server, "GET", "/", headers={"Host": "127.0.0.1:1"})
    assert status == 421
    status, reply = request(server, "POST", "/api/session", {"config": SMALL},
                            headers={"Origin": "http://evil.example"})  # fmt: skip
    assert status == 403
    status, _ = request(server, "GET", "/", headers={"Host": f"localhost:{server.port}"})
    assert status == 200


def test_origin_null_is_refused_like_any_foreign_origin(server):
    """A sandboxed frame or a page opened from a file sends ``Origin: null``; it must not reach the API."""
    status, reply = request(server, "POST", "/api/session", {"config": SMALL}, headers={"Origin": "null"})
    assert status == 403 and "null" in reply["error"]
    status, _ = request(server, "POST", "/api/session", {"config": SMALL},
                        headers={"Origin": f"http://127.0.0.1:{server.port}"})  # fmt: skip
    assert status == 200


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/api/session", "text/plain"),  # what an HTML form or a no-preflight fetch may send
        ("/api/session", "application/x-www-form-urlencoded"),
        ("/api/session", "multipart/form-data; boundary=x"),
        ("/api/digits/train", "text/plain;charset=UTF-8"),
        ("/api/digits/load", "application/json"),
    ],
)
def test_commands_are_taken_only_as_json_and_uploads_only_as_bytes(server, path, kind):
    status, reply = request(server, "POST", path, raw=b'{"config": {}}', headers={"Content-Type": kind})
    assert status == 415 and "takes a body of type" in reply["error"]


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b'{"config": {"lr": 1e400}}', "out of range"),
        (b'{"config": {"n_samples": 1' + b"0" * 400 + b"}}", "out of range"),
        (b'{"config": {"lr": NaN}}', "NaN is not a number"),
        (b'{"config": {"lr": -Infinity}}', "Infinity is not a number"),
        (b'{"config": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested deeper"),
        (b'{"config": ' + b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"}", "nested deeper"),
    ],
)
def test_every_bad_number_or_nesting_is_a_400_with_a_message(server, raw, match):
    status, reply = request(server, "POST", "/api/session", raw=raw)
    assert status == 400 and match in reply["error"], reply
    status, reply = request(server, "POST", "/api/digits/train", raw=raw.replace(b"config", b"epochs"))
    assert status == 400, reply


def test_stalled_connections_time_out_and_their_number_is_bounded(monkeypatch):
    from glassnet.playground import server as server_module

    monkeypatch.setattr(server_module, "MAX_CONNECTIONS", 3)
    monkeypatch.setattr(server_module._Handler, "timeout", 0.5)
    threads_before = threading.active_count()
    with PlaygroundServer(port=0) as s:
        stalled = [socket.create_connection(("127.0.0.1", s.port), timeout=10) for _ in range(3)]
        for sock in stalled:
            sock.sendall(b"POST /api/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{")
        time.sleep(0.2)
        assert threading.active_count() <= threads_before + 2 + 3  # the server's own two, one per connection
        with socket.create_connection(("127.0.0.1", s.port), timeout=10) as extra:  # one too many
            extra.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert extra.makefile("rb").readline().startswith(b"HTTP/1.1 503")
        for sock in stalled:  # the server hangs up on each once it has stalled for the timeout
            assert sock.recv(1024) == b""
            sock.close()
        status, _ = request(s, "GET", "/")
        assert status == 200


def test_a_long_csv_is_refused_while_it_is_read(server):
    """Past the row limit the reader stops: a 7 MB file is not parsed whole into Python lists first."""
    import tracemalloc

    text = "x1,x2,label\n" + "0.123456,0.654321,some-label\n" * 250_000  # 7 MB
    tracemalloc.start()
    with pytest.raises(ValueError, match="more than 5000 rows"):
        parse_csv(text)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 5 * 1024 * 1024  # the whole file as lists of strings takes over 100 MB
    status, reply = request(server, "POST", "/api/session", {"config": {"dataset": "csv"}, "csv": text})
    assert status == 400 and "more than 5000 rows" in reply["error"]


def test_a_link_with_a_bad_value_keeps_the_rest():
    from glassnet.playground.config import salvage_config

    kept, dropped = salvage_config(
        {"batch_size": 300, "lr": "1e400", "layers": "4:swish", "n_samples": 1000, "optimizer": "sgd"}
    )
    assert kept == {"batch_size": 300, "n_samples": 1000, "optimizer": "sgd"}  # batch_size needs n_samples
    assert len(dropped) == 2 and "lr='1e400'" in dropped[0] and "swish" in dropped[1]
    kept, dropped = salvage_config({"dataset": "csv", "seed": 3})
    assert kept == {"seed": 3} and "not the rows of a CSV" in dropped[0]
    assert salvage_config({"layers": "1e400:relu"})[0] == {}  # was an OverflowError


def test_a_lesson_is_one_html_file_with_the_run_and_the_note(server, tmp_path):
    import base64
    import zlib

    status, state = request(server, "POST", "/api/session", {"config": SMALL})
    sid = state["id"]
    session = server.sessions.get(sid)
    session.step(trace=True)
    for _ in range(40):
        session.step(trace=False)
    note = "Watch the <b>boundary</b> & the loss."
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("GET", f"/api/session/{sid}/lesson?note=" + __import__("urllib.parse").parse.quote(note))
    response = conn.getresponse()
    page = response.read()
    conn.close()
    assert response.status == 200 and response.getheader("Content-Type").startswith("text/html")
    assert "attachment" in response.getheader("Content-Disposition")
    assert b"Watch the &lt;b&gt;boundary&lt;/b&gt; &amp; the loss." in page
    assert b"http://" not in page and b"https://" not in page and b"<script src" not in page  # self-contained
    assert len(page) < 300_000
    packed = page.split(b'id="lesson-data">')[1].split(b"<")[0]
    data = json.loads(zlib.decompress(base64.b64decode(packed)))
    assert data["frames"][-1]["step"] == 41 and data["frames"][0]["step"] <= 1
    assert len(data["traces"]) == 1 and data["traces"][0]["labels"] and data["config"]["batch_size"] == 10
    status, reply = request(server, "GET", f"/api/session/{sid}/lesson?note=" + "x" * 5000)
    assert status == 400 and "note" in reply["error"]


def test_the_lesson_film_is_bounded_and_spans_the_run():
    from glassnet.playground.lesson import MAX_FRAMES, LessonRecorder

    recorder = LessonRecorder()
    frame = {"epoch": 0, "lr": 0.1, "train_loss": 1, "test_loss": 1, "train_acc": 0, "test_acc": 0,
             "grid": {"n": 2, "cls": "AAAA", "conf": "AAAA"}, "neurons": None, "weights": None, "biases": None}  # fmt: skip
    for step in range(5 * MAX_FRAMES):
        recorder.record({**frame, "step": step})
    steps = [f["step"] for f in recorder.frames]
    assert MAX_FRAMES // 2 <= len(steps) <= MAX_FRAMES and steps[0] == 0 and steps[-1] > 4 * MAX_FRAMES
    assert len(set(np.diff(steps))) == 1  # evenly spaced
    assert recorder.film()[-1]["step"] == 5 * MAX_FRAMES - 1  # and ending where the run is


def test_events_stream_frames(server):
    status, state = request(server, "POST", "/api/session", {"config": SMALL})
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", f"/api/session/{state['id']}/events")
    response = conn.getresponse()
    assert response.getheader("Content-Type") == "text/event-stream"
    line = response.fp.readline()
    assert line.startswith(b"data: ")
    frame = json.loads(line[6:])
    assert frame["type"] == "frame" and frame["step"] == 0 and frame["curves"]["epoch"] == [0]
    conn.close()


def test_cli_serves_until_ctrl_c():
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "glassnet", "playground", "--port", "0", "--no-browser"],
                            stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    try:
        lines = []
        while not lines or "glassnet playground: http://127.0.0.1:" not in lines[-1]:  # after any warning
            lines.append(proc.stderr.readline())
            assert lines[-1] and len(lines) < 50, "".join(lines)
        line = lines[-1]
        port = int(line.split("127.0.0.1:")[1].split("/")[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/")
        assert conn.getresponse().status == 200
        conn.close()
        proc.send_signal(signal.SIGINT)
        code, rest = proc.wait(timeout=15), proc.stderr.read()
        assert code == 0 and "stopped" in rest, (code, rest)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()


def test_digits_train_predict_and_load_a_model_file(server, tmp_path):
    from glassnet.io import save_model
    from glassnet.network import build_mlp

    status, reply = request(
        server, "POST", "/api/digits/predict", {"pixels": [1.0] * 64, "width": 8, "height": 8}
    )
    assert status == 400 and "train one or load a model file" in reply["error"]
    status, reply = request(server, "POST", "/api/digits/train", {"recipe": "lab", "epochs": 99999})
    assert status == 400 and "epochs must be in [1, 5000]" in reply["error"]
    net = build_mlp([64, 5, 10], seed=0)
    save_model(tmp_path / "digits.npz", net, preprocessing={"image_shape": [8, 8], "light_on_dark": True,
                                                             "fit": "bbox", "box": 8})  # fmt: skip
    status, reply = upload(server, "/api/digits/load", (tmp_path / "digits.npz").read_bytes())
    assert status == 200 and reply["state"] == "ready"
    ink = np.zeros((16, 16))
    ink[3:13, 7:9] = 1.0  # a "1"
    status, reply = request(
        server, "POST", "/api/digits/predict", {"pixels": ink.ravel().tolist(), "width": 16, "height": 16}
    )
    assert status == 200 and len(reply["proba"]) == 10 and len(reply["hidden"]) == 1
    np.testing.assert_allclose(
        reply["proba"], net.predict_proba(np.array([reply["image"]]))[0], rtol=1e-4, atol=1e-6
    )
    status, reply = request(
        server, "POST", "/api/digits/predict", {"pixels": [0.0] * 256, "width": 16, "height": 16}
    )
    assert status == 400 and "empty" in reply["error"]
    save_model(tmp_path / "flat.npz", build_mlp([2, 3, 2], seed=0))
    status, reply = upload(server, "/api/digits/load", (tmp_path / "flat.npz").read_bytes())
    assert status == 400 and "not trained on 8x8 images" in reply["error"]
    status, reply = upload(server, "/api/digits/load", b"not a zip file")
    assert status == 400 and "Cannot load this model file" in reply["error"]


def test_digits_train_through_the_trainer_and_report_each_epoch():
    from glassnet.playground.digits import DigitsLab

    lab = DigitsLab()
    lab.train("recommended", epochs=2)
    lab._thread.join(timeout=120)
    status = lab.status()
    assert status["state"] == "ready" and status["test_accuracy"] > 0.8, status["message"]
    assert len(status["losses"]) == 2 and status["losses"][1] < status["losses"][0]
    lab.train("lab", epochs=5000)  # closing the lab ends the fit after the current epoch
    deadline = time.monotonic() + 60
    while lab.status()["progress"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    lab.close()
    assert lab._thread is None and 0 < lab.status()["progress"] < 1


def test_the_gradient_check_takes_a_zero_gradient_as_agreement():
    """The bias before a batch norm has a zero gradient; finite differences give round-off (about 1e-12),
    which must not show as a red "differs" (issue 21)."""
    session = Session("g", {**SMALL, "layers": "5:relu,4:tanh", "batch_norm": True})
    for _ in range(20):
        session.step(trace=False)
    errors = session.gradcheck()["errors"]
    assert errors["layers.0.b"] == 0.0 and errors["layers.3.b"] == 0.0
    assert max(errors.values()) < 1e-5
    session.close()


def test_the_digits_tab_downloads_its_model_and_its_script_takes_the_same_steps(server, tmp_path):
    from glassnet.playground.digits import DigitsLab

    with pytest.raises(ValueError, match="No digits model yet"):
        DigitsLab().python()
    lab = server.httpd.digits
    status, _ = request(server, "POST", "/api/digits/train", {"recipe": "recommended", "epochs": 2})
    assert status == 200
    lab._thread.join(timeout=120)
    status, model = request(server, "GET", "/api/digits/model")
    (tmp_path / "digits.npz").write_bytes(model)
    saved = load_model(tmp_path / "digits.npz")
    assert saved.preprocessing["image_shape"] == [8, 8]
    np.testing.assert_array_equal(saved.network.flat_params, lab.net.flat_params)
    status, code = request(server, "GET", "/api/digits/python")
    assert status == 200 and b"Trainer(" in code and b"epochs=2)" in code
    namespace = {"__name__": "digits_script"}
    exec(compile(code.decode(), "digits_script.py", "exec"), namespace)
    np.testing.assert_array_equal(namespace["net"].flat_params, lab.net.flat_params)


def test_zero_initial_weights_never_break_the_symmetry():
    """The lesson the "zeros" choice teaches: every hidden unit stays the same unit."""
    session = Session("z", {**SMALL, "layers": "4:tanh:0", "init": "zeros", "optimizer": "sgd", "lr": 0.5})
    for _ in range(30):
        session.step(trace=False)
    W = session.net.parameters()["layers.0.W"]
    np.testing.assert_array_equal(W, np.broadcast_to(W[0], W.shape))
    assert 'init="zeros"' in session.python()


def test_hidden_space_view_maps_the_training_points_through_the_network(server):
    from glassnet.trace import hidden_activations

    status, state = request(server, "POST", "/api/session", {"config": {**SMALL, "layers": "3:tanh,4:relu"}})
    sid = state["id"]
    status, reply = request(server, "POST", f"/api/session/{sid}/warp", {"layer": 0, "units": [2, 0]})
    assert status == 200 and reply == {"layer": 0, "units": [2, 0]}
    session = server.sessions.get(sid)
    warp = json.loads(session.frame)["warp"]
    expected = hidden_activations(session.net, session.X_train)[0][:, [2, 0]]
    np.testing.assert_allclose(warp["points"], expected, atol=1e-4)
    assert len(warp["lines"]) == 2 * 13 * warp["points_per_line"]
    for body in ({"layer": 5, "units": [0, 1]}, {"layer": 0, "units": [1, 1]}, {"layer": 1, "units": [0, 9]}):
        status, reply = request(server, "POST", f"/api/session/{sid}/warp", body)
        assert status == 400 and "hidden layer" in reply["error"].lower()


def test_the_frames_benchmark_runs(capsys):
    from glassnet.playground import bench

    assert bench.main(["--seconds", "0.3", "--no-browser"]) == 0  # the page's part: test_playground_browser
    out = capsys.readouterr().out
    assert "frames drawn" in out and "frames received over HTTP" in out


def test_an_error_in_the_training_thread_stops_training_with_a_message(monkeypatch):
    session = Session("e", SMALL)

    def broken(*args, **kwargs):
        raise FloatingPointError("something broke")

    monkeypatch.setattr(session.net, "loss_and_grad", broken)
    session.play()
    session.thread.join(timeout=10)
    assert not session.playing and "something broke" in session.message
    assert json.loads(session.frame)["message"] == session.message


# --- menus from glassnet's registries -------------------------------------------------------------------------


class Softplus(ActivationLayer):
    r""":math:`a = \log(1 + e^x)`, :math:`\partial L/\partial x = \partial L/\partial a \odot \sigma(x)`."""

    name, formula = "softplus", "log(1 + exp(x))"

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return np.logaddexp(x.dtype.type(0), x)  # log(e^0 + e^x), without overflow

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * F.sigmoid(self._saved("_x", dy))


@pytest.fixture
def softplus():
    register_activation(Softplus)
    yield Softplus
    unregister_activation("softplus")


def test_the_menus_are_the_registries_and_show_the_fields_each_choice_takes(server):
    status, menus = request(server, "GET", "/api/menus")
    assert status == 200
    assert [e["name"] for e in menus["activations"]] == list(hidden_activations())
    relu = next(e for e in menus["activations"] if e["name"] == "relu")
    assert relu["formula"] == "max(0, x)" and relu["init"] == "he_uniform"
    fields = {e["name"]: e["fields"] for e in menus["optimizers"] + menus["schedules"]}
    assert fields["sgd"] == ["lr", "momentum", "weight_decay"] and fields["adam"] == ["lr", "weight_decay"]
    assert fields["step"] == ["step_size", "gamma"] and fields["cosine"] == ["total_epochs"]
    assert fields["constant"] == []
    adamw = next(e for e in menus["optimizers"] if e["name"] == "adamw")
    assert adamw["parameters"]["weight_decay"] == 0.01 and adamw["formula"]


def test_a_registered_activation_is_offered_trains_and_its_script_repeats_it(server, softplus):
    status, menus = request(server, "GET", "/api/menus")
    entry = next(e for e in menus["activations"] if e["name"] == "softplus")
    assert entry["formula"] == "log(1 + exp(x))" and entry["class"] == "Softplus"
    status, state = request(server, "POST", "/api/session", {"config": {**SMALL, "layers": "6:softplus"}})
    assert status == 200 and state["layers"] == ["Dense", "Softplus", "Dense"], state
    session = server.sessions.get(state["id"])
    for _ in range(30):  # five epochs
        session.step(trace=False)
    losses = session.curves["train_loss"]
    assert isinstance(session.net.layers[1], Softplus) and losses[-1] < losses[0]
    script = session.python()
    assert f"from {Softplus.__module__} import Softplus" in script and "Softplus()," in script
    namespace = {"__name__": "playground_script"}
    exec(compile(script, "playground_script.py", "exec"), namespace)
    np.testing.assert_array_equal(namespace["net"].flat_params, session.net.flat_params)


def test_settings_are_checked_against_the_registries_when_they_are_read(softplus):
    assert validate_config({**SMALL, "layers": "3:softplus"})["layers"][0]["activation"] == "softplus"
    unregister_activation("softplus")
    with pytest.raises(ConfigError, match="unknown activation 'softplus'"):
        validate_config({**SMALL, "layers": "3:softplus"})
    register_activation(Softplus)  # for the fixture's clean-up


def test_each_optimizer_gets_the_settings_its_constructor_takes():
    from glassnet.playground.build import build_optimizer

    config = validate_config({**SMALL, "optimizer": "adam", "weight_decay": 0.1, "momentum": 0.5})
    adam = build_optimizer(config)
    assert adam.weight_decay == 0.1 and not hasattr(adam, "momentum")
    sgd = build_optimizer({**config, "optimizer": "sgd"})
    assert (sgd.momentum, sgd.weight_decay) == (0.5, 0.1)
    assert validate_config(SMALL)["weight_decay"] == 0.0  # the default optimizer (Adam) keeps plain Adam


# --- regression problems --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["surface", "plane"])
def test_regression_data_sets_are_seeded_surfaces_with_noisy_values(name):
    X_train, y_train, X_test, y_test = make_dataset(name, n_samples=90, noise=0.0, train_fraction=0.6)
    assert X_train.shape == (54, 2) and y_train.shape == (54,) and y_train.dtype == np.float32
    clean = make_dataset(name, n_samples=90, noise=0.0, train_fraction=0.6)
    np.testing.assert_array_equal(clean[1], y_train)
    noisy = make_dataset(name, n_samples=90, noise=0.2, train_fraction=0.6)
    assert np.array_equal(noisy[0], X_train) and not np.array_equal(noisy[1], y_train)  # the noise: on y
    assert len(np.unique(y_train)) == len(y_train)  # values, not classes


def _train(session, steps):
    for _ in range(steps):
        session.step(trace=False)


@pytest.mark.parametrize(
    ("config", "loss_name"),
    [({"dataset": "surface", "layers": "8:tanh,8:tanh"}, "SquaredError"),
     ({"dataset": "plane", "noise": 0.2, "layers": "", "loss": "huber"}, "HuberLoss")],
)  # fmt: skip
def test_a_regression_session_fits_the_surface_and_its_script_takes_the_same_steps(config, loss_name):
    session = Session("r", {"n_samples": 300, "batch_size": 10, "lr": 0.03, **config})
    assert session.task == "regression" and session.n_classes == 1
    assert type(session.net.loss).__name__ == loss_name and session.net.layers[-1].params["W"].shape[0] == 1
    _train(session, 300)  # 20 epochs of 150 points
    assert session.curves["test_acc"][-1] > 0.85, session.curves["test_acc"]  # R²
    frame = json.loads(session.frame)
    assert "value" in frame["grid"] and frame["grid"]["low"] < frame["grid"]["high"]
    script = session.python()
    assert f"{loss_name}()," in script and "test R^2" in script
    namespace = {"__name__": "playground_script"}
    exec(compile(script, "playground_script.py", "exec"), namespace)
    np.testing.assert_array_equal(namespace["net"].flat_params, session.net.flat_params)
    state = session.state()
    assert state["task"] == "regression" and isinstance(state["train"]["y"][0], float)
    assert "a surface" in session.lesson_html("a surface")
    session.close()


def test_a_regression_csv_trains_runs_as_a_script_and_downloads_a_model(tmp_path):
    rows = "".join(
        f"{a:.3f},{b:.3f},{3 * a - b + 10:.4f}\n" for a, b in np.random.default_rng(0).uniform(-2, 2, (60, 2))
    )
    text = "size,age,price\n" + rows
    X, y, names = parse_csv(text, target="value")
    assert names == ["price"] and y.dtype == np.float32 and y.min() > 0
    session = Session("c", {**SMALL, "dataset": "csv", "target": "value", "layers": "4:relu"}, csv_text=text)
    assert session.task == "regression"
    _train(session, 7)
    (tmp_path / "data.csv").write_text(session.csv_text)
    script = tmp_path / "run.py"
    script.write_text(session.python() + "np.save('weights.npy', net.flat_params)\n")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "test R^2" in done.stdout
    np.testing.assert_array_equal(np.load(tmp_path / "weights.npy"), session.net.flat_params)
    (tmp_path / "m.npz").write_bytes(session.model_bytes())
    loaded = load_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.network.flat_params, session.net.flat_params)
    with pytest.raises(SessionError, match="classification problems"):
        session.add_point(0.1, 0.2, 0)
    session.close()


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"dataset": "surface", "loss": "softmax_cross_entropy"}, "does not fit this data set's task"),
        ({"dataset": "circles", "loss": "huber"}, "does not fit this data set's task"),
        ({"dataset": "surface", "loss": "cosh"}, "Unknown loss"),
        ({"target": "number"}, "Unknown target"),
    ],
)
def test_a_loss_must_fit_the_task(change, match):
    with pytest.raises(ConfigError, match=match):
        validate_config({**SMALL, **change})


def test_a_loss_that_cannot_take_the_values_is_refused_before_anything_changes():
    session = Session("p", {**SMALL, "dataset": "surface"})
    with pytest.raises(ConfigError, match="non-negative targets"):
        session.configure({**SMALL, "dataset": "surface", "loss": "poisson"})
    assert session.config["loss"] == "auto" and type(session.net.loss).__name__ == "SquaredError"
    session.close()


def test_a_regression_csv_names_a_target_that_is_not_a_number():
    with pytest.raises(ValueError, match="line 3: the target 'cheap' is not a finite number"):
        parse_csv("a,b,price\n1,2,3\n2,3,cheap\n3,4,5\n4,5,6\n", target="value")
