"""Losses from logits: values against the textbook formulas, gradient checks, weights, bad targets."""

import numpy as np
import pytest

from glassnet.gradcheck import gradcheck_loss
from glassnet.losses import (
    PoissonLoss,
    SigmoidBinaryCrossEntropy,
    SoftmaxCrossEntropy,
    SquaredError,
    get_loss,
)

rng = np.random.default_rng(0)
Z = rng.standard_normal((6, 3))
LABELS = np.array([0, 1, 2, 1, 0, 2])
W = np.array([1.0, 2.0, 0.5, 1.0, 3.0, 1.0])


def test_softmax_cross_entropy_matches_formula_and_stays_finite():
    p = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(p[np.arange(6), LABELS]))
    assert SoftmaxCrossEntropy().forward(Z, LABELS) == pytest.approx(expected)
    onehot = np.eye(3)[LABELS]
    assert SoftmaxCrossEntropy().forward(Z, onehot) == pytest.approx(expected)
    huge = np.array([[0.0, 1000.0, -1000.0]])
    assert np.isfinite(SoftmaxCrossEntropy().forward(huge, np.array([2])))  # the lab's log(0) = -inf


def test_softmax_cross_entropy_gradient_is_p_minus_y_over_n():
    loss = SoftmaxCrossEntropy()
    loss.forward(Z, LABELS)
    p = loss.link(Z)
    np.testing.assert_allclose(loss.backward(), (p - np.eye(3)[LABELS]) / 6)


@pytest.mark.parametrize(
    ("loss", "y"),
    [
        (SoftmaxCrossEntropy(), LABELS),
        (SoftmaxCrossEntropy(label_smoothing=0.1), LABELS),
        (SoftmaxCrossEntropy(), np.eye(3)[LABELS]),
        (SigmoidBinaryCrossEntropy(), (Z > 0).astype(float)),
        (SquaredError(), rng.standard_normal((6, 3))),
        (PoissonLoss(), rng.poisson(2.0, (6, 3)).astype(float)),
    ],
    ids=["ce-labels", "ce-smoothing", "ce-onehot", "bce", "squared", "poisson"],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_every_loss_passes_gradcheck(loss, y, weighted):
    errors = gradcheck_loss(loss, Z, y, sample_weight=W if weighted else None)
    assert errors["z"] < 1e-6


def test_sample_weights_equal_repetition():
    loss = SoftmaxCrossEntropy()
    w = np.array([2, 1, 1, 1, 1, 1])
    repeated = np.vstack([Z[:1], Z])
    assert loss.forward(Z, LABELS, w) == pytest.approx(loss.forward(repeated, np.r_[LABELS[:1], LABELS]))


def test_squared_error_multi_output_gradient_is_not_k_times_too_large():
    y = rng.standard_normal((6, 3))
    loss = SquaredError()
    value = loss.forward(Z, y)
    assert value == pytest.approx(np.mean((Z - y) ** 2) / 2)  # scikit-learn's reported value
    np.testing.assert_allclose(loss.backward(), (Z - y) / Z.size)  # its true gradient (sklearn #8349)


def test_binary_cross_entropy_and_poisson_values():
    y = (Z > 0).astype(float)
    p = 1 / (1 + np.exp(-Z))
    expected = -np.mean(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p), axis=1))
    assert SigmoidBinaryCrossEntropy().forward(Z, y) == pytest.approx(expected)
    counts = np.exp(Z)  # perfect predictions: zero deviance
    assert PoissonLoss().forward(Z, counts) == pytest.approx(0.0, abs=1e-12)


def test_bad_targets_raise_clear_errors():
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        SoftmaxCrossEntropy().forward(Z, np.array([0, 1, 2, 3, 0, 1]))
    with pytest.raises(ValueError, match="Expected 6 labels"):
        SoftmaxCrossEntropy().forward(Z, np.array([0, 1]))
    with pytest.raises(ValueError, match="NaN"):
        SquaredError().forward(Z, np.full((6, 3), np.nan))
    with pytest.raises(ValueError, match="do not match"):
        SquaredError().forward(Z, np.zeros((6, 2)))
    with pytest.raises(ValueError, match="non-negative"):
        PoissonLoss().forward(Z, -np.ones((6, 3)))
    with pytest.raises(ValueError, match="expected one of"):
        get_loss("hinge")
    with pytest.raises(RuntimeError, match="before forward"):
        SquaredError().backward()
