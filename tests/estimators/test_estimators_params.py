"""Hyper-parameter declarations: signatures, defaults, docstrings and scikit-learn-style validation errors."""

import inspect
import re

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from glassnet import MLPClassifier, MLPRegressor
from glassnet.config.params import CLASSIFIER_PARAMS, REGRESSOR_PARAMS, Interval, Options
from glassnet.estimators import InvalidParameterError

X = np.random.default_rng(0).normal(size=(20, 3))
y = np.arange(20) % 2


@pytest.mark.parametrize(
    ("ours", "theirs"), [(MLPClassifier, SkMLPClassifier), (MLPRegressor, SkMLPRegressor)]
)
def test_same_parameters_and_defaults_as_sklearn(ours, theirs):
    own = ours().get_params()
    for name, value in theirs().get_params().items():
        assert name in own, name
        assert own[name] == value, name


@pytest.mark.parametrize(
    ("ours", "theirs"), [(MLPClassifier, SkMLPClassifier), (MLPRegressor, SkMLPRegressor)]
)
def test_same_positional_parameters_as_sklearn(ours, theirs):
    def positional(cls):
        kinds = inspect.signature(cls.__init__).parameters.values()
        return [p.name for p in kinds if p.kind == p.POSITIONAL_OR_KEYWORD and p.name != "self"]

    assert positional(ours) == positional(theirs)


def test_positional_call_and_unknown_keyword():
    clf = MLPClassifier((7, 5), "tanh", solver="sgd")
    assert clf.hidden_layer_sizes == (7, 5) and clf.activation == "tanh" and clf.solver == "sgd"
    with pytest.raises(TypeError):
        MLPClassifier(not_a_parameter=1)


def test_glassnet_additions_have_neutral_defaults():
    params = MLPClassifier().get_params()
    assert params["dropout"] == 0.0
    assert params["weight_decay"] == 0.0
    assert params["class_weight"] is None
    assert params["warmup_fraction"] == 0.0


def test_docstring_documents_every_parameter():
    for cls, declared in ((MLPClassifier, CLASSIFIER_PARAMS), (MLPRegressor, REGRESSOR_PARAMS)):
        for param in declared:
            assert f"\n{param.name} : " in cls.__doc__, (cls.__name__, param.name)
        assert "network_ :" in cls.__doc__
    assert "classes_ :" in MLPClassifier.__doc__


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"learning_rate_init": 0},
            "The 'learning_rate_init' parameter of MLPClassifier must be a float in the range (0.0, inf). "
            "Got 0 instead.",
        ),
        ({"alpha": -1.0}, "The 'alpha' parameter of MLPClassifier must be a float in the range [0.0, inf). "),
        (
            {"solver": "newton"},
            "must be a str among {'adam', 'adamw', 'lbfgs', 'sgd'}. Got 'newton' instead.",
        ),
        ({"max_iter": 0}, "'max_iter' parameter of MLPClassifier must be an int in the range [1, inf)."),
        ({"max_iter": 2.5}, "Got 2.5 instead."),
        ({"batch_size": 0}, "must be an int in the range [1, inf) or a str among {'auto'}. Got 0 instead."),
        ({"momentum": 1.5}, "must be a float in the range [0.0, 1.0]. Got 1.5 instead."),
        ({"beta_1": 1.0}, "must be a float in the range [0.0, 1.0). Got 1.0 instead."),
        ({"shuffle": "yes"}, "'shuffle' parameter of MLPClassifier must be a bool. Got 'yes' instead."),
        ({"hidden_layer_sizes": (10, 0)}, "'hidden_layer_sizes' parameter"),
        ({"hidden_layer_sizes": -3}, "'hidden_layer_sizes' parameter"),
        ({"activation": "swish"}, "'gelu', 'identity', 'leaky_relu', 'logistic', 'relu', 'tanh'"),
        ({"random_state": "seed"}, "'random_state' parameter"),
        ({"dropout": 1.0}, "'dropout' parameter of MLPClassifier must be a float in the range [0.0, 1.0)"),
        ({"class_weight": "equal"}, "'class_weight' parameter"),
        ({"n_iter_no_change": 0}, "or one of {inf}. Got 0 instead."),
        ({"tol": float("nan")}, "'tol' parameter"),
    ],
)
def test_bad_parameter_messages(params, message):
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        MLPClassifier(**params).fit(X, y)


def test_invalid_parameter_error_is_value_and_type_error():
    with pytest.raises(ValueError):
        MLPRegressor(loss="hinge").fit(X, y)
    with pytest.raises(TypeError):
        MLPRegressor(verbose="loud").fit(X, y)


def test_regressor_messages_name_the_regressor():
    with pytest.raises(
        InvalidParameterError, match="The 'loss' parameter of MLPRegressor must be a str among"
    ):
        MLPRegressor(loss="log_loss").fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_accepted_unusual_values():
    MLPClassifier(hidden_layer_sizes=np.array([4, 3]), max_iter=2, n_iter_no_change=np.inf).fit(X, y)
    MLPClassifier(hidden_layer_sizes=4, max_iter=2, random_state=np.random.RandomState(0)).fit(X, y)
    MLPClassifier(max_iter=2, random_state=np.random.default_rng(0), verbose=0).fit(X, y)


def test_constraint_descriptions():
    assert str(Interval("float", 0, 1, "left")) == "a float in the range [0.0, 1.0)"
    assert str(Interval("int", 1, None, "left")) == "an int in the range [1, inf)"
    assert str(Options(("b", "a"))) == "a str among {'a', 'b'}"
    assert not Interval("int", 1, None).is_satisfied_by(True)
    assert not Interval("float", 0, None).is_satisfied_by(np.nan)


def test_no_validation_in_init_or_set_params():
    clf = MLPClassifier(alpha=-5)  # scikit-learn's convention: validate in fit
    clf.set_params(solver="nope")
    assert clf.get_params()["solver"] == "nope"
