"""Tests of model files (glassnet.io): exact round trip, no pickle, clear errors, atomic writes."""

import json
import os
import zipfile

import numpy as np
import pytest

from glassnet.files import model as io
from glassnet.io import FORMAT_VERSION, ModelFileError, load_model, read_metadata, save_model
from glassnet.network import build_mlp

PRE = {"dataset": "digits", "n_features": 64, "image_shape": [8, 8], "scale": 16.0, "light_on_dark": True}


@pytest.fixture
def net():
    return build_mlp([64, 12, 10], activation="relu", dropout=0.1, seed=0)


@pytest.fixture
def saved(tmp_path, net):
    path = save_model(
        tmp_path / "m.npz", net, preprocessing=PRE, classes=list(range(10)), info={"epochs": 3, "acc": 0.5}
    )
    return path


def test_round_trip_is_bit_exact(saved, net):
    model = load_model(saved)
    for name, value in net.parameters().items():
        loaded = model.network.parameters()[name]
        assert loaded.dtype == value.dtype
        assert loaded.tobytes() == value.tobytes()
    X = np.random.default_rng(1).random((20, 64))
    np.testing.assert_array_equal(model.network.predict_proba(X), net.eval().predict_proba(X))
    assert model.network.get_config() == net.get_config()
    assert model.preprocessing == PRE and model.classes == list(range(10)) and model.info["epochs"] == 3
    assert model.class_names == [str(i) for i in range(10)]


def test_float64_network_round_trip(tmp_path):
    net = build_mlp([5, 3, 2], activation="tanh", seed=2, dtype=np.float64)
    model = load_model(save_model(tmp_path / "m.npz", net, classes=["a", "b"]))
    assert model.network.parameters()["layers.0.W"].dtype == np.float64
    assert model.classes == ["a", "b"]


def test_file_loads_without_pickle_and_names_weights(saved):
    with np.load(saved, allow_pickle=False) as npz:
        assert {"layers.0.W", "layers.0.b", "layers.3.W", "layers.3.b", "__glassnet__"} <= set(npz.files)
        meta = json.loads(npz["__glassnet__"].tobytes())
    assert meta["format"] == "glassnet-model" and meta["format_version"] == FORMAT_VERSION
    assert meta["architecture"]["layers"][0]["type"] == "Dense"
    assert read_metadata(saved)["glassnet_version"]


def test_truncated_file(saved):
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated or corrupt"):
        load_model(saved)


def test_empty_file(tmp_path):
    (tmp_path / "e.npz").write_bytes(b"")
    with pytest.raises(ModelFileError, match="empty"):
        load_model(tmp_path / "e.npz")


def test_corrupt_weights_are_detected(saved):
    # rewrite one array with different values but keep the stored metadata: the checksum catches it
    with np.load(saved, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["layers.0.W"] = arrays["layers.0.W"] + 1
    np.savez(saved, **arrays)
    with pytest.raises(ModelFileError, match="checksum of array 'layers.0.W'"):
        load_model(saved)


def test_flipped_bytes_are_detected(saved):
    data = bytearray(saved.read_bytes())
    middle = len(data) // 3
    data[middle : middle + 16] = bytes(255 - b for b in data[middle : middle + 16])
    saved.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="corrupt"):
        load_model(saved)


def _rewrite_metadata(path, change):
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(arrays["__glassnet__"].tobytes())
    change(meta)
    meta["checksums"]["__glassnet__"] = io._metadata_digest(meta)  # a consistent file: reach validation
    arrays["__glassnet__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(path, **arrays)


def test_newer_format_version(saved):
    _rewrite_metadata(saved, lambda m: m.update(format_version=FORMAT_VERSION + 1, glassnet_version="9.0"))
    with pytest.raises(ModelFileError, match="newer glassnet .*Upgrade glassnet"):
        load_model(saved)


def test_unknown_layer_type_is_refused(saved):
    _rewrite_metadata(saved, lambda m: m["architecture"]["layers"][0].update(type="os.system"))
    with pytest.raises(
        ModelFileError, match=r"invalid metadata: architecture.layers\[0\].type must be one of"
    ):
        load_model(saved)


def test_other_npz_is_not_a_model(tmp_path):
    np.savez(tmp_path / "data.npz", X=np.ones(3))
    with pytest.raises(ModelFileError, match="not a glassnet model file"):
        load_model(tmp_path / "data.npz")


def test_pickled_array_is_refused(tmp_path, saved):
    with zipfile.ZipFile(saved, "a") as z, z.open("evil.npy", "w") as f:
        np.lib.format.write_array(f, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ModelFileError):
        load_model(saved)


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="model file not found"):
        load_model("/nonexistent/model.npz")


def test_atomic_write_keeps_old_file_on_crash(saved, net, monkeypatch):
    before = saved.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(io.np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        save_model(saved, net)
    assert saved.read_bytes() == before
    assert os.listdir(saved.parent) == [saved.name]  # no temporary file left behind


def test_model_error_is_a_value_error():
    assert issubclass(ModelFileError, ValueError)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_estimator_round_trip(tmp_path, kind):
    pytest.importorskip("sklearn")
    from glassnet import MLPClassifier, MLPRegressor
    from glassnet.io import load_estimator, save_estimator

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    if kind == "classifier":
        y = np.array(["ant", "bee", "cat"])[np.argmax(X[:, :3], axis=1)]
        est = MLPClassifier(hidden_layer_sizes=(7,), max_iter=5, random_state=0)
    else:
        y = X @ np.arange(4.0)
        est = MLPRegressor(hidden_layer_sizes=(7,), max_iter=5, random_state=0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning after 5 epochs
        est.fit(X, y)
    path = save_estimator(tmp_path / "est.npz", est, info={"note": "test"})
    back = load_estimator(path)
    assert type(back) is type(est)
    assert back.get_params() == est.get_params()
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    if kind == "classifier":
        np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))
        np.testing.assert_array_equal(back.classes_, est.classes_)
        assert load_model(path).class_names == ["ant", "bee", "cat"]
    assert back.n_iter_ == est.n_iter_ and back.loss_curve_ == est.loss_curve_
    # the network inside is a plain model too
    np.testing.assert_array_equal(load_model(path).network.forward(X), est.network_.forward(X))


def test_load_estimator_refuses_plain_network(saved):
    pytest.importorskip("sklearn")
    from glassnet.io import load_estimator

    with pytest.raises(ModelFileError, match="plain network"):
        load_estimator(saved)


def _classifier_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    return X, (X[:, 0] > 0).astype(int)


def test_class_weight_keeps_int_keys_and_refits(tmp_path):
    pytest.importorskip("sklearn")
    import warnings

    from glassnet import MLPClassifier
    from glassnet.io import load_estimator, save_estimator

    X, y = _classifier_data()
    est = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0, class_weight={0: 2.0, 1: 1.0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning
        est.fit(X, y)
        back = load_estimator(save_estimator(tmp_path / "e.npz", est))
        assert back.class_weight == {0: 2.0, 1: 1.0}
        assert all(type(k) is int for k in back.class_weight)
        back.fit(X, y)  # refits with the restored parameters
    assert back.get_params() == est.get_params()


@pytest.mark.parametrize("make", [lambda: np.random.RandomState(7), lambda: np.random.default_rng(7)])
def test_random_state_object_keeps_its_state(tmp_path, make):
    pytest.importorskip("sklearn")
    import warnings

    from glassnet import MLPClassifier
    from glassnet.io import load_estimator, save_estimator

    X, y = _classifier_data()
    est = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=make())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning
        est.fit(X, y)
    back = load_estimator(save_estimator(tmp_path / "e.npz", est))
    assert type(back.random_state) is type(est.random_state)
    draw = (lambda r: r.randint(0, 2**31, 5)) if isinstance(est.random_state, np.random.RandomState) else (
        lambda r: r.integers(0, 2**31, 5))  # fmt: skip
    np.testing.assert_array_equal(draw(back.random_state), draw(est.random_state))


def test_unstorable_parameter_is_named_in_a_warning(tmp_path):
    pytest.importorskip("sklearn")
    import warnings

    from glassnet import MLPClassifier
    from glassnet.io import load_estimator, save_estimator

    X, y = _classifier_data()
    est = MLPClassifier(
        hidden_layer_sizes=(4,), max_iter=3, random_state=np.random.Generator(np.random.MT19937(3))
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning
        est.fit(X, y)
    with pytest.warns(
        UserWarning, match="parameter random_state=Generator.* cannot be stored .* random_state=None"
    ):
        path = save_estimator(tmp_path / "e.npz", est)
    assert load_estimator(path).random_state is None
