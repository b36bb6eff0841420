"""Layers: the lab's Dense test vector, backward/forward matching, dropout modes, gradient checks."""

import numpy as np
import pytest

from glassnet.gradcheck import gradcheck_layer
from glassnet.layers import GELU, Dense, Dropout, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh


def lab_dense(rs=None):
    rs = np.random.RandomState(0) if rs is None else rs  # the lab's np.random.seed(0) stream
    layer = Dense(5, 3, init="zeros", dtype=np.float64)
    layer.params["W"][...] = rs.randn(3, 5)
    layer.params["b"][...] = rs.randn(3)
    return layer


def test_dense_reproduces_lab_forward():
    rs = np.random.RandomState(0)
    layer = lab_dense(rs)
    W, b = layer.W.copy(), layer.b.copy()
    x = rs.randn(2, 5)
    np.testing.assert_allclose(layer.forward(x), x @ W.T + b, atol=1e-8)


def test_dense_features_on_last_axis_for_nd_input():
    layer = lab_dense()
    x = np.random.default_rng(1).standard_normal((2, 4, 5))
    out = layer.forward(x)
    assert out.shape == (2, 4, 3)
    np.testing.assert_allclose(out, x @ layer.W.T + layer.b)
    dx = layer.backward(np.ones_like(out))
    assert dx.shape == x.shape


def test_dense_backward_formulas():
    layer = lab_dense()
    x = np.random.default_rng(2).standard_normal((4, 5))
    dz = np.random.default_rng(3).standard_normal((4, 3))
    layer.forward(x)
    dx = layer.backward(dz, x)
    np.testing.assert_allclose(layer.grads["W"], dz.T @ x)
    np.testing.assert_allclose(layer.grads["b"], dz.sum(axis=0))
    np.testing.assert_allclose(dx, dz @ layer.W)


def test_backward_without_forward_or_with_other_input_raises():
    layer = Dense(5, 3, rng=0)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((2, 3)))
    x = np.ones((2, 5), np.float32)
    layer.forward(x)
    with pytest.raises(ValueError, match="different input"):
        layer.backward(np.ones((2, 3), np.float32), x + 1)
    with pytest.raises(ValueError, match=r"shape \(4, 3\).*\(2, 3\)"):
        layer.backward(np.ones((4, 3), np.float32))
    for act in (Sigmoid(), ReLU(), Softmax(), GELU()):
        with pytest.raises(RuntimeError, match="before forward"):
            act.backward(np.ones((2, 3)))


def test_dense_wrong_shape_names_expected_and_received():
    with pytest.raises(ValueError, match=r"5 features.*\(2, 4\)"):
        Dense(5, 3, rng=0).forward(np.ones((2, 4)))
    with pytest.raises(ValueError, match="positive integer"):
        Dense(0, 3, rng=0)
    with pytest.raises(ValueError, match="rng="):
        Dense(5, 3)  # random init needs explicit randomness


def test_dropout_modes_and_explicit_rng():
    x = np.ones((200, 50), np.float32)
    layer = Dropout(0.5, rng=0)
    np.testing.assert_array_equal(layer.forward(x), x)  # evaluation mode: identity
    layer.training = True
    y = layer.forward(x)
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert abs(y.mean() - 1.0) < 0.05  # inverted: expectation preserved
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), y)
    no_rng = Dropout(0.5)
    no_rng.training = True
    with pytest.raises(ValueError, match="random generator"):
        no_rng.forward(x)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        Dropout(1.0)


@pytest.mark.parametrize(
    "layer",
    [
        Dense(5, 4, rng=0),
        Sigmoid(),
        Tanh(),
        ReLU(),
        LeakyReLU(0.1),
        GELU(),
        Identity(),
        Softmax(),
        Dropout(0.3, rng=1),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_every_layer_passes_gradcheck(layer):
    x = np.random.default_rng(0).standard_normal((6, 5)) + 0.01
    errors = gradcheck_layer(layer, x)
    assert max(errors.values()) < 1e-6


def test_gradcheck_catches_a_wrong_backward():
    class BrokenTanh(Tanh):
        def backward(self, dy):
            return dy * (1 - self._a)  # wrong derivative

    with pytest.raises(AssertionError, match="Gradient check failed"):
        gradcheck_layer(BrokenTanh(), np.random.default_rng(0).standard_normal((3, 4)))
