"""Sequential: dotted names, flat parameters, configs, seeds, dtypes, whole-network gradient checks."""

import pickle

import numpy as np
import pytest

from glassnet.gradcheck import gradcheck_network
from glassnet.layers import Dense, Dropout, Layer, ReLU, Sigmoid
from glassnet.losses import AbsoluteError, HuberLoss, PinballLoss
from glassnet.network import Sequential, build_mlp

X = np.random.default_rng(0).standard_normal((8, 5))
Y = np.array([0, 1, 2, 0, 1, 2, 0, 1])


def test_parameters_by_dotted_name_are_views_into_the_flat_vector():
    net = build_mlp([5, 4, 3], "relu", seed=0)
    params = net.parameters()
    assert list(params) == ["layers.0.W", "layers.0.b", "layers.2.W", "layers.2.b"]
    assert params["layers.0.W"].shape == (4, 5)
    net.flat_params[:] = 0.5
    assert np.all(params["layers.2.b"] == 0.5)
    assert net.weight_mask.sum() == 4 * 5 + 3 * 4
    assert list(net.gradients()) == list(params)


def test_same_seed_gives_bit_identical_weights_and_training():
    def run(seed):
        from glassnet.optim import Adam
        from glassnet.training import Trainer

        net = build_mlp([5, 16, 3], "relu", dropout=0.2, seed=seed)
        Trainer(net, Adam(lr=0.01), batch_size=3, seed=seed).fit(X, Y, epochs=5)
        return net.flat_params.copy()

    assert np.array_equal(run(1), run(1))
    assert not np.array_equal(run(1), run(2))


@pytest.mark.parametrize("activation", ["logistic", "tanh", "relu", "leaky_relu", "gelu", "identity"])
@pytest.mark.parametrize(
    "loss",
    [
        "softmax_cross_entropy",
        "sigmoid_binary_cross_entropy",
        "squared_error",
        "poisson",
        "absolute_error",
        "huber",
        "pinball",
    ],
)
def test_whole_network_gradcheck(activation, loss):
    net = build_mlp([5, 6, 4, 3], activation, loss=loss, dropout=0.25, seed=0)
    y = Y if loss == "softmax_cross_entropy" else np.eye(3)[Y] * (2.0 if loss == "poisson" else 1.0)
    errors = gradcheck_network(net, X + 0.01, y, alpha=0.3, n_samples=20, sample_weight=np.arange(1.0, 9.0))
    assert max(errors.values()) < 1e-5


def test_l2_penalty_uses_training_set_size_and_skips_biases():
    net = build_mlp([5, 4, 3], "relu", seed=0, dtype=np.float64)
    base = net.loss_and_grad(X, Y)
    grads = net.flat_grads.copy()
    penalised = net.loss_and_grad(X, Y, alpha=2.0, n_samples=100)
    sq = sum(np.sum(W**2) for name, W in net.parameters().items() if name.endswith("W"))
    assert penalised == pytest.approx(base + 2.0 / (2 * 100) * sq)
    np.testing.assert_allclose(net.flat_grads - grads, 2.0 / 100 * net.flat_params * net.weight_mask)
    # the same alpha means the same penalty whatever the batch
    assert net.loss_and_grad(X[:2], Y[:2], alpha=2.0, n_samples=100) - net.loss_and_grad(X[:2], Y[:2]) == (
        pytest.approx(2.0 / 200 * sq)
    )


def test_config_and_state_round_trip_bit_exact():
    net = build_mlp([5, 7, 3], "tanh", dropout=0.1, seed=3)
    clone = Sequential.from_config(net.get_config())
    clone.load_state_dict(net.state_dict())
    np.testing.assert_array_equal(clone.predict_proba(X), net.predict_proba(X))
    restored = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(restored.predict_proba(X), net.predict_proba(X))
    with pytest.raises(ValueError, match="missing"):
        clone.load_state_dict({"layers.0.W": np.zeros((7, 5))})
    with pytest.raises(ValueError, match="unknown layer type"):
        Sequential.from_config({"layers": [{"type": "Conv2d"}], "loss": {"name": "squared_error"}})


def test_dtypes_are_explicit_and_stable():
    net32 = build_mlp([5, 4, 3], "relu", seed=0)
    assert net32.flat_params.dtype == np.float32
    assert net32.forward(X).dtype == np.float32  # float64 input cast at the boundary
    net64 = net32.astype(np.float64)
    assert net64.forward(X).dtype == np.float64 and net64.flat_params.dtype == np.float64
    np.testing.assert_allclose(net64.predict_proba(X), net32.predict_proba(X), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="float32 or float64"):
        build_mlp([5, 3], dtype=np.int32)


def test_predict_is_in_eval_mode_and_restores_mode():
    net = build_mlp([5, 50, 3], "relu", dropout=0.5, seed=0).train()
    p1, p2 = net.predict_proba(X), net.predict_proba(X)
    np.testing.assert_array_equal(p1, p2)
    assert net.training
    assert net.predict(X).shape == (8,)


def test_bad_input_names_shapes():
    net = Sequential([Dense(5, 4, rng=0), Sigmoid(), Dropout(0.1, rng=0), Dense(4, 3, rng=0), ReLU()])
    with pytest.raises(ValueError, match=r"\(n_samples, 5\).*\(8, 4\)"):
        net.forward(X[:, :4])
    with pytest.raises(ValueError, match="2-D"):
        net.forward(X[0])
    with pytest.raises(ValueError, match="NaN"):
        net.forward(np.full((2, 5), np.nan))
    with pytest.raises(ValueError, match="empty"):
        net.forward(np.zeros((0, 5)))
    with pytest.raises(ValueError, match="dropout rates"):
        build_mlp([5, 4, 4, 3], dropout=[0.1])
    with pytest.raises(ValueError, match="expected one of"):
        build_mlp([5, 4, 3], "swish")
    with pytest.raises(TypeError, match="Layer"):
        Sequential([np.zeros(3)])


def test_lab_initialisation_rule_for_logistic():
    net = build_mlp([64, 80, 70, 10], "logistic", seed=0)
    W = net.parameters()["layers.0.W"]
    assert np.abs(W).max() <= np.sqrt(2 / (64 + 80))  # scikit-learn's factor 2 for logistic
    relu = build_mlp([64, 80, 10], "relu", seed=0)
    assert np.abs(relu.parameters()["layers.0.W"]).max() <= np.sqrt(6 / 64)  # He-uniform
    assert np.all(relu.parameters()["layers.0.b"] == 0)


def test_gradcheck_passes_on_a_trained_network():
    from glassnet.optim import Adam
    from glassnet.training import Trainer

    net = build_mlp([5, 32, 3], "tanh", dropout=0.1, seed=0)
    Trainer(net, Adam(lr=0.05), batch_size=4, seed=0).fit(X, Y, epochs=200)  # near-zero gradients now
    assert net.loss_and_grad(X, Y) < 0.05
    assert max(gradcheck_network(net, X, Y).values()) < 1e-5  # the default tolerance


# --- behaviour from declarations ---------------------------------------------------------------------------------


class Scale(Layer):
    """y = x * W (element-wise), a layer the network knows only by its declarations."""

    def __init__(self, width: int, decay: tuple[str, ...] = ("W",), uses_batch_stats: bool = False):
        super().__init__()
        self.decay, self.uses_batch_stats = decay, uses_batch_stats
        self.params = {"W": np.linspace(0.5, 1.5, width)}
        self.grads = {"W": np.zeros(width)}

    def forward(self, x):
        self._x = x
        return x * self.params["W"]

    def backward(self, dy):
        x = self._saved("_x", dy)
        np.sum(dy * x, axis=0, out=self.grads["W"])
        return dy * self.params["W"]


def _penalty(net) -> float:
    return net.loss_and_grad(X, Y, alpha=2.0, n_samples=8) - net.loss_and_grad(X, Y)


def test_a_new_layer_that_declares_decay_is_penalised():
    decays = Sequential([Scale(5), Dense(5, 3, rng=0)], dtype=np.float64)
    assert decays.weight_mask.sum() == 5 + 15
    sq = np.sum(decays.layers[0].params["W"] ** 2) + np.sum(decays.layers[1].W ** 2)
    assert _penalty(decays) == pytest.approx(2.0 / 16 * sq)
    # a parameter called W that does not declare decay is left alone: the declaration decides, not the name
    plain = Sequential([Scale(5, decay=()), Dense(5, 3, rng=0)], dtype=np.float64)
    assert plain.weight_mask[:5].sum() == 0
    assert _penalty(plain) == pytest.approx(2.0 / 16 * np.sum(plain.layers[1].W ** 2))
    errors = gradcheck_network(decays, X, Y, alpha=0.5, n_samples=8)
    assert max(errors.values()) < 1e-6


def test_a_new_layer_that_uses_batch_statistics_is_refused_by_data_parallelism():
    from glassnet import parallel
    from glassnet.optim import SGD

    base = parallel.unsupported_reason(Sequential([Scale(5), Dense(5, 3, rng=0)]), SGD())
    reason = parallel.unsupported_reason(
        Sequential([Scale(5, uses_batch_stats=True), Dense(5, 3, rng=0)]), SGD()
    )
    assert reason is not None and "uses_batch_stats" in reason and "Scale" in reason
    assert base is None or "uses_batch_stats" not in base  # (None unless this platform cannot fork)


def test_widths_come_from_the_layers_that_declare_them():
    net = Sequential([Scale(5), Dense(5, 4, rng=0), ReLU(), Dense(4, 3, rng=0), ReLU()])
    assert (net.n_features_in, net.n_outputs) == (5, 3)
    free = Sequential([Scale(5)])
    assert (free.n_features_in, free.n_outputs) == (None, None)


@pytest.mark.parametrize(
    ("loss", "y"),
    [
        ("softmax_cross_entropy", Y),
        ("sigmoid_binary_cross_entropy", np.eye(3)[Y]),
        ("squared_error", np.eye(3)[Y]),
        ("poisson", np.eye(3)[Y]),
    ],
)
def test_predictions_are_the_losss_decoding_in_eval_mode(loss, y):
    net = build_mlp([5, 6, 3], "tanh", loss=loss, dropout=0.3, seed=0, dtype=np.float64).train()
    z = net.eval().forward(X)
    net.train()
    np.testing.assert_array_equal(net.predict(X, batch_size=3), net.loss.predict(z))
    np.testing.assert_array_equal(net.predict_proba(X), net.loss.link(z))
    if net.loss.task == "regression":
        with pytest.raises(TypeError, match="not probabilities"):
            net.predict_log_proba(X)
    else:
        np.testing.assert_allclose(np.exp(net.predict_log_proba(X, batch_size=3)), net.predict_proba(X))
    assert net.training  # the mode is restored


def test_build_mlp_is_importable_from_its_module_and_from_network():
    from glassnet.mlp import build_mlp as from_mlp

    assert from_mlp is build_mlp


@pytest.mark.parametrize(
    "loss", [AbsoluteError(), HuberLoss(delta=0.3), PinballLoss(quantile=0.9)], ids=lambda loss: loss.name
)
def test_regression_losses_round_trip_with_their_parameters(loss):
    net = build_mlp([5, 4, 2], "relu", loss=loss, seed=0)
    clone = Sequential.from_config(net.get_config())
    assert type(clone.loss) is type(loss) and clone.loss.get_config() == loss.get_config()
    clone.load_state_dict(net.state_dict())
    np.testing.assert_array_equal(clone.predict(X), net.predict(X))
