"""Layers: the lab's Dense test vector, backward/forward matching, dropout modes, gradient checks, and the
declarations (decay, needs_rng, uses_batch_stats, widths, from_config) the rest of glassnet reads."""

import numpy as np
import pytest

from glassnet.gradcheck import gradcheck_layer
from glassnet.layers import (
    GELU,
    LAYERS,
    BatchNorm,
    Dense,
    Dropout,
    Identity,
    Layer,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)


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


# --- declarations -----------------------------------------------------------------------------------------------

LAYER_EXAMPLES = [
    Dense(5, 4, rng=0),
    BatchNorm(5, momentum=0.2, eps=1e-3),
    Dropout(0.3, rng=1),
    Identity(),
    Sigmoid(),
    Tanh(),
    ReLU(),
    LeakyReLU(0.2),
    GELU(),
    Softmax(),
]


def test_every_layer_type_has_an_example():
    assert {type(layer).__name__ for layer in LAYER_EXAMPLES} == set(LAYERS)


def test_declarations_of_the_built_in_layers():
    assert Layer.decay == () and not Layer.needs_rng and not Layer.uses_batch_stats
    assert Dense.decay == ("W",) and BatchNorm.decay == ()  # gamma and beta do not decay
    assert Dropout.needs_rng and not Dense.needs_rng
    assert BatchNorm.uses_batch_stats and not Dense.uses_batch_stats
    assert (Dense(5, 4, rng=0).in_features, Dense(5, 4, rng=0).out_features) == (5, 4)
    assert (BatchNorm(6).in_features, BatchNorm(6).out_features) == (6, 6)
    assert (ReLU().in_features, ReLU().out_features) == (None, None)
    assert ReLU().buffers == {} and set(BatchNorm(3).buffers) == {"running_mean", "running_var"}


@pytest.mark.parametrize("layer", LAYER_EXAMPLES, ids=lambda layer: type(layer).__name__)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_from_config_round_trip(layer, dtype):
    cls = LAYERS[type(layer).__name__]
    clone = cls.from_config(layer.get_config(), dtype=dtype, rng=7)
    assert type(clone) is type(layer)
    assert clone.get_config() == layer.get_config()
    assert sorted(clone.params) == sorted(layer.params)
    for name, p in clone.params.items():
        assert p.shape == layer.params[name].shape
    if isinstance(clone, Dense):  # zero placeholders in the network's dtype
        assert clone.W.dtype == dtype and not np.any(clone.W)
    if clone.needs_rng:
        assert isinstance(clone.rng, np.random.Generator)
        assert cls.from_config(layer.get_config(), dtype=dtype, rng=None).rng is None


@pytest.mark.parametrize(
    "layer", [Dense(5, 3, rng=0), BatchNorm(5), Dropout(0.5, rng=0), GELU()], ids=lambda la: type(la).__name__
)
def test_backward_of_another_batch_is_refused(layer):
    layer.training = True
    with pytest.raises(RuntimeError, match=rf"{type(layer).__name__}.backward\(\) called before forward"):
        layer.backward(np.ones((4, 5)))
    y = layer.forward(np.random.default_rng(0).standard_normal((4, 5)))
    with pytest.raises(
        ValueError, match=r"gradient of shape \(3, .*the last forward\(\) produced shape \(4, "
    ):
        layer.backward(np.ones((3, y.shape[1])))
    assert layer.backward(np.ones_like(y)).shape == (4, 5)


def test_gradcheck_fixes_the_draws_of_a_layer_that_declares_needs_rng():
    class Noise(Layer):
        """Adds Gaussian noise of its own generator: y = x + u, dy/dx = 1."""

        needs_rng = True

        def __init__(self, rng=None):
            super().__init__()
            self.rng = rng

        def forward(self, x):
            self._x = x
            return x + self.rng.standard_normal(x.shape)

        def backward(self, dy):
            self._saved("_x", dy)
            return dy

    layer = Noise(np.random.default_rng(0))
    layer.training = True
    assert gradcheck_layer(layer, np.ones((3, 2)))["x"] < 1e-8  # a new draw per forward would fail this
