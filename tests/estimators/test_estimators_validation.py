"""The validation set of the estimators: scikit-learn's ``X_val, y_val, sample_weight_val`` (routed and transformed
by a Pipeline), the older ``eval_set``, bad validation sets, and the early-stopping split and rule."""

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.datasets import make_blobs
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from glassnet import MLPClassifier, MLPRegressor
from glassnet.estimators._validation import held_out_rows, row_keys
from glassnet.training.callbacks import Improvement

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def blobs(n=200, offset=0.0, n_val=0):
    """Three blobs in 4-D: ``n`` training rows, and ``n_val`` validation rows when asked for."""
    X, y = make_blobs(n_samples=n + n_val, centers=3, n_features=4, cluster_std=1.5, random_state=0)
    X = X + offset
    return (X, y) if not n_val else (X[:n], y[:n], X[n:], y[n:])


# --- X_val, y_val, sample_weight_val --------------------------------------------------------------------------


def test_x_val_in_a_pipeline_is_transformed_like_x():
    """With metadata routing, Pipeline(transform_input=["X_val"]) scales X_val as X: the validation scores
    recorded during the fit are the pipeline's own scores on the raw validation set."""
    X, y, X_val, y_val = blobs(offset=1000.0, n_val=90)  # far from 0: unscaled, all rows look alike
    with sklearn.config_context(enable_metadata_routing=True):
        clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=40, random_state=0, learning_rate_init=0.01)
        clf.set_fit_request(X_val=True, y_val=True)
        pipe = Pipeline([("scale", StandardScaler()), ("mlp", clf)], transform_input=["X_val"])
        pipe.fit(X, y, X_val=X_val, y_val=y_val)
    fitted = pipe.named_steps["mlp"]
    assert len(fitted.validation_scores_) == fitted.n_iter_ == 40
    assert fitted.validation_scores_[-1] == pytest.approx(pipe.score(X_val, y_val))
    assert fitted.validation_scores_[-1] > 0.9
    # what it would have scored on the unscaled rows: far worse
    assert fitted.score(X_val, y_val) < 0.5


def test_x_val_equals_eval_set_and_both_are_refused():
    X, y, X_val, y_val = blobs(n_val=60)
    weights = np.linspace(0.5, 2.0, 60)
    params = dict(hidden_layer_sizes=(8,), max_iter=15, random_state=0, early_stopping=True)
    new = MLPClassifier(**params).fit(X, y, X_val=X_val, y_val=y_val, sample_weight_val=weights)
    old = MLPClassifier(**params).fit(X, y, eval_set=(X_val, y_val, weights))
    assert new.validation_scores_ == old.validation_scores_
    np.testing.assert_array_equal(new.predict_proba(X_val), old.predict_proba(X_val))
    with pytest.raises(ValueError, match="Got both eval_set and X_val"):
        MLPClassifier(**params).fit(X, y, X_val=X_val, y_val=y_val, eval_set=(X_val, y_val))


def test_partial_fit_takes_x_val():
    X, y, X_val, y_val = blobs(n_val=60)
    reg = MLPRegressor(hidden_layer_sizes=(8,), random_state=0, early_stopping=True)
    for _ in range(3):
        reg.partial_fit(X, y.astype(float), X_val=X_val, y_val=y_val.astype(float))
    assert len(reg.validation_scores_) == 3
    clf = MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    clf.partial_fit(X, y, classes=[0, 1, 2], X_val=X_val, y_val=y_val)
    assert clf.validation_scores_[-1] == pytest.approx(clf.score(X_val, y_val))


def test_fit_signature_follows_scikit_learn():
    """Keyword-only validation arguments, requestable through metadata routing, as in
    HistGradientBoostingClassifier.fit."""
    import inspect

    for cls in (MLPClassifier, MLPRegressor):
        parameters = inspect.signature(cls.fit).parameters
        assert list(parameters)[:4] == ["self", "X", "y", "sample_weight"]
        for name in ("X_val", "y_val", "sample_weight_val"):
            assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
            assert name in cls.fit.__doc__
        with sklearn.config_context(enable_metadata_routing=True):
            request = cls().set_fit_request(X_val=True, y_val=True).get_metadata_routing()
        assert request.fit.requests["X_val"] is True


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"X_val": "X_val"}, "X_val is given, but y_val is not"),
        ({"y_val": "y_val"}, "y_val is given, but X_val is not"),
        ({"sample_weight_val": np.ones(30)}, "sample_weight_val is given without a validation set"),
        (
            {"X_val": "narrow", "y_val": "y_val"},
            r"X_val has 3 features, but the training data X has 4.*transform_input",
        ),
        (
            {"X_val": "X_val", "y_val": "unseen"},
            r"y_val has classes that the training targets y do not: \[7\]",
        ),
        ({"X_val": "X_val", "y_val": "short"}, "X_val has 30 samples but y_val has 29"),
        ({"X_val": "nan", "y_val": "y_val"}, "X_val: Input X contains NaN"),
        (
            {"X_val": "X_val", "y_val": "y_val", "sample_weight_val": -np.ones(30)},
            "sample_weight_val: Negative",
        ),
    ],
)
def test_bad_validation_sets_are_named(arguments, message):
    X, y, X_val, y_val = blobs(n_val=30)
    values = {
        "X_val": X_val,
        "narrow": X_val[:, :3],
        "nan": np.where(np.arange(30)[:, None] == 0, np.nan, X_val),
        "y_val": y_val,
        "unseen": np.where(np.arange(30) == 0, 7, y_val),
        "short": y_val[:-1],
    }
    kwargs = {k: values[v] if isinstance(v, str) else v for k, v in arguments.items()}
    with pytest.raises(ValueError, match=message):
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=2).fit(X, y, **kwargs)


def test_regressor_validation_targets_of_other_width_are_named():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(50, 3)), rng.normal(size=(50, 2))
    with pytest.raises(ValueError, match="y_val has 1 outputs, but the model was fitted with 2"):
        MLPRegressor(hidden_layer_sizes=(4,), max_iter=2).fit(X, Y, X_val=X[:10], y_val=Y[:10, 0])
    with pytest.raises(ValueError, match="y_val must be an indicator matrix with 2 columns"):
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=2).fit(X, Y > 0, X_val=X[:10], y_val=np.ones((10, 3)))


# --- the early-stopping split: a weight is a number of copies ----------------------------------------------------


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_weights_and_repeated_rows_give_the_same_early_stopped_model(cls, sparse):
    """sample_weight=k and k copies of a row hold out the same rows, so the fits are the same (scikit-learn's
    check_sample_weight_equivalence, with early stopping: scikit-learn's own MLP fails it)."""
    rng = np.random.default_rng(3)
    X = rng.random((40, 5))
    y = rng.integers(0, 3, 40) if cls is MLPClassifier else rng.normal(size=40)
    weights = rng.integers(0, 4, 40)
    X_weighted, X_repeated = X, np.repeat(X, weights, axis=0)
    if sparse:
        X_weighted, X_repeated = sp.csr_matrix(X_weighted), sp.csr_matrix(X_repeated)
    params = dict(hidden_layer_sizes=(6,), early_stopping=True, max_iter=30, random_state=0)
    weighted = cls(**params).fit(X_weighted, y, sample_weight=weights)
    repeated = cls(**params).fit(X_repeated, np.repeat(y, weights))
    assert weighted.validation_scores_ == pytest.approx(repeated.validation_scores_)
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-7)


def test_held_out_rows_keep_copies_together_and_skip_zero_weights():
    X = np.array([[0.0], [1.0], [1.0], [2.0], [3.0], [4.0], [5.0], [6.0]])
    y = np.zeros(8)
    weights = np.array([1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0])
    for seed in range(20):
        keys = row_keys(X, y, seed)
        assert keys[1] == keys[2] and len(np.unique(keys)) == 7
        val = held_out_rows(keys, None, weights, 0.25)
        assert val[1] == val[2]  # the two copies of [1.0] fall on the same side
        assert not val[3]  # weight 0: nothing to score
        assert 2 <= val.sum() <= 3 and not val.all()


def test_held_out_rows_are_stratified_by_weight():
    y = np.repeat([0, 1], [90, 10])
    keys = row_keys(np.arange(100.0).reshape(-1, 1), y, seed=0)
    val = held_out_rows(keys, y, np.ones(100), 0.1)
    assert np.bincount(y[val]).tolist() == [9, 1]


# --- the early-stopping rule: ties of the score are decided by the loss ------------------------------------------


def test_improves_breaks_score_ties_with_the_validation_loss():
    def improves(scores, losses, epoch, best, tol):  # epoch ``epoch`` against a best epoch ``best``
        rule = Improvement(1.0, tol, tiebreak=True)
        rule.step(scores[best], losses[best])
        return rule.step(scores[epoch], losses[epoch])[0]

    scores, losses = [0.9, 0.9, 0.95, 0.95, 0.9499], [0.5, 0.4, 0.45, 0.45, 0.3]
    assert improves(scores, losses, 1, 0, tol=1e-4)  # same score, lower loss
    assert improves(scores, losses, 2, 1, tol=1e-4)  # higher score, whatever the loss
    assert not improves(scores, losses, 3, 2, tol=1e-4)  # nothing better
    assert improves(scores, losses, 4, 2, tol=1e-3)  # the score within tol, the loss lower
    assert not improves(scores, losses, 4, 2, tol=1e-5)  # a lower score is not bought by a lower loss
    assert improves([np.nan, 0.1], [np.nan, 1.0], 1, 0, tol=1e-4)


def test_class_weights_reach_early_stopping():
    """Heavily weighted class 0: the weighted accuracy saturates within a few epochs, the weighted loss keeps
    falling; early stopping follows the loss and the model ends up predicting class 0 almost everywhere
    (scikit-learn's check_class_weight_classifiers; the score alone restored an epoch-3 model)."""
    X, y = make_blobs(centers=2, random_state=0, cluster_std=20)
    X_train, X_test, y_train = X[:50], X[50:], y[:50]
    clf = MLPClassifier(
        class_weight={0: 1000, 1: 0.0001},
        early_stopping=True,
        n_iter_no_change=20,
        max_iter=1000,
        random_state=0,
    ).fit(X_train, y_train)
    assert np.mean(clf.predict(X_test) == 0) > 0.87
    assert clf.best_validation_score_ == pytest.approx(clf.validation_scores_[clf._best_validation_epoch()])


def test_balanced_class_weight_counts_weighted_rows():
    """'balanced' divides by each class's total sample weight (scikit-learn's LogisticRegression does the same);
    a class whose rows all weigh 0 weighs nothing rather than dividing by zero."""
    X = np.random.default_rng(0).normal(size=(30, 3))
    y = np.repeat([0, 1, 2], 10)
    weights = np.where(y == 0, 3.0, 1.0)
    weighted = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, class_weight="balanced", random_state=0)
    weighted.fit(X, y, sample_weight=weights)
    repeated = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, class_weight="balanced", random_state=0)
    repeated.fit(np.repeat(X, 3 - 2 * (y > 0), axis=0), np.repeat(y, 3 - 2 * (y > 0)))
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-7)
    weights[y == 2] = 0.0
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, class_weight="balanced").fit(
        X, y, sample_weight=weights
    )
    assert np.all(np.isfinite(clf.predict_proba(X)))
