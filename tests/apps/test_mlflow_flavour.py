"""The glassnet MLflow flavour (glassnet.mlflow), without a server: save_model, load_model and pyfunc."""

import os
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mlflow")
with warnings.catch_warnings():  # MLflow's own import-time notes
    warnings.simplefilter("ignore")
    import mlflow.pyfunc  # noqa: E402

import glassnet.mlflow  # noqa: E402
from glassnet.io import ModelFileError, SavedModel, load_model  # noqa: E402
from glassnet.network import build_mlp  # noqa: E402

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 4)).astype(np.float32)
y = np.array(["cat", "dog", "eel"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 1).astype(int)]


@pytest.fixture(scope="module")
def clf():
    from glassnet.estimators import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=(6,), solver="lbfgs", max_iter=50, random_state=0).fit(X, y)


def test_an_estimator_round_trips_through_a_glassnet_model_file_not_a_pickle(tmp_path, clf):
    path = tmp_path / "model"
    glassnet.mlflow.save_model(clf, path, input_example=X[:3])
    files = sorted(p.name for p in path.iterdir())
    assert "model.npz" in files and "MLmodel" in files
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".skops"))]
    flavours = mlflow.models.Model.load(str(path / "MLmodel")).flavors
    assert (
        flavours["glassnet"]["kind"] == "estimator"
        and flavours["python_function"]["loader_module"] == "glassnet.mlflow"
    )
    assert "MLFLOW_ALLOW_PICKLE_DESERIALIZATION" not in os.environ  # pyfunc loads it without the opt-in
    served = mlflow.pyfunc.load_model(str(path))
    np.testing.assert_array_equal(served.predict(X), clf.predict(X))
    assert served.metadata.signature is not None  # inferred from the input example
    loaded = glassnet.mlflow.load_model(str(path))
    assert type(loaded).__name__ == "MLPClassifier"
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    requirements = (path / "requirements.txt").read_text()
    assert "glassnet==" in requirements and "scikit-learn==" in requirements


def test_predict_proba_as_the_pyfunc_predict_fn(tmp_path, clf):
    glassnet.mlflow.save_model(clf, tmp_path / "m", pyfunc_predict_fn="predict_proba")
    np.testing.assert_array_equal(
        mlflow.pyfunc.load_model(str(tmp_path / "m")).predict(X), clf.predict_proba(X)
    )
    with pytest.raises(mlflow.exceptions.MlflowException, match="pyfunc_predict_fn"):
        glassnet.mlflow.save_model(clf, tmp_path / "n", pyfunc_predict_fn="decision_function")


def test_a_network_with_classes_and_scale(tmp_path):
    net = build_mlp([4, 8, 3], seed=1)
    glassnet.mlflow.save_model(net, tmp_path / "m", classes=["a", "b", "c"], preprocessing={"scale": 4.0})
    served = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    expected = np.array(["a", "b", "c"])[net.predict(X / np.float32(4.0))]  # raw rows, divided inside
    np.testing.assert_array_equal(served.predict(X), expected)
    import pandas as pd

    np.testing.assert_array_equal(served.predict(pd.DataFrame(X, columns=list("abcd"))), expected)
    loaded = glassnet.mlflow.load_model(str(tmp_path / "m"))
    assert isinstance(loaded, SavedModel) and loaded.classes == ["a", "b", "c"]
    # a SavedModel keeps its own classes and preprocessing
    glassnet.mlflow.save_model(loaded, tmp_path / "again")
    np.testing.assert_array_equal(mlflow.pyfunc.load_model(str(tmp_path / "again")).predict(X), expected)


def test_bad_input(tmp_path, clf):
    from glassnet.estimators import MLPRegressor

    with pytest.raises(TypeError, match="glassnet.mlflow saves"):
        glassnet.mlflow.save_model({"W": np.zeros(3)}, tmp_path / "a")
    with pytest.raises(TypeError, match="not fitted"):
        glassnet.mlflow.save_model(MLPRegressor(), tmp_path / "b")
    glassnet.mlflow.save_model(clf, tmp_path / "c")
    with pytest.raises(mlflow.exceptions.MlflowException, match="already exists"):
        glassnet.mlflow.save_model(clf, tmp_path / "c")


def test_a_corrupt_or_crafted_model_folder_is_refused(tmp_path, clf):
    path = tmp_path / "m"
    glassnet.mlflow.save_model(clf, path)
    model_file = path / "model.npz"
    model_file.write_bytes(model_file.read_bytes()[:200])
    for load in (glassnet.mlflow.load_model, mlflow.pyfunc.load_model):
        with pytest.raises(ModelFileError, match="truncated or corrupt"):
            load(str(path))
    # an MLmodel pointing outside its folder
    glassnet.mlflow.save_model(clf, tmp_path / "n")
    mlmodel = tmp_path / "n" / "MLmodel"
    mlmodel.write_text(mlmodel.read_text().replace("model_file: model.npz", "model_file: ../m/model.npz"))
    with pytest.raises(mlflow.exceptions.MlflowException, match="outside the model folder"):
        glassnet.mlflow.load_model(str(tmp_path / "n"))


def test_the_model_file_inside_is_a_plain_glassnet_model_file(tmp_path, clf):
    glassnet.mlflow.save_model(clf, tmp_path / "m")
    saved = load_model(Path(tmp_path / "m" / "model.npz"))
    np.testing.assert_array_equal(saved.network.predict_proba(X), clf.predict_proba(X))


# --- MlflowLogger without a server: bad settings and an unreachable server ------------------------------------


def test_logger_settings_are_checked():
    from glassnet.integrations import MlflowLogger

    with pytest.raises(ValueError, match="timeout"):
        MlflowLogger(timeout=0)
    with pytest.raises(ValueError, match="model_name"):
        MlflowLogger(model_name="")
    with pytest.raises(TypeError, match="params"):
        MlflowLogger(params=[("a", 1)])
    with pytest.raises(TypeError, match="tracking_uri"):
        MlflowLogger(tracking_uri=5000)


def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket is closed


def test_an_unreachable_server_is_reported_before_training_starts():
    from glassnet.integrations import MlflowLogger, TrackingServerError
    from glassnet.optim import Adam
    from glassnet.training import Trainer

    uri = f"http://127.0.0.1:{closed_port()}"
    trainer = Trainer(
        build_mlp([4, 8, 3], seed=0), Adam(0.01), callbacks=[MlflowLogger(tracking_uri=uri, timeout=2)]
    )
    weights = trainer.net.flat_params.copy()
    with pytest.raises(TrackingServerError, match=f"{uri} did not answer.*Nothing was trained"):
        trainer.fit(X, (y == "cat").astype(int), epochs=3)
    assert trainer.history.epochs == 0
    np.testing.assert_array_equal(trainer.net.flat_params, weights)


def test_a_server_that_never_answers_is_given_up_after_the_timeout():
    """A socket that accepts connections and never replies: the wait ends after ``timeout``, not MLflow's 120 s."""
    import socket

    from glassnet.estimators import MLPClassifier
    from glassnet.integrations import MlflowLogger, TrackingServerError

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nobody reads or writes
        uri = f"http://127.0.0.1:{silent.getsockname()[1]}"
        clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3)
        with pytest.raises(TrackingServerError, match=r"of at most 1 s"):
            clf.fit(X, y, callbacks=[MlflowLogger(tracking_uri=uri, timeout=1)])
    assert not hasattr(clf, "loss_curve_") or clf.loss_curve_ == []


def test_without_a_server_file_stores_need_no_check(tmp_path):
    from glassnet.integrations.mlflow_callback import check_server

    check_server((tmp_path / "mlruns").as_uri(), timeout=1)  # nothing to reach: passes
    check_server("sqlite:///" + str(tmp_path / "m.db"), timeout=1)


def test_without_mlflow_the_errors_name_the_extra(monkeypatch):
    import importlib
    import sys

    from glassnet.integrations import MlflowLogger

    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if MLflow were not installed
    monkeypatch.setitem(sys.modules, "mlflow.pyfunc", None)
    with pytest.raises(ImportError, match=r"pip install 'glassnet\[mlflow\]'"):
        MlflowLogger()
    monkeypatch.delitem(sys.modules, "glassnet.mlflow")
    with pytest.raises(ImportError, match=r"pip install 'glassnet\[mlflow\]'"):
        importlib.import_module("glassnet.mlflow")
