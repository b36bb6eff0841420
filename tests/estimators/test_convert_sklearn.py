"""from_sklearn and to_sklearn: fitted multilayer perceptrons between the two libraries, same predictions."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

pytest.importorskip("sklearn")

from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkClassifier  # noqa: E402
from sklearn.neural_network import MLPRegressor as SkRegressor  # noqa: E402

import glassnet  # noqa: E402

TIGHT = {"rtol": 1e-12, "atol": 1e-14}  # the same arithmetic up to the order of a few float64 sums
SK_ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).normal(size=(60, 4))


def _targets(X, kind):
    k = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.3)
    return {
        "multiclass": np.array(["a", "b", "c"])[k],
        "binary": np.where(X[:, 2] > 0, 7, 3),
        "multilabel": (X[:, :3] > 0).astype(int),
        "regression": X[:, 0] * 2 - X[:, 1],
        "multioutput": np.column_stack([X[:, 0] + X[:, 3], X[:, 1] * X[:, 2]]),
    }[kind]


def _fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def _check_same_predictions(a, b, X):
    if hasattr(a, "predict_proba"):
        assert_array_equal(a.predict(X), b.predict(X))
        assert_allclose(a.predict_proba(X), b.predict_proba(X), **TIGHT)
        assert_array_equal(a.classes_, b.classes_)
    else:
        assert_allclose(a.predict(X), b.predict(X), **TIGHT)
    assert a.n_features_in_ == b.n_features_in_


@pytest.mark.parametrize("kind", ["multiclass", "binary", "multilabel"])
@pytest.mark.parametrize("activation", SK_ACTIVATIONS)
def test_classifier_both_ways(X, activation, kind):
    sk = _fit(SkClassifier((6, 5), activation=activation, max_iter=30, random_state=0), X, _targets(X, kind))
    gl = glassnet.from_sklearn(sk)
    assert isinstance(gl, glassnet.MLPClassifier)
    assert gl.get_params()["activation"] == activation and gl.hidden_layer_sizes == (6, 5)
    assert gl.max_iter == 30  # the conversion's one-iteration fit leaves the hyper-parameters as they were
    _check_same_predictions(sk, gl, X)
    assert gl.n_iter_ == sk.n_iter_ and gl.loss_curve_ == sk.loss_curve_
    back = glassnet.to_sklearn(gl)
    assert isinstance(back, SkClassifier)
    _check_same_predictions(sk, back, X)
    for a, b in zip(back.coefs_, sk.coefs_, strict=True):
        assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["regression", "multioutput"])
@pytest.mark.parametrize("activation", SK_ACTIVATIONS)
def test_regressor_both_ways(X, activation, kind):
    sk = _fit(
        SkRegressor(hidden_layer_sizes=(7,), activation=activation, max_iter=40, random_state=0),
        X,
        _targets(X, kind),
    )
    gl = glassnet.from_sklearn(sk)
    assert isinstance(gl, glassnet.MLPRegressor)
    _check_same_predictions(sk, gl, X)
    _check_same_predictions(sk, glassnet.to_sklearn(gl), X)


def test_poisson_regressor_and_float32(X):
    y = np.exp(X[:, 0] / 2)
    sk = _fit(
        SkRegressor(hidden_layer_sizes=(5,), loss="poisson", max_iter=40, random_state=0),
        X.astype(np.float32),
        y,
    )
    gl = glassnet.from_sklearn(sk)
    assert gl.loss == "poisson" and gl.network_.dtype == np.float32
    assert_allclose(gl.predict(X), sk.predict(X.astype(np.float32)), rtol=1e-6)
    back = glassnet.to_sklearn(gl)
    assert back.coefs_[0].dtype == np.float32
    assert_allclose(back.predict(X.astype(np.float32)), sk.predict(X.astype(np.float32)), rtol=1e-6)


def test_glassnet_first_with_batch_norm_and_dropout(X):
    """Batch norm folds into the layer before it and dropout vanishes: scikit-learn predicts the same."""
    gl = glassnet.MLPClassifier(
        hidden_layer_sizes=(9, 4), batch_norm=True, dropout=0.2, solver="adam", max_iter=25, random_state=0
    )
    _fit(gl, X, _targets(X, "multiclass"))
    sk = glassnet.to_sklearn(gl)
    assert len(sk.coefs_) == 3
    assert_array_equal(sk.predict(X), gl.predict(X))
    assert_allclose(sk.predict_proba(X), gl.predict_proba(X), rtol=1e-9, atol=1e-12)  # folding rounds


def test_feature_names_travel(X):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    sk = _fit(SkClassifier((4,), max_iter=20, random_state=0), frame, _targets(X, "binary"))
    gl = glassnet.from_sklearn(sk)
    assert list(gl.feature_names_in_) == ["a", "b", "c", "d"]
    assert_array_equal(gl.predict(frame), sk.predict(frame))


def test_activations_scikit_learn_lacks_are_a_clear_error(X):
    for activation in ("leaky_relu", "gelu"):
        gl = _fit(
            glassnet.MLPClassifier((4,), activation=activation, max_iter=5, random_state=0),
            X,
            _targets(X, "binary"),
        )
        with pytest.raises(ValueError, match=f"no '{activation}' activation"):
            glassnet.to_sklearn(gl)


def test_unfitted_and_wrong_types_are_clear_errors():
    with pytest.raises(NotFittedError):
        glassnet.from_sklearn(SkClassifier())
    with pytest.raises(NotFittedError):
        glassnet.to_sklearn(glassnet.MLPRegressor())
    with pytest.raises(TypeError, match="scikit-learn"):
        glassnet.from_sklearn(glassnet.MLPClassifier())
    with pytest.raises(TypeError, match="glassnet"):
        glassnet.to_sklearn(SkClassifier())


def test_conversion_still_builds_what_predict_needs(X):
    """A guard for glassnet's estimator refactors: the converted model is a complete fitted estimator that
    pickles, predicts, scores and continues training."""
    import pickle

    sk = _fit(SkClassifier((5,), solver="adam", max_iter=10, random_state=0), X, _targets(X, "multiclass"))
    gl = pickle.loads(pickle.dumps(glassnet.from_sklearn(sk)))
    _check_same_predictions(sk, gl, X)
    assert gl.score(X, _targets(X, "multiclass")) == sk.score(X, _targets(X, "multiclass"))
    before = gl.coefs_[0].copy()
    gl.partial_fit(X, _targets(X, "multiclass"))  # continues from the copied weights and sample count
    assert gl.t_ == sk.t_ + len(X)
    assert not np.array_equal(gl.coefs_[0], before)


def test_docstring_examples():
    import doctest

    import glassnet.export._sklearn as module

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(
    "loss", [{"loss": "quantile", "quantile": 0.9}, {"loss": "huber"}, {"loss": "absolute_error"}]
)
def test_regression_losses_scikit_learn_lacks_convert_with_a_warning(X, loss):
    """The predictions of an identity output do not depend on the loss: the model converts, and says so."""
    gl = _fit(glassnet.MLPRegressor(hidden_layer_sizes=(5,), max_iter=30, random_state=0, **loss), X, X[:, 0])
    with pytest.warns(UserWarning, match=f"no loss='{loss['loss']}'.*loss='squared_error'"):
        sk = glassnet.to_sklearn(gl)
    assert sk.loss == "squared_error"
    _check_same_predictions(gl, sk, X)
