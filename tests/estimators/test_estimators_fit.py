"""Behaviour of MLPClassifier / MLPRegressor: targets, dtypes, sparse input, solvers, stopping, additions."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_iris, make_multilabel_classification
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from glassnet import MLPClassifier, MLPRegressor
from glassnet.exceptions import TrainingDivergedError
from glassnet.network import Sequential

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.usefixtures("one_blas_thread"),
]


X_IRIS, Y_IRIS = load_iris(return_X_y=True)
X_IRIS = StandardScaler().fit_transform(X_IRIS)


def regression_data(n=120, n_outputs=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    W = rng.normal(size=(4, n_outputs))
    Y = X @ W + 0.05 * rng.normal(size=(n, n_outputs))
    return X, (Y[:, 0] if n_outputs == 1 else Y)


# --- classification targets ------------------------------------------------------------------------------------


def test_multiclass_fit_predict_and_attributes():
    clf = MLPClassifier(hidden_layer_sizes=(10, 8), max_iter=300, random_state=0).fit(X_IRIS, Y_IRIS)
    assert clf.score(X_IRIS, Y_IRIS) > 0.9
    assert clf.out_activation_ == "softmax" and clf.target_type_ == "multiclass"
    assert clf.n_layers_ == 4 and clf.n_outputs_ == 3 and clf.n_features_in_ == 4
    assert [c.shape for c in clf.coefs_] == [(4, 10), (10, 8), (8, 3)]
    assert [b.shape for b in clf.intercepts_] == [(10,), (8,), (3,)]
    assert isinstance(clf.network_, Sequential)
    assert len(clf.loss_curve_) == clf.n_iter_ and clf.t_ == clf.n_iter_ * len(X_IRIS)
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None


def test_coefs_are_live_views_in_sklearn_layout():
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X_IRIS, Y_IRIS)
    manual = np.maximum(X_IRIS @ clf.coefs_[0] + clf.intercepts_[0], 0) @ clf.coefs_[1] + clf.intercepts_[1]
    np.testing.assert_allclose(
        clf.predict_log_proba(X_IRIS), manual - np.log(np.exp(manual).sum(1, keepdims=True))
    )
    clf.coefs_[1][:] = 0.0
    clf.intercepts_[1][:] = [0.0, 5.0, 0.0]
    assert np.all(clf.predict(X_IRIS) == 1)


def test_string_labels_and_binary_single_output():
    labels = np.array(["setosa", "versicolor", "virginica"])[Y_IRIS]
    binary = np.where(Y_IRIS == 0, "yes", "no")
    clf = MLPClassifier(max_iter=200, random_state=0).fit(X_IRIS, binary)
    assert clf.n_outputs_ == 1 and clf.out_activation_ == "logistic"
    assert list(clf.classes_) == ["no", "yes"]
    assert set(clf.predict(X_IRIS)) <= {"no", "yes"} and clf.score(X_IRIS, binary) > 0.95
    proba = clf.predict_proba(X_IRIS)
    assert proba.shape == (150, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    multi = MLPClassifier(max_iter=50, random_state=0).fit(X_IRIS, labels)
    assert multi.predict(X_IRIS[:2]).dtype == labels.dtype


def test_multilabel():
    X, Y = make_multilabel_classification(n_samples=80, n_features=6, n_classes=3, random_state=0)
    X = StandardScaler().fit_transform(X)
    clf = MLPClassifier(hidden_layer_sizes=(20,), solver="lbfgs", max_iter=300, random_state=0).fit(X, Y)
    assert clf.target_type_ == "multilabel-indicator" and clf.out_activation_ == "logistic"
    assert list(clf.classes_) == [0, 1, 2]
    assert clf.predict(X).shape == Y.shape and clf.predict_proba(X).shape == Y.shape
    assert clf.score(X, Y) > 0.8
    assert MLPClassifier(max_iter=3).partial_fit(X, Y).classes_.tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="multi-label"):
        MLPClassifier(class_weight="balanced", max_iter=2).fit(X, Y)


def test_predict_log_proba_is_finite_where_log_of_proba_is_not():
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X_IRIS, Y_IRIS)
    clf.intercepts_[-1][:] = [0.0, 900.0, -900.0]  # probabilities underflow to exactly 0
    with np.errstate(divide="ignore"):
        naive = np.log(clf.predict_proba(X_IRIS))
    log_proba = clf.predict_log_proba(X_IRIS)
    assert np.isneginf(naive).any() and np.all(np.isfinite(log_proba))
    finite = np.isfinite(naive)
    np.testing.assert_allclose(log_proba[finite], naive[finite], rtol=1e-7, atol=1e-9)
    binary = MLPClassifier(max_iter=5, random_state=0).fit(X_IRIS, Y_IRIS == 0)
    binary.intercepts_[-1][:] = 900.0
    assert np.all(np.isfinite(binary.predict_log_proba(X_IRIS)))


def test_a_single_class_is_fitted_and_predicted_as_scikit_learn_does():
    clf = MLPClassifier(max_iter=20).fit([[0.0], [1.0], [2.0]], [1, 1, 1])
    assert list(clf.classes_) == [1]
    assert list(clf.predict([[0.5], [50.0]])) == [1, 1]
    np.testing.assert_array_equal(clf.predict_proba([[0.5]]), [[1.0]])
    np.testing.assert_array_equal(clf.predict_log_proba([[0.5]]), [[0.0]])
    assert list(MLPClassifier(max_iter=5).fit(X_IRIS[:10], ["a"] * 10).predict(X_IRIS[:2])) == ["a", "a"]


def test_unknown_label_type_errors():
    with pytest.raises(ValueError, match="Unknown label type"):
        MLPClassifier().fit(X_IRIS, np.linspace(0, 1, 150))
    with pytest.raises(ValueError, match="non-zero sample_weight"):
        MLPClassifier().fit(X_IRIS, Y_IRIS, sample_weight=(Y_IRIS == 2).astype(float))


# --- bad input -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_errors(bad):
    X = X_IRIS.copy()
    X[3, 1] = bad
    with pytest.raises(ValueError, match="Input X contains"):
        MLPClassifier().fit(X, Y_IRIS)
    X_reg, y_reg = regression_data()
    y_reg[0] = bad
    with pytest.raises(ValueError, match="Input y contains"):
        MLPRegressor().fit(X_reg, y_reg)


def test_wrong_number_of_features_and_unfitted():
    with pytest.raises(NotFittedError):
        MLPRegressor().predict(X_IRIS)
    clf = MLPClassifier(max_iter=2).fit(X_IRIS, Y_IRIS)
    with pytest.raises(ValueError, match="X has 3 features, but MLPClassifier is expecting 4 features"):
        clf.predict(X_IRIS[:, :3])


def test_bad_sample_weight():
    with pytest.raises(ValueError, match="sample_weight.shape"):
        MLPClassifier().fit(X_IRIS, Y_IRIS, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="Negative"):
        MLPClassifier().fit(X_IRIS, Y_IRIS, sample_weight=-np.ones(150))


# --- dtypes and sparse input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_dtype_is_kept(dtype, solver):
    X, y = regression_data()
    reg = MLPRegressor(hidden_layer_sizes=(8,), solver=solver, max_iter=20, random_state=0).fit(
        X.astype(dtype), y
    )
    assert reg.network_.dtype == dtype
    assert reg.predict(X.astype(dtype)).dtype == dtype
    assert all(c.dtype == dtype for c in reg.coefs_)
    clf = MLPClassifier(max_iter=5, solver=solver, random_state=0).fit(X_IRIS.astype(dtype), Y_IRIS)
    assert clf.predict_proba(X_IRIS.astype(dtype)).dtype == dtype


@pytest.mark.parametrize("dtype", ["float32", np.float32, np.dtype("float64")])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_dtype_parameter_sets_the_precision_whatever_the_input(dtype, solver):
    want = np.dtype(dtype)
    X64, X32 = X_IRIS.astype(np.float64), X_IRIS.astype(np.float32)
    clf = MLPClassifier(max_iter=200, solver=solver, random_state=0, dtype=dtype).fit(X64, Y_IRIS)
    assert clf.network_.dtype == want and all(c.dtype == want for c in clf.coefs_)
    assert clf.predict_proba(X64).dtype == want and clf.predict_proba(X32).dtype == want
    assert clf.score(X64, Y_IRIS) > 0.8
    # the same fit on float32 input: the same model, bit for bit (the input is cast once, before anything)
    again = MLPClassifier(max_iter=200, solver=solver, random_state=0, dtype=dtype).fit(X32, Y_IRIS)
    if want == np.float32:
        np.testing.assert_array_equal(again.network_.flat_params, clf.network_.flat_params)
    # partial_fit and warm_start continue in the network's dtype, whatever the later input
    if solver == "adam":
        clf.partial_fit(X64 if want == np.float32 else X32, Y_IRIS)
        assert clf.network_.dtype == want


def test_a_numpy_dtype_parameter_survives_a_model_file(tmp_path):
    from glassnet.estimators._saving import save_estimator
    from glassnet.estimators.persistence import load_estimator

    clf = MLPClassifier(max_iter=5, random_state=0, dtype=np.float32).fit(X_IRIS, Y_IRIS)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # not skipped as a value JSON cannot hold
        save_estimator(tmp_path / "m.npz", clf)
    loaded = load_estimator(tmp_path / "m.npz")
    assert loaded.dtype == "float32" and loaded.network_.dtype == np.float32
    np.testing.assert_array_equal(loaded.predict_proba(X_IRIS), clf.predict_proba(X_IRIS))


def test_dtype_parameter_is_validated_with_a_clear_message():
    from glassnet.config.params import InvalidParameterError

    for bad in ("float16", np.int32, 3):
        with pytest.raises(
            InvalidParameterError, match="'dtype' parameter of MLPClassifier must be float32 or "
        ):
            MLPClassifier(dtype=bad).fit(X_IRIS, Y_IRIS)


def test_float32_training_of_float64_input_matches_float64_training_in_accuracy():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, random_state=0, stratify=y)
    scores = {
        dtype: MLPClassifier(max_iter=40, random_state=0, dtype=dtype)
        .fit(X_train, y_train)
        .score(X_test, y_test)
        for dtype in ("float32", None)
    }
    assert scores["float32"] > 0.95 and abs(scores["float32"] - scores[None]) < 0.01, scores


@pytest.mark.parametrize("solver", ["sgd", "lbfgs"])
def test_sparse_input_matches_dense(solver):
    X = X_IRIS.copy()
    X[np.abs(X) < 0.5] = 0.0
    params = dict(hidden_layer_sizes=(6,), solver=solver, max_iter=30, random_state=0, shuffle=False)
    dense = MLPClassifier(**params).fit(X, Y_IRIS)
    sparse = MLPClassifier(**params).fit(sp.csr_matrix(X), Y_IRIS)
    np.testing.assert_allclose(sparse.predict_proba(sp.csc_matrix(X)), dense.predict_proba(X), rtol=1e-6)


# --- regression ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["lbfgs", "adam", "sgd"])
def test_regression_solvers(solver):
    X, y = regression_data(n=200)
    reg = MLPRegressor(hidden_layer_sizes=(16,), solver=solver, max_iter=300, random_state=0)
    reg.set_params(learning_rate_init=0.01) if solver != "lbfgs" else None
    assert reg.fit(X, y).score(X, y) > 0.9
    assert reg.out_activation_ == "identity" and reg.predict(X).shape == (200,)


def test_multioutput_regression():
    X, Y = regression_data(n=150, n_outputs=3)
    reg = MLPRegressor(hidden_layer_sizes=(16,), solver="lbfgs", max_iter=300, random_state=0).fit(X, Y)
    assert reg.n_outputs_ == 3 and reg.predict(X).shape == (150, 3) and reg.score(X, Y) > 0.9


def test_poisson_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = rng.poisson(np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1]))
    reg = MLPRegressor(loss="poisson", hidden_layer_sizes=(8,), solver="lbfgs", max_iter=200, random_state=0)
    reg.fit(X, y)
    assert reg.out_activation_ == "exp" and np.all(reg.predict(X) > 0)
    with pytest.raises(ValueError, match="non-negative"):
        MLPRegressor(loss="poisson").fit(X, -np.abs(y) - 1)


# --- partial_fit and warm_start --------------------------------------------------------------------------------


def test_partial_fit_classifier():
    clf = MLPClassifier(hidden_layer_sizes=(10,), random_state=0, learning_rate_init=0.01)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X_IRIS, Y_IRIS)
    with pytest.raises(ValueError, match="classes not in `self.classes_`"):
        clone(clf).partial_fit(X_IRIS, Y_IRIS, classes=[0, 1])
    for _ in range(30):
        clf.partial_fit(X_IRIS[Y_IRIS < 2], Y_IRIS[Y_IRIS < 2], classes=[0, 1, 2])
        clf.partial_fit(X_IRIS[Y_IRIS == 2], Y_IRIS[Y_IRIS == 2])
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 60 and clf.t_ == 60 * 75
    assert clf.score(X_IRIS, Y_IRIS) > 0.8
    with pytest.raises(ValueError, match="classes not in `self.classes_`"):
        clf.partial_fit(X_IRIS[:2], [0, 7])
    with pytest.raises(ValueError, match="early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X_IRIS, Y_IRIS, classes=[0, 1, 2])


@pytest.mark.parametrize("estimator", [MLPClassifier(solver="lbfgs"), MLPRegressor(solver="lbfgs")])
def test_partial_fit_only_for_stochastic_solvers(estimator):
    assert not hasattr(estimator, "partial_fit")
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'") as error:
        estimator.partial_fit(X_IRIS, Y_IRIS)
    assert "lbfgs is not stochastic" in str(error.value.__cause__)
    assert hasattr(clone(estimator).set_params(solver="adam"), "partial_fit")


def test_partial_fit_regressor_runs_one_epoch():
    X, y = regression_data()
    reg = MLPRegressor(random_state=0).partial_fit(X, y)
    assert reg.n_iter_ == 1 and len(reg.loss_curve_) == 1
    reg.partial_fit(X, y)
    assert len(reg.loss_curve_) == 2


def test_warm_start_continues_from_previous_weights():
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, warm_start=True, random_state=0)
    clf.fit(X_IRIS, Y_IRIS)
    network, first_curve = clf.network_, list(clf.loss_curve_)
    clf.fit(X_IRIS, Y_IRIS)
    assert clf.network_ is network and clf.n_iter_ == 5
    assert clf.loss_curve_[:5] == first_curve and len(clf.loss_curve_) == 10 and clf.t_ == 10 * 150
    with pytest.raises(ValueError, match="warm_start can only be used"):
        clf.fit(X_IRIS[Y_IRIS < 2], Y_IRIS[Y_IRIS < 2])
    cold = clone(clf).set_params(warm_start=False).fit(X_IRIS, Y_IRIS)
    assert len(cold.loss_curve_) == 5
    with pytest.raises(ValueError, match="differs from the fitted network's hidden layers"):
        clf.set_params(hidden_layer_sizes=(9,)).fit(X_IRIS, Y_IRIS)


# --- stopping --------------------------------------------------------------------------------------------------


def test_tol_stopping_and_adaptive_learning_rate(capsys):
    clf = MLPClassifier(
        solver="sgd", max_iter=500, tol=1e-2, n_iter_no_change=2, random_state=0, verbose=True
    )
    clf.fit(X_IRIS, Y_IRIS)
    assert clf.n_iter_ < 500
    out = capsys.readouterr().out
    assert "Iteration 1, loss = " in out and "Training loss did not improve more than tol=0.010000" in out
    adaptive = MLPClassifier(
        solver="sgd", learning_rate="adaptive", tol=1e-2, n_iter_no_change=2, max_iter=300
    )
    adaptive.set_params(random_state=0, verbose=True).fit(X_IRIS, Y_IRIS)
    assert "Setting learning rate to 0.000200" in capsys.readouterr().out
    assert adaptive.n_iter_ > clf.n_iter_


def test_early_stopping_restores_best_weights():
    clf = MLPClassifier(early_stopping=True, n_iter_no_change=3, max_iter=200, random_state=0)
    clf.fit(X_IRIS, Y_IRIS)
    assert clf.best_loss_ is None
    assert len(clf.validation_scores_) == clf.n_iter_ == len(clf.validation_loss_curve_)
    # the best epoch: the highest score, ties (within tol) decided by the lower validation loss
    assert clf.best_validation_score_ in clf.validation_scores_
    assert clf.best_validation_score_ >= max(clf.validation_scores_) - clf.tol
    with pytest.raises(ValueError, match="validation set is too small"):
        MLPRegressor(early_stopping=True).fit(*regression_data(n=2))  # a score needs two held-out rows


def test_eval_set_records_validation_curves():
    X_train, y_train, X_val, y_val = X_IRIS[::2], Y_IRIS[::2], X_IRIS[1::2], Y_IRIS[1::2]
    clf = MLPClassifier(hidden_layer_sizes=(10,), max_iter=30, random_state=0, learning_rate_init=0.01)
    clf.fit(X_train, y_train, eval_set=(X_val, y_val))
    assert len(clf.validation_scores_) == len(clf.validation_loss_curve_) == 30
    assert clf.validation_loss_curve_[-1] < clf.validation_loss_curve_[0]
    assert clf.validation_scores_[-1] == pytest.approx(clf.score(X_val, y_val))
    early = clone(clf).set_params(early_stopping=True, n_iter_no_change=2, max_iter=500)
    early.fit(X_train, y_train, eval_set=[(X_val, y_val)])
    assert early.n_iter_ < 500 and early.best_validation_score_ == pytest.approx(early.score(X_val, y_val))
    lbfgs = MLPRegressor(solver="lbfgs", max_iter=15, random_state=0)
    X, y = regression_data()
    lbfgs.fit(X[:80], y[:80], eval_set=(X[80:], y[80:]))
    assert len(lbfgs.validation_scores_) == lbfgs.n_iter_
    with pytest.raises(ValueError, match="y_val has classes that the training targets y do not"):
        clf.fit(X_train, y_train, eval_set=(X_val, y_val + 5))
    with pytest.raises(ValueError, match="eval_set must be a tuple"):
        clf.fit(X_train, y_train, eval_set=X_val)


# --- glassnet additions ----------------------------------------------------------------------------------------


def test_dropout_per_layer_and_lbfgs_refusal():
    clf = MLPClassifier(hidden_layer_sizes=(16, 8), dropout=(0.2, 0.1), max_iter=50, random_state=0)
    clf.fit(X_IRIS, Y_IRIS)
    rates = [layer.rate for layer in clf.network_.layers if type(layer).__name__ == "Dropout"]
    assert rates == [0.2, 0.1]
    np.testing.assert_array_equal(
        clf.predict_proba(X_IRIS), clf.predict_proba(X_IRIS)
    )  # no dropout at predict
    with pytest.raises(ValueError, match="one rate per hidden layer"):
        MLPClassifier(hidden_layer_sizes=(4,), dropout=(0.1, 0.1)).fit(X_IRIS, Y_IRIS)
    with pytest.raises(ValueError, match="dropout > 0 needs a stochastic solver"):
        MLPClassifier(solver="lbfgs", dropout=0.1).fit(X_IRIS, Y_IRIS)


def test_class_weight_shifts_predictions():
    y = (Y_IRIS == 2).astype(int)
    plain = MLPClassifier(hidden_layer_sizes=(3,), max_iter=100, random_state=0).fit(X_IRIS, y)
    heavy = clone(plain).set_params(class_weight={0: 1.0, 1: 20.0}).fit(X_IRIS, y)
    assert heavy.predict_proba(X_IRIS)[:, 1].mean() > plain.predict_proba(X_IRIS)[:, 1].mean()
    MLPClassifier(class_weight="balanced", max_iter=5).fit(X_IRIS, Y_IRIS)
    with pytest.raises(ValueError, match="balanced.*partial_fit"):
        MLPClassifier(class_weight="balanced").partial_fit(X_IRIS, Y_IRIS, classes=[0, 1, 2])


@pytest.mark.parametrize("activation", ["leaky_relu", "gelu"])
def test_extra_activations(activation):
    clf = MLPClassifier(activation=activation, max_iter=200, random_state=0).fit(X_IRIS, Y_IRIS)
    assert clf.score(X_IRIS, Y_IRIS) > 0.9


def test_weight_decay_shrinks_weights_and_cosine_schedule():
    base = dict(hidden_layer_sizes=(20,), max_iter=60, random_state=0, learning_rate_init=0.01)
    plain = MLPClassifier(**base).fit(X_IRIS, Y_IRIS)
    decayed = MLPClassifier(weight_decay=0.5, **base).fit(X_IRIS, Y_IRIS)
    assert sum(np.sum(c**2) for c in decayed.coefs_) < sum(np.sum(c**2) for c in plain.coefs_)
    cosine = MLPClassifier(learning_rate="cosine", warmup_fraction=0.1, n_iter_no_change=1000, **base)
    cosine.fit(X_IRIS, Y_IRIS)
    assert cosine._schedule.lr < 1e-4 and cosine.score(X_IRIS, Y_IRIS) > 0.8
    sgd = MLPClassifier(solver="sgd", weight_decay=0.1, learning_rate="cosine", **base).fit(X_IRIS, Y_IRIS)
    assert sgd.n_iter_ > 0


def test_divergence_is_an_error_not_a_chance_level_model():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X[:600] / 16.0
    clf = MLPClassifier(
        (80, 70), "logistic", solver="sgd", learning_rate_init=50.0, max_iter=20, random_state=0
    )
    with pytest.raises(TrainingDivergedError, match="learning rate .* too large"):
        clf.fit(X, y[:600])
    X_reg, y_reg = regression_data()
    with pytest.raises(TrainingDivergedError, match="loss became"):
        MLPRegressor(solver="sgd", learning_rate_init=10.0, momentum=0.0, random_state=0).fit(
            X_reg * 1e3, y_reg
        )


def test_verbose_lbfgs_prints_iterations(capsys):
    MLPClassifier(solver="lbfgs", max_iter=3, verbose=True, random_state=0).fit(X_IRIS, Y_IRIS)
    assert "Iteration 3, loss = " in capsys.readouterr().out


# --- ecosystem -------------------------------------------------------------------------------------------------


def test_pipeline_grid_search_cross_val_clone_pickle():
    pipe = make_pipeline(
        StandardScaler(), MLPClassifier((8,), max_iter=100, learning_rate_init=0.05, random_state=0)
    )
    search = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 1e-1]}, cv=3).fit(X_IRIS, Y_IRIS)
    assert search.best_score_ > 0.8
    scores = cross_val_score(
        MLPRegressor(solver="lbfgs", max_iter=50, random_state=0), *regression_data(), cv=3
    )
    assert scores.mean() > 0.8
    fitted = search.best_estimator_
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X_IRIS), fitted.predict_proba(X_IRIS))
    assert clone(fitted[-1]).get_params() == fitted[-1].get_params()
    assert not hasattr(clone(fitted[-1]), "network_")


def test_fit_is_reproducible_with_a_seed():
    a = MLPClassifier(dropout=0.1, max_iter=10, random_state=3).fit(X_IRIS, Y_IRIS)
    b = MLPClassifier(dropout=0.1, max_iter=10, random_state=3).fit(X_IRIS, Y_IRIS)
    np.testing.assert_array_equal(a.network_.flat_params, b.network_.flat_params)
