"""ONNX export: onnx.checker, onnxruntime's CPU provider and onnx's reference evaluator all reproduce
glassnet's predictions, for every layer type, activation, head, label type and dtype."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("sklearn")

from onnx.reference import ReferenceEvaluator  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

import glassnet  # noqa: E402
from glassnet import functional as F  # noqa: E402
from glassnet.export import save_onnx, to_onnx  # noqa: E402
from glassnet.layers import BatchNorm, Dense, Layer, Softmax, Tanh  # noqa: E402
from glassnet.network import Sequential, build_mlp  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ACTIVATIONS = ["identity", "logistic", "tanh", "relu", "leaky_relu", "gelu"]
TOL = {"rtol": 2e-5, "atol": 2e-6}  # float32 tolerance, for float32 and float64 models alike


def run_both(onx, X) -> tuple[list, list]:
    """The outputs of onnxruntime (CPU) and of onnx's pure-Python reference evaluator."""
    onnx.checker.check_model(onx, full_check=True)
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    with np.errstate(over="ignore", invalid="ignore"):  # the reference Sigmoid evaluates both branches
        reference = ReferenceEvaluator(onx).run(None, {"X": X})
    return session.run(None, {"X": X}), reference


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).normal(size=(64, 5))


def _trained_stats(net, seed=1):
    """Give every batch norm non-trivial running statistics, gamma and beta (a fresh one is the identity)."""
    rng = np.random.default_rng(seed)
    for name, value in {**net.parameters(), **net.buffers()}.items():
        if name.endswith(("gamma", "running_var")):
            value[...] = rng.uniform(0.5, 2.0, size=value.shape)
        elif name.endswith(("beta", "running_mean")):
            value[...] = rng.normal(size=value.shape)
    return net


# --- networks: every activation, batch norm, dropout, dtype ------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_network_every_activation_with_batch_norm_and_dropout(X, activation, dtype):
    net = _trained_stats(
        build_mlp([5, 7, 6, 3], activation=activation, seed=2, dtype=dtype, batch_norm=True, dropout=0.3)
    )
    onx = to_onnx(net, classes=["a", "b", "c"])
    ops = {node.op_type for node in onx.graph.node}
    assert "Dropout" not in ops and "BatchNormalization" not in ops  # removed, and folded into the Gemm
    assert sum(node.op_type == "Gemm" for node in onx.graph.node) == 3
    for label, proba in run_both(onx, X.astype(dtype)):
        assert proba.dtype == dtype
        assert_allclose(proba, net.predict_proba(X), **TOL)
        assert_array_equal(label, np.array(["a", "b", "c"])[net.predict(X)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_export_dtype_differs_from_the_network(X, dtype):
    other = np.float64 if dtype == np.float32 else np.float32
    net = build_mlp([5, 8, 4], activation="tanh", seed=0, dtype=other)
    onx = to_onnx(net, dtype=dtype)
    assert onx.graph.input[0].type.tensor_type.elem_type == onnx.helper.np_dtype_to_tensor_dtype(
        np.dtype(dtype)
    )
    for label, proba in run_both(onx, X.astype(dtype)):
        assert_allclose(proba, net.predict_proba(X), **TOL)
        assert_array_equal(label, net.predict(X))  # default labels: the class indices, int64
        assert label.dtype == np.int64


@pytest.mark.parametrize("opset", [17, 20])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("exact", [False, True])
def test_gelu_both_forms_every_opset(X, monkeypatch, opset, dtype, exact):
    """glassnet's GELU is exported in the form it computes; the exact erf form is checked by giving glassnet
    an exact GELU for the test."""
    if exact:
        from scipy.special import erf

        monkeypatch.setattr(F, "gelu", lambda x: (0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))).astype(x.dtype))
    net = build_mlp([5, 9, 3], activation="gelu", seed=4, dtype=dtype)
    X3 = 3 * X  # reach the tails, where the two forms differ most
    onx = to_onnx(net, opset=opset)
    ops = [node.op_type for node in onx.graph.node]
    uses_gelu_op = opset >= 20 and (dtype == np.float32 or not exact)
    assert ("Gelu" in ops) == uses_gelu_op
    if not uses_gelu_op:
        assert ("Erf" in ops) == exact
    for _, proba in run_both(onx, X3.astype(dtype)):
        assert_allclose(proba, net.predict_proba(X3), **TOL)


def test_gelu_exact_and_tanh_differ_so_the_test_above_can_fail(X):
    from scipy.special import erf

    x = np.linspace(-4, 4, 101)
    assert np.max(np.abs(F.gelu(x) - 0.5 * x * (1.0 + erf(x / np.sqrt(2.0))))) > 1e-4


def test_batch_norm_first_and_softmax_layer_and_regression_heads(X):
    """A batch norm with no Dense before it becomes Mul + Add; a stand-alone Softmax layer is exported."""
    net = Sequential(
        [
            BatchNorm(5, dtype=np.float64),
            Dense(5, 4, rng=0, dtype=np.float64),
            Tanh(),
            Dense(4, 3, rng=1, dtype=np.float64),
            Softmax(),
        ],
        loss="squared_error",
        dtype=np.float64,
    )
    _trained_stats(net)
    onx = to_onnx(net)
    assert [o.name for o in onx.graph.output] == ["variable"]
    assert {"Mul", "Add", "Softmax"} <= {node.op_type for node in onx.graph.node}
    for (value,) in run_both(onx, X):
        assert value.shape == (len(X), 3)
        assert_allclose(value, net.predict_proba(X), **TOL)


def test_network_sigmoid_head_is_multilabel_or_binary(X):
    multi = build_mlp([5, 6, 3], loss="sigmoid_binary_cross_entropy", seed=3)
    for label, proba in run_both(to_onnx(multi), X.astype(np.float32)):
        assert_array_equal(label, multi.predict(X))
        assert_allclose(proba, multi.predict_proba(X), **TOL)
    single = build_mlp([5, 6, 1], loss="sigmoid_binary_cross_entropy", seed=3)
    for label, proba in run_both(to_onnx(single, classes=["no", "yes"]), X.astype(np.float32)):
        p = single.predict_proba(X)[:, 0]
        assert_allclose(proba, np.column_stack([1 - p, p]), **TOL)
        assert_array_equal(label, np.where(p > 0.5, "yes", "no"))


# --- estimators: every task, label type and dtype ----------------------------------------------------------


def _labels(X, kind):
    k = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
    return {
        "str": np.array(["cat", "dog", "emu"])[k],
        "int": np.array([-3, 7, 42])[k],
        "float": np.array([1.0, 2.0, 3.0])[k],
        "binary_str": np.where(X[:, 2] > 0, "spam", "ham"),
        "binary_int": np.where(X[:, 2] > 0, 5, 2),
        "multilabel": (X[:, :3] > 0).astype(int),
    }[kind]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["str", "int", "float", "binary_str", "binary_int", "multilabel"])
def test_classifier(X, kind, dtype):
    y = _labels(X, kind)
    clf = glassnet.MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=60, random_state=0)
    clf.fit(X.astype(dtype), y)
    onx = to_onnx(clf)
    assert [o.name for o in onx.graph.output] == ["label", "probabilities"]
    for label, proba in run_both(onx, X.astype(dtype)):
        assert_allclose(proba, clf.predict_proba(X), **TOL)
        assert_array_equal(label, clf.predict(X))
        if kind in ("str", "binary_str"):
            assert label.dtype == object and isinstance(label[0], str)
        else:
            assert label.dtype == np.int64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
@pytest.mark.parametrize("n_outputs", [1, 2])
def test_regressor(X, loss, n_outputs, dtype):
    y = np.exp(X[:, :n_outputs] / 2) if loss == "poisson" else X[:, :n_outputs] @ np.eye(n_outputs) * 3
    reg = glassnet.MLPRegressor(
        hidden_layer_sizes=(8,), activation="tanh", loss=loss, solver="lbfgs", max_iter=60, random_state=0
    )
    reg.fit(X.astype(dtype), y.ravel() if n_outputs == 1 else y)
    onx = to_onnx(reg)
    assert ("Exp" in {n.op_type for n in onx.graph.node}) == (loss == "poisson")
    for (value,) in run_both(onx, X.astype(dtype)):
        assert value.shape == (len(X), n_outputs)
        assert_allclose(value, reg.predict(X).reshape(len(X), n_outputs), **TOL)


def test_batch_norm_and_dropout_estimator(X):
    clf = glassnet.MLPClassifier(
        hidden_layer_sizes=(12, 6), batch_norm=True, dropout=0.2, solver="adam", max_iter=30, random_state=0
    )
    clf.fit(X, _labels(X, "str"))
    for label, proba in run_both(to_onnx(clf), X):
        assert_allclose(proba, clf.predict_proba(X), **TOL)
        assert_array_equal(label, clf.predict(X))


def test_test_time_rotations_are_not_exported_and_say_so():
    images = np.random.default_rng(1).random((60, 16))  # 4x4 images
    clf = glassnet.MLPClassifier((8,), max_iter=5, random_state=0, test_time_rotations=(-5.0, 0.0, 5.0))
    clf.fit(images, np.arange(60) % 3)
    with pytest.warns(UserWarning, match="image alone"):
        onx = to_onnx(clf)
    alone = clf.predict_proba(images)
    clf.set_params(test_time_rotations=None)
    _, proba = run_both(onx, images)[0]
    assert_allclose(proba, clf.predict_proba(images), **TOL)
    assert not np.allclose(proba, alone)


# --- bad input: clear errors -------------------------------------------------------------------------------


def test_unfitted_estimator_is_a_clear_error():
    with pytest.raises(NotFittedError, match="not fitted"):
        to_onnx(glassnet.MLPClassifier())
    with pytest.raises(NotFittedError, match="not fitted"):
        to_onnx(glassnet.MLPRegressor())


def test_other_objects_layers_and_settings_are_clear_errors():
    from sklearn.neural_network import MLPClassifier

    with pytest.raises(TypeError, match="from_sklearn"):
        to_onnx(MLPClassifier())

    class Custom(Layer):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="Custom"):
        to_onnx(Sequential([Dense(3, 2, rng=0), Custom()]))
    net = build_mlp([3, 4, 2], seed=0)
    with pytest.raises(ValueError, match="opset"):
        to_onnx(net, opset=7)
    with pytest.raises(ValueError, match="dtype"):
        to_onnx(net, dtype=np.float16)
    with pytest.raises(ValueError, match="3 labels"):
        to_onnx(net, classes=["a", "b", "c"])
    with pytest.raises(TypeError, match="labels"):
        to_onnx(net, classes=[0.5, 1.5])


def test_save_onnx_is_atomic_and_loadable(tmp_path, X):
    net = build_mlp([5, 4, 3], seed=0)
    path = save_onnx(to_onnx(net), tmp_path / "sub" / "m.onnx")
    assert sorted(p.name for p in path.parent.iterdir()) == ["m.onnx"]  # no temporary left behind
    (label, _), _ = run_both(onnx.load(path), X.astype(np.float32))
    assert_array_equal(label, net.predict(X))


# --- skl2onnx: a whole pipeline ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def skl2onnx():
    skl2onnx = pytest.importorskip("skl2onnx")
    from glassnet.export import register_skl2onnx

    register_skl2onnx()
    register_skl2onnx()  # twice is harmless
    return skl2onnx


@pytest.mark.parametrize("zipmap", [True, False])
def test_skl2onnx_pipeline_classifier(X, skl2onnx, zipmap):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    Xs = X * 10 + 3
    mlp = glassnet.MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=80, random_state=0)
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", mlp)]).fit(Xs, _labels(X, "str"))
    options = None if zipmap else {id(mlp): {"zipmap": False}}
    onx = skl2onnx.to_onnx(pipe, Xs[:1].astype(np.float32), options=options)
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    label, proba = session.run(None, {"X": Xs.astype(np.float32)})
    assert_array_equal(label, pipe.predict(Xs))
    if zipmap:
        proba = np.array([[row[c] for c in pipe.classes_] for row in proba])
    assert_allclose(proba, pipe.predict_proba(Xs), rtol=1e-4, atol=1e-5)


def test_skl2onnx_pipeline_regressor_float64(X, skl2onnx):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    mlp = glassnet.MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=80, random_state=0)
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", mlp)]).fit(X, X[:, :2] @ [1.0, -2.0])
    onx = skl2onnx.to_onnx(pipe, X[:1])
    (value,) = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"]).run(
        None, {"X": X}
    )
    assert_allclose(value.ravel(), pipe.predict(X), **TOL)


def test_skl2onnx_multilabel_needs_zipmap_off(X, skl2onnx):
    y = _labels(X, "multilabel")
    mlp = glassnet.MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=60, random_state=0).fit(
        X, y
    )
    with pytest.raises(ValueError, match="zipmap"):
        skl2onnx.to_onnx(mlp, X[:1].astype(np.float32))
    onx = skl2onnx.to_onnx(mlp, X[:1].astype(np.float32), options={id(mlp): {"zipmap": False}})
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    label, proba = session.run(None, {"X": X.astype(np.float32)})
    assert_array_equal(label, mlp.predict(X))
    assert_allclose(proba, mlp.predict_proba(X), **TOL)


# --- the command line --------------------------------------------------------------------------------------


def test_cli_export_estimator_and_network_files(tmp_path, X, capsys):
    from glassnet.cli import main
    from glassnet.io import save_estimator, save_model

    clf = glassnet.MLPClassifier(hidden_layer_sizes=(6,), solver="lbfgs", max_iter=40, random_state=0)
    clf.fit(X, _labels(X, "int"))
    save_estimator(tmp_path / "est.npz", clf)
    assert (
        main(["export", str(tmp_path / "est.npz"), "--format", "onnx", "-o", str(tmp_path / "est.onnx")]) == 0
    )
    assert "est.onnx" in capsys.readouterr().out
    (label, proba), _ = run_both(onnx.load(tmp_path / "est.onnx"), X)
    assert_array_equal(label, clf.predict(X))

    net = build_mlp([5, 6, 3], seed=0)
    save_model(tmp_path / "net.npz", net, preprocessing={"scale": 16.0}, classes=["x", "y", "z"])
    assert main(["export", str(tmp_path / "net.npz"), "-o", str(tmp_path / "net.onnx"), "--opset", "20"]) == 0
    (label, proba), _ = run_both(onnx.load(tmp_path / "net.onnx"), (16 * X).astype(np.float32))  # raw units
    assert_allclose(proba, net.predict_proba(X), **TOL)
    assert_array_equal(label, np.array(["x", "y", "z"])[net.predict(X)])


def test_cli_export_errors(tmp_path, capsys):
    from glassnet.cli import main

    assert main(["export", str(tmp_path / "missing.npz"), "-o", str(tmp_path / "m.onnx")]) == 1
    assert "not found" in capsys.readouterr().err
    assert main(["export", "x.npz"]) == 2  # -o is required
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize("loss", ["poisson", "huber", "absolute_error"])
def test_network_regression_losses_export_by_their_link(X, loss):
    from glassnet.losses import LOSSES

    if loss not in LOSSES:
        pytest.skip(f"this glassnet has no {loss} loss")
    net = build_mlp([5, 6, 2], activation="relu", loss=loss, seed=0, dtype=np.float64)
    for (value,) in run_both(to_onnx(net), X):
        assert_allclose(value, net.predict_proba(X), **TOL)


def test_docstring_examples():
    import doctest

    import glassnet.export._onnx as module

    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_a_subclass_of_an_estimator_exports(X):
    class Tuned(glassnet.MLPRegressor):
        pass

    reg = Tuned(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=20, random_state=0).fit(X, X[:, 0])
    for (value,) in run_both(to_onnx(reg), X):
        assert_allclose(value.ravel(), reg.predict(X), **TOL)
