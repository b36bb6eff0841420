"""The estimators keep scikit-learn's promises (issue 20, item 13): a single class is a logistic head, and
negative sample weights are refused with the reason."""

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier

from glassnet import MLPClassifier, MLPRegressor


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_single_class_has_a_logistic_output_as_in_scikit_learn():
    X = np.random.default_rng(0).normal(size=(30, 3))
    y = np.full(30, "only")
    ours = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, y)
    theirs = SklearnMLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, y)
    assert ours.out_activation_ == theirs.out_activation_ == "logistic"
    assert ours.n_outputs_ == theirs.n_outputs_ == 1
    assert ours.target_type_ == "binary"
    assert list(ours.predict(X[:3])) == ["only"] * 3
    np.testing.assert_array_equal(ours.predict_proba(X[:3]), np.ones((3, 1)))
    np.testing.assert_array_equal(ours.predict_log_proba(X[:3]), np.zeros((3, 1)))


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_negative_sample_weight_is_refused_with_the_reason(Estimator):
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.arange(20) % 2
    weights = np.ones(20)
    weights[3] = -0.5
    with pytest.raises(
        ValueError, match=r"Negative values in sample_weight are not allowed \(got a minimum of -0.5\)"
    ) as caught:
        Estimator(max_iter=2).fit(X, y, sample_weight=weights)
    assert "no lower bound" in str(caught.value) and "scikit-learn accepts" in str(caught.value)
    assert "scikit-learn accepts negative weights; glassnet refuses them" in " ".join(
        Estimator.fit.__doc__.split()
    )


def test_the_trainer_gives_the_same_reason():
    from glassnet.network import build_mlp
    from glassnet.optim import Adam
    from glassnet.training import Trainer

    X = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    y = np.arange(20) % 2
    trainer = Trainer(build_mlp([3, 4, 2], seed=0), Adam(0.01), batch_size=10, seed=0)
    with pytest.raises(ValueError, match="non-negative; got a minimum of -1.0. A negative weight rewards"):
        trainer.fit(X, y, epochs=1, sample_weight=-np.ones(20))
