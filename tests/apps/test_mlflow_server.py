"""MlflowLogger and the glassnet flavour against a real MLflow tracking server on 127.0.0.1 (a file store).

One server for the module, started by the fixture with a bounded wait and stopped in a ``finally``; the last
test stops it mid-training on purpose.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mlflow")
with warnings.catch_warnings():  # MLflow's own import-time notes
    warnings.simplefilter("ignore")
    import mlflow.pyfunc  # noqa: E402

from glassnet.callbacks import Callback  # noqa: E402
from glassnet.integrations import MlflowLogger, MlflowLoggingWarning  # noqa: E402
from glassnet.network import build_mlp  # noqa: E402
from glassnet.optim import Adam  # noqa: E402
from glassnet.training import Trainer  # noqa: E402

pytestmark = pytest.mark.slow

STARTUP_S = 180  # a cold start imports the whole server (tens of seconds on a busy 2-core machine)
rng = np.random.default_rng(0)
X = rng.normal(size=(60, 4)).astype(np.float32)
y = np.array(["no", "yes"])[(X[:, 0] - X[:, 1] > 0).astype(int)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(uri: str) -> bool:
    try:
        with urllib.request.urlopen(uri + "/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def server():
    # a folder of its own, removed at the end (pytest's numbered temporary folders may be pruned by other
    # pytest processes on the same machine while the server still writes into them)
    folder = Path(tempfile.mkdtemp(prefix="glassnet-mlflow-"))
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
               "--backend-store-uri", (folder / "mlruns").as_uri(),
               "--artifacts-destination", str(folder / "artifacts"), "--workers", "1"]  # fmt: skip
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true"}  # MLflow 3 keeps the file store behind a switch
    log = open(folder / "server.log", "wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + STARTUP_S
        while not answers(uri):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = (folder / "server.log").read_text(errors="replace")[-3000:]
                pytest.fail(f"the MLflow server did not start (exit code {process.poll()}):\n{tail}")
            time.sleep(0.25)
        yield {"uri": uri, "process": process}
    finally:
        stop(process)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def stop(process) -> None:
    """Stop the server and its workers (its own process group, started above)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


def client(server):
    return mlflow.MlflowClient(server["uri"])


def test_an_estimators_fit_logs_params_every_epoch_and_the_model(server, tmp_path):
    from glassnet.estimators import MLPClassifier

    logger = MlflowLogger(tracking_uri=server["uri"], experiment_name="glassnet", run_name="clf",
                          params={"data": "toy"})  # fmt: skip
    clf = MLPClassifier(hidden_layer_sizes=(7,), max_iter=6, random_state=0, batch_size=20,
                        early_stopping=True, n_iter_no_change=50)  # fmt: skip
    with pytest.warns(Warning, match="Maximum iterations"):
        clf.fit(X, y, callbacks=[logger])
    run = client(server).get_run(logger.run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "clf"
    params = run.data.params
    assert params["hidden_layer_sizes"] == "(7,)" and params["estimator"] == "MLPClassifier"
    assert params["data"] == "toy"
    # (MLflow 3 logs the last step's metrics once more, linked to the logged model: one value a step)
    loss = {m.step: m.value for m in client(server).get_metric_history(logger.run_id, "loss")}
    assert sorted(loss) == [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose([loss[step] for step in sorted(loss)], clf.loss_curve_)
    scores = {m.step: m.value for m in client(server).get_metric_history(logger.run_id, "val_score")}
    np.testing.assert_allclose([scores[step] for step in sorted(scores)], clf.validation_scores_)

    # the logged model, served by mlflow.pyfunc in another process, predicts what the estimator predicts
    np.save(tmp_path / "X.npy", X)
    script = (
        "import sys, json, pickle, warnings, numpy as np\n"
        "warnings.simplefilter('ignore')\n"
        "import mlflow.pyfunc\n"
        "def refuse(*args, **kwargs):\n"
        "    raise AssertionError('something was unpickled')\n"
        "pickle.load = pickle.loads = refuse\n"  # nothing may be unpickled from here on
        "class Refuse(pickle.Unpickler):\n"
        "    def load(self):\n"
        "        refuse()\n"
        "pickle.Unpickler = Refuse\n"
        "model = mlflow.pyfunc.load_model(sys.argv[1])\n"
        "print(json.dumps(model.predict(np.load(sys.argv[2])).tolist()))\n"
    )
    env = {**os.environ, "MLFLOW_TRACKING_URI": server["uri"]}
    env.pop("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", None)  # a glassnet model needs no pickle opt-in
    out = subprocess.run([sys.executable, "-c", script, logger.model_uri, str(tmp_path / "X.npy")],
                         capture_output=True, text=True, timeout=180, env=env)  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == clf.predict(X).tolist()


def test_a_trainers_fit_logs_its_settings_and_its_network(server):
    import glassnet.mlflow

    net = build_mlp([4, 8, 2], seed=0)
    logger = MlflowLogger(tracking_uri=server["uri"], experiment_name="glassnet", timeout=30)
    labels = (y == "yes").astype(int)
    trainer = Trainer(net, Adam(0.01), batch_size=20, seed=0, validation_data=(X[:20], labels[:20]),
                      callbacks=[logger])  # fmt: skip
    trainer.fit(X, labels, epochs=3)
    params = client(server).get_run(logger.run_id).data.params
    assert params["optimizer"] == "Adam" and params["batch_size"] == "20" and params["loss"] == net.loss.name
    assert sorted({m.step for m in client(server).get_metric_history(logger.run_id, "val_loss")}) == [1, 2, 3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # download progress notes
        mlflow.set_tracking_uri(server["uri"])
        try:
            saved = glassnet.mlflow.load_model(logger.model_uri)
        finally:
            mlflow.set_tracking_uri(None)
    np.testing.assert_array_equal(saved.network.predict_proba(X), net.predict_proba(X))


def test_the_active_run_is_joined_and_left_open(server):
    mlflow.set_tracking_uri(server["uri"])
    try:
        with mlflow.start_run() as run:
            logger = MlflowLogger(log_model=False)
            trainer = Trainer(
                build_mlp([4, 8, 2], seed=0), Adam(0.01), batch_size=20, seed=0, callbacks=[logger]
            )
            trainer.fit(X, (y == "yes").astype(int), epochs=2)
            assert logger.run_id == run.info.run_id
            assert (
                client(server).get_run(run.info.run_id).info.status == "RUNNING"
            )  # the user's run: not closed
    finally:
        mlflow.set_tracking_uri(None)
    assert client(server).get_run(run.info.run_id).info.status == "FINISHED"
    assert sorted(client(server).get_run(run.info.run_id).data.metrics) == ["loss", "lr", "time"]


def test_a_partial_fit_stream_is_one_run_with_continuing_steps(server):
    from glassnet.estimators import MLPClassifier

    logger = MlflowLogger(tracking_uri=server["uri"], log_model=False)
    clf = MLPClassifier(hidden_layer_sizes=(5,), random_state=0)
    for _ in range(3):
        clf.partial_fit(X, y, classes=["no", "yes"], callbacks=[logger])
    loss = {m.step: m.value for m in client(server).get_metric_history(logger.run_id, "loss")}
    assert sorted(loss) == [1, 2, 3]
    np.testing.assert_allclose([loss[step] for step in sorted(loss)], clf.loss_curve_)
    assert client(server).get_run(logger.run_id).info.status == "FINISHED"


def test_the_server_stopping_mid_training_never_loses_the_training(server):
    """Last in the module: it stops the server. The fit goes on, warns once, and records every epoch."""

    class StopServer(Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            if epoch == 1:
                stop(server["process"])

    net = build_mlp([4, 8, 2], seed=0)
    logger = MlflowLogger(tracking_uri=server["uri"], timeout=5)
    trainer = Trainer(net, Adam(0.01), batch_size=20, seed=0, callbacks=[StopServer(), logger])
    with pytest.warns(MlflowLoggingWarning, match="training goes on") as caught:
        history = trainer.fit(X, (y == "yes").astype(int), epochs=5)
    assert history.epochs == 5 and len(caught) == 1
    assert "log the metrics of step 2" in logger.failed
    assert logger.model_uri is None
