"""glassnet.trace: one step recorded layer by layer equals the engine's step and a forward/backward by hand;
hidden activations of networks and estimators."""

import warnings

import numpy as np
import pytest

from glassnet.gradcheck import gradcheck_network
from glassnet.layers import BatchNorm, Dense, Dropout, ReLU, Tanh
from glassnet.network import Sequential, build_mlp
from glassnet.optim import SGD, Adam
from glassnet.trace import hidden_activations, trace_step

rng = np.random.default_rng(0)
X = rng.normal(size=(7, 3))
y = np.array([0, 1, 2, 1, 0, 2, 2])


def _net(dtype=np.float64):
    return build_mlp([3, 5, 4, 3], activation="tanh", seed=1, dtype=dtype)


def test_trace_equals_a_forward_and_backward_by_hand():
    net = _net()
    W1, b1, W2, b2, W3, b3 = (p.copy() for p in net.parameters().values())
    alpha, n = 0.3, 50
    trace = trace_step(net, X, y, SGD(lr=0.1), alpha=alpha, n_samples=n)

    z1 = X @ W1.T + b1
    a1 = np.tanh(z1)
    z2 = a1 @ W2.T + b2
    a2 = np.tanh(z2)
    z3 = a2 @ W3.T + b3
    p = np.exp(z3 - z3.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    Y = np.eye(3)[y]
    data_loss = -np.mean(np.log(p[np.arange(7), y]))
    penalty = alpha / (2 * n) * sum(np.sum(W**2) for W in (W1, W2, W3))
    dz3 = (p - Y) / 7
    dW3, db3, da2 = dz3.T @ a2 + alpha / n * W3, dz3.sum(0), dz3 @ W3
    dz2 = da2 * (1 - a2**2)
    dW2, db2, da1 = dz2.T @ a1 + alpha / n * W2, dz2.sum(0), dz2 @ W2
    dz1 = da1 * (1 - a1**2)
    dW1, db1 = dz1.T @ X + alpha / n * W1, dz1.sum(0)

    L = trace.layers
    assert [t.kind for t in L] == ["Dense", "Tanh", "Dense", "Tanh", "Dense"]
    np.testing.assert_allclose(trace.data_loss, data_loss, rtol=1e-12)
    np.testing.assert_allclose(trace.penalty, penalty, rtol=1e-10)
    np.testing.assert_allclose(trace.loss, data_loss + penalty, rtol=1e-12)
    for got, want in [
        (L[0].input, X), (L[0].output, z1), (L[1].output, a1), (L[2].output, z2), (L[3].output, a2),
        (L[4].output, z3), (trace.logits, z3), (trace.grad_logits, dz3), (L[4].grad_output, dz3),
        (L[4].grad_input, da2), (L[3].grad_input, dz2), (L[2].grad_input, da1), (L[1].grad_input, dz1),
        (L[4].grads["W"], dW3), (L[4].grads["b"], db3), (L[2].grads["W"], dW2), (L[2].grads["b"], db2),
        (L[0].grads["W"], dW1), (L[0].grads["b"], db1),
    ]:  # fmt: skip
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)
    assert L[0].grad_input is None  # the first trainable layer's input is the data
    np.testing.assert_array_equal(L[0].params_before["W"], W1)
    np.testing.assert_allclose(L[0].params_after["W"], W1 - 0.1 * dW1, rtol=1e-12)
    np.testing.assert_allclose(L[4].params_after["b"], b3 - 0.1 * db3, rtol=1e-12)
    np.testing.assert_array_equal(net.parameters()["layers.0.W"], L[0].params_after["W"])
    assert trace.lr == 0.1 and L[0].name == "layers.0"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_trace_is_the_engines_own_step_bit_for_bit(dtype):
    """With dropout, batch norm and Adam: the traced step changes everything exactly as a plain step."""
    r = np.random.default_rng(3)
    layers = [Dense(3, 6, rng=r), BatchNorm(6), ReLU(), Dropout(0.3, rng=4), Dense(6, 3, rng=r)]
    net = Sequential(layers, dtype=dtype).train()
    plain, opt_plain, opt = net.astype(dtype), Adam(lr=0.01), Adam(lr=0.01)  # astype: a rebound deep copy
    for _ in range(3):
        loss_plain = plain.loss_and_grad(X, y, alpha=0.1, n_samples=20)
        opt_plain.step(plain)
        trace = trace_step(net, X, y, opt, alpha=0.1, n_samples=20)
        assert trace.loss == loss_plain
        np.testing.assert_array_equal(net.flat_params, plain.flat_params)
        np.testing.assert_array_equal(net.flat_grads, plain.flat_grads)
    for name, buffer in net.buffers().items():
        np.testing.assert_array_equal(buffer, plain.buffers()[name])
    # the dropout mask the trace shows is the one the step used: dropped units are zero in the output
    drop = trace.layers[3]
    np.testing.assert_array_equal(
        drop.output == 0, (drop.input != 0) & (drop.output == 0) | (drop.input == 0)
    )
    assert all("forward" not in vars(layer) and "backward" not in vars(layer) for layer in net.layers)
    assert "forward" not in vars(net.loss)


def test_trace_without_optimizer_changes_nothing_and_gradcheck_agrees():
    net = _net()
    before = net.flat_params.copy()
    trace = trace_step(net, X, y, alpha=0.5, n_samples=30)
    np.testing.assert_array_equal(net.flat_params, before)
    assert trace.lr is None
    for t in trace.layers:
        for k in t.params_before:
            np.testing.assert_array_equal(t.params_before[k], t.params_after[k])
    # the traced gradients are the ones central differences find
    errors = gradcheck_network(net, X, y, alpha=0.5, n_samples=30)
    assert max(errors.values()) < 1e-7
    eps, flat = 1e-6, net.flat_params
    for i in (0, 7, flat.size - 1):
        old = flat[i]
        flat[i] = old + eps
        up = net.loss_and_grad(X, y, alpha=0.5, n_samples=30)
        flat[i] = old - eps
        down = net.loss_and_grad(X, y, alpha=0.5, n_samples=30)
        flat[i] = old
        traced = np.concatenate([g.ravel() for t in trace.layers for g in t.grads.values()])[i]
        np.testing.assert_allclose(traced, (up - down) / (2 * eps), rtol=1e-6, atol=1e-9)


def test_trace_unwraps_layers_when_the_step_fails():
    net = _net()
    with pytest.raises(ValueError, match="NaN"):
        trace_step(net, np.full((2, 3), np.nan), np.array([0, 1]))
    assert all("forward" not in vars(layer) for layer in net.layers)
    trace_step(net, X, y)  # still works


def test_hidden_activations_of_a_network():
    r = np.random.default_rng(5)
    net = Sequential([Dense(3, 4, rng=r), BatchNorm(4), Tanh(), Dropout(0.5, rng=0), Dense(4, 2, rng=r), ReLU(),
                      Dense(2, 3, rng=r)], dtype=np.float64).train()  # fmt: skip
    net.loss_and_grad(X, y)  # running statistics move away from their start
    acts = hidden_activations(net, X)
    assert net.training  # the mode is restored
    assert [a.shape for a in acts] == [(7, 4), (7, 2)]
    bn = net.layers[1]
    W0, b0 = net.parameters()["layers.0.W"], net.parameters()["layers.0.b"]
    xhat = (X @ W0.T + b0 - bn.buffers["running_mean"]) / np.sqrt(bn.buffers["running_var"] + bn.eps)
    a0 = np.tanh(xhat * bn.params["gamma"] + bn.params["beta"])
    np.testing.assert_allclose(acts[0], a0, rtol=1e-12)
    W4, b4 = net.parameters()["layers.4.W"], net.parameters()["layers.4.b"]
    np.testing.assert_allclose(acts[1], np.maximum(a0 @ W4.T + b4, 0), rtol=1e-12)
    np.testing.assert_array_equal(hidden_activations(net, X)[0], acts[0])  # no dropout: deterministic


def test_estimator_hidden_activations_match_coefs():
    from glassnet import MLPClassifier

    Xs = rng.normal(size=(60, 3))
    ys = (Xs[:, 0] + Xs[:, 1] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a short fit: ConvergenceWarning
        clf = MLPClassifier(hidden_layer_sizes=(5, 4), activation="tanh", max_iter=5, random_state=0).fit(
            Xs, ys
        )
    acts = clf.hidden_activations(Xs)
    assert [a.shape for a in acts] == [(60, 5), (60, 4)]
    a0 = np.tanh(Xs @ clf.coefs_[0] + clf.intercepts_[0])
    a1 = np.tanh(a0 @ clf.coefs_[1] + clf.intercepts_[1])
    np.testing.assert_allclose(acts[0], a0, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(acts[1], a1, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError):
        clf.hidden_activations(Xs[:, :2])  # the wrong number of features


def test_estimator_hidden_activations_needs_a_fit():
    from sklearn.exceptions import NotFittedError

    from glassnet import MLPClassifier

    with pytest.raises(NotFittedError):
        MLPClassifier().hidden_activations(X)
