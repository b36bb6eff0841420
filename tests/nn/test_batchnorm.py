"""BatchNorm: formulas, train/eval modes, gradient checks, configuration and saved state."""

import numpy as np
import pytest

from glassnet.gradcheck import gradcheck_layer, gradcheck_network
from glassnet.layers import BatchNorm, Dense, ReLU
from glassnet.network import Sequential, build_mlp


def _batch(seed=0, shape=(6, 4)):
    return np.random.default_rng(seed).normal(2.0, 3.0, size=shape)


def test_training_forward_standardises_each_feature():
    bn = BatchNorm(4, dtype=np.float64)
    bn.training = True
    y = bn.forward(_batch())
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=0), 1.0, rtol=1e-5)


def test_gamma_beta_scale_and_shift():
    bn = BatchNorm(4, dtype=np.float64)
    bn.training = True
    bn.params["gamma"][...] = [1.0, 2.0, 3.0, 4.0]
    bn.params["beta"][...] = [0.0, -1.0, 1.0, 5.0]
    y = bn.forward(_batch())
    np.testing.assert_allclose(y.mean(axis=0), bn.params["beta"], atol=1e-12)
    np.testing.assert_allclose(y.std(axis=0), bn.params["gamma"], rtol=1e-5)


def test_running_statistics_and_eval_mode():
    bn = BatchNorm(4, momentum=1.0, dtype=np.float64)
    bn.training = True
    x = _batch()
    bn.forward(x)
    np.testing.assert_allclose(bn.buffers["running_mean"], x.mean(axis=0))
    np.testing.assert_allclose(bn.buffers["running_var"], x.var(axis=0, ddof=1))
    bn.training = False
    y = bn.forward(x[:1])  # one row: evaluation uses the running statistics, not the batch's
    expected = (x[:1] - x.mean(axis=0)) / np.sqrt(x.var(axis=0, ddof=1) + bn.eps)
    np.testing.assert_allclose(y, expected)


def test_momentum_averages_batches():
    bn = BatchNorm(3, momentum=0.1)
    bn.training = True
    bn.forward(np.full((4, 3), 10.0, np.float32))
    np.testing.assert_allclose(bn.buffers["running_mean"], 1.0)  # 0.9 * 0 + 0.1 * 10
    np.testing.assert_allclose(bn.buffers["running_var"], 0.9)  # 0.9 * 1 + 0.1 * 0


@pytest.mark.parametrize("training", [True, False])
def test_gradcheck_layer(training):
    bn = BatchNorm(4, momentum=0.3, dtype=np.float64)
    rng = np.random.default_rng(1)
    bn.params["gamma"][...] = rng.uniform(0.5, 2.0, 4)
    bn.params["beta"][...] = rng.normal(size=4)
    bn.buffers["running_mean"][...] = rng.normal(size=4)
    bn.buffers["running_var"][...] = rng.uniform(0.5, 2.0, 4)
    errors = gradcheck_layer(bn, _batch(2, (5, 4)), training=training)
    assert set(errors) == {"x", "gamma", "beta"}


def test_gradcheck_network_with_batch_norm():
    net = build_mlp([5, 6, 4, 3], batch_norm=True, seed=0, dtype=np.float64)
    X = np.random.default_rng(3).normal(size=(8, 5))
    y = np.arange(8) % 3
    errors = gradcheck_network(net, X, y, alpha=0.1, n_samples=8, raise_on_error=False)
    # the biases of the Dense layers before batch norm have a zero gradient (the mean subtraction cancels
    # them): their numerical gradients are rounding noise, so they are checked for being ~0 instead
    cancelled = {"layers.0.b", "layers.3.b"}
    assert {k: v for k, v in errors.items() if k not in cancelled and v > 1e-5} == {}
    net64 = net.astype(np.float64).train()
    net64.loss_and_grad(X, y)
    for name in cancelled:
        np.testing.assert_allclose(net64.gradients()[name], 0.0, atol=1e-12)
    assert any(name.endswith("gamma") for name in errors)


def test_build_mlp_places_batch_norm_before_activation():
    net = build_mlp([5, 6, 3], batch_norm=True, seed=0)
    assert [type(layer).__name__ for layer in net.layers] == ["Dense", "BatchNorm", "ReLU", "Dense"]
    # gamma and beta are not weights: no L2, no weight decay
    assert net.weight_mask.sum() == 5 * 6 + 6 * 3


def test_config_and_state_dict_round_trip():
    net = build_mlp([5, 6, 3], batch_norm=True, seed=0)
    net.train()
    X = np.random.default_rng(4).normal(size=(16, 5))
    net.forward(X)  # moves the running statistics
    net.eval()
    state = net.state_dict()
    assert "layers.1.running_mean" in state and "layers.1.running_var" in state
    assert "layers.1.running_mean" not in net.parameters()  # buffers are not trained
    clone = Sequential.from_config(net.get_config())
    clone.load_state_dict(state)
    np.testing.assert_allclose(clone.forward(X), net.forward(X))
    np.testing.assert_array_equal(
        clone.layers[1].buffers["running_var"], net.layers[1].buffers["running_var"]
    )


def test_save_and_load_model_file(tmp_path):
    from glassnet.io import load_model, save_model

    net = build_mlp([5, 6, 3], batch_norm=True, seed=0)
    net.train()
    X = np.random.default_rng(5).normal(size=(16, 5)).astype(np.float32)
    net.forward(X)
    net.eval()
    path = tmp_path / "bn.npz"
    save_model(path, net)
    loaded = load_model(path)
    loaded_net = getattr(loaded, "network", loaded)
    np.testing.assert_allclose(loaded_net.forward(X), net.forward(X), rtol=1e-6)


def test_astype_keeps_buffers():
    net = build_mlp([5, 6, 3], batch_norm=True, seed=0)
    net.layers[1].buffers["running_mean"][...] = 0.5
    net64 = net.astype(np.float64)
    assert net64.layers[1].params["gamma"].dtype == np.float64
    np.testing.assert_array_equal(net64.layers[1].buffers["running_mean"], 0.5)


def test_dtype_is_preserved():
    bn = BatchNorm(3)
    bn.training = True
    x = np.ones((4, 3), np.float32) * np.arange(4, dtype=np.float32)[:, None]
    y = bn.forward(x)
    assert y.dtype == np.float32
    assert bn.backward(np.ones_like(y)).dtype == np.float32
    bn.training = False
    assert bn.forward(x).dtype == np.float32


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="num_features"):
        BatchNorm(0)
    with pytest.raises(ValueError, match="momentum"):
        BatchNorm(3, momentum=0.0)
    with pytest.raises(ValueError, match="eps"):
        BatchNorm(3, eps=-1.0)
    bn = BatchNorm(3)
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        bn.forward(np.ones((2, 4), np.float32))
    bn.training = True
    with pytest.raises(ValueError, match="at least 2 samples"):
        bn.forward(np.ones((1, 3), np.float32))
    with pytest.raises(RuntimeError, match="before forward"):
        BatchNorm(3).backward(np.ones((2, 3)))


def test_trains_a_small_network():
    from glassnet.optim import Adam
    from glassnet.training import Trainer

    rng = np.random.default_rng(0)
    X = 300.0 + 50.0 * rng.normal(size=(200, 2))  # far from zero: batch norm re-centres the hidden units
    y = ((X[:, 0] - 300.0) * (X[:, 1] - 300.0) > 0).astype(int)  # XOR of the quadrants
    net = Sequential([Dense(2, 16, rng=0, init="he_uniform"), BatchNorm(16), ReLU(), Dense(16, 2, rng=1)])
    Trainer(net, Adam(lr=0.01), batch_size=32, seed=0).fit(X, y, epochs=60)
    assert (net.predict(X) == y).mean() > 0.9


def test_a_batch_normalised_fit_judged_diverged_after_its_last_step_says_why():
    """50 full-batch steps on inputs around 100: the running statistics lag the weights, so the final loss in
    evaluation mode is far above training's; the error says so."""
    import warnings

    from glassnet import MLPClassifier
    from glassnet.exceptions import TrainingDivergedError

    rng = np.random.RandomState(42)
    X, y = rng.normal(loc=100, size=(100, 2)), rng.randint(0, 2, size=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: 50 epochs
        with pytest.raises(TrainingDivergedError, match="running statistics"):
            MLPClassifier(max_iter=50, batch_norm=True, random_state=5).fit(X, y)
        MLPClassifier(max_iter=50, batch_norm=True, random_state=5).fit(X - 100.0, y)  # centred: no error
