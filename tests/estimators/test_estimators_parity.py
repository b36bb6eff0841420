"""Parity with scikit-learn's MLP: the same accuracy on the digits, and the same SGD trajectory."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

from glassnet import MLPClassifier

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.usefixtures("one_blas_thread"),
]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.2, stratify=y, random_state=0)


@pytest.mark.slow
@pytest.mark.parametrize(
    "params", [{"solver": "lbfgs", "alpha": 1.0}, {}], ids=["lbfgs-alpha1", "adam-defaults"]
)
def test_digits_accuracy_within_1_5_points_of_sklearn(digits, params):
    X_train, X_test, y_train, y_test = digits
    ours = MLPClassifier(random_state=0, **params).fit(X_train, y_train).score(X_test, y_test)
    theirs = SkMLPClassifier(random_state=0, **params).fit(X_train, y_train).score(X_test, y_test)
    assert ours > 0.95
    assert abs(ours - theirs) <= 0.015, (ours, theirs)


@pytest.mark.parametrize(
    "params",
    [
        {"solver": "sgd", "momentum": 0.9, "learning_rate_init": 0.5},
        {"solver": "sgd", "learning_rate": "invscaling", "learning_rate_init": 0.5},
        {"solver": "adam"},
    ],
    ids=["sgd-nesterov", "sgd-invscaling", "adam"],
)
def test_same_loss_curve_as_sklearn_from_the_same_weights(digits, params):
    """From identical weights, with alpha=0 and no shuffling, the two take the same steps."""
    X_train, _, y_train, _ = digits
    common = dict(hidden_layer_sizes=(30,), activation="logistic", alpha=0.0, batch_size=100, shuffle=False)
    theirs = SkMLPClassifier(max_iter=1, random_state=0, **common, **params).fit(X_train, y_train)
    ours = MLPClassifier(max_iter=1, random_state=0, **common, **params).fit(X_train, y_train)
    for coef, intercept, ours_coef, ours_intercept in zip(
        theirs.coefs_, theirs.intercepts_, ours.coefs_, ours.intercepts_, strict=True
    ):
        ours_coef[...] = coef
        ours_intercept[...] = intercept
    theirs.set_params(warm_start=True, max_iter=4).fit(X_train, y_train)
    ours.set_params(warm_start=True, max_iter=4).fit(X_train, y_train)
    np.testing.assert_allclose(ours.loss_curve_[1:], theirs.loss_curve_[1:], rtol=1e-5)
