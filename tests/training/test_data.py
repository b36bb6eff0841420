"""One data container and one sample-weight check for the Trainer and the estimators (issue 19, item 2)."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import MLPClassifier, MLPRegressor
from glassnet.network import build_mlp
from glassnet.optim import SGD
from glassnet.training import Trainer
from glassnet.training.data import Dataset, check_weights


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)), np.arange(n) % 2


def test_a_dataset_keeps_the_callers_labels_through_a_subset():
    X, y = _data(6)
    labels = np.array(list("ababab"))
    data = Dataset(X, y, np.arange(1.0, 7.0), labels=labels)
    part = data.subset(np.array([True, False, True, False, False, True]))
    assert part.n_rows == 3 and list(part.labels) == ["a", "a", "b"]
    np.testing.assert_array_equal(part.sample_weight, [1.0, 3.0, 6.0])
    assert Dataset(X, y).subset([0, 1]).labels is None


def test_the_estimators_and_the_trainer_share_one_weight_check_in_their_own_words():
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(3,\), expected \(5,\)"):
        check_weights(np.ones(3), 5, np.float64, words="scikit-learn")
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(5,\); got \(3,\)"):
        check_weights(np.ones(3), 5, np.float64)
    for words in ("glassnet", "scikit-learn"):
        with pytest.raises(ValueError, match="A negative weight rewards a larger loss"):
            check_weights(-np.ones(5), 5, np.float64, words=words)
        with pytest.raises(ValueError, match="zero"):
            check_weights(np.zeros(5), 5, np.float64, words=words)
        with pytest.raises(ValueError, match="validation sample_weight contains NaN"):
            check_weights(np.r_[np.nan, np.ones(4)], 5, np.float64, what="validation ", words=words)


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_complex_weights_are_refused_with_a_sentence(Estimator):
    X, y = _data()
    with pytest.raises(ValueError, match="sample_weight must be real numbers; got dtype complex128"):
        Estimator(max_iter=2).fit(X, y, sample_weight=np.ones(len(y)) * (1 + 1j))


def test_a_number_weighs_every_row_in_the_trainer_as_in_the_estimators():
    X, y = _data()
    fits = []
    for weight in (2.0, np.full(len(y), 2.0)):
        net = build_mlp([3, 4, 2], seed=0, dtype=np.float64)
        Trainer(net, SGD(0.1), batch_size=10, seed=0, n_jobs=1).fit(X, y, epochs=2, sample_weight=weight)
        fits.append(net.flat_params.copy())
    np.testing.assert_array_equal(fits[0], fits[1])


def test_the_losses_check_their_weights_by_the_same_rule():
    from glassnet.nn.losses import get_loss

    loss = get_loss("softmax_cross_entropy")
    z, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="non-negative; got a minimum of -1.0. A negative weight rewards"):
        loss.forward(z, y, -np.ones(4))
    with pytest.raises(ValueError, match="zero everywhere"):
        loss.forward(z, y, np.zeros(4))
    assert loss.forward(z, y, 2.0) == loss.forward(z, y, np.ones(4))  # a number weighs every row alike
