"""Choices declared once: a new activation, optimizer or schedule is one class that registers itself, and every
reader (build_mlp, the estimators' validation, ``glassnet train``'s options, the playground's menus, ONNX export
and to_sklearn) offers it without a change of its own."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from glassnet.cli import build_parser
from glassnet.cli._common import UsageError
from glassnet.cli.train import build_config
from glassnet.config import MLPConfig
from glassnet.config.build import make_optimizer, make_schedule
from glassnet.config.params import InvalidParameterError
from glassnet.nn import functional as F
from glassnet.nn import register_activation, register_optimizer, register_schedule, registry_menus
from glassnet.nn.gradcheck import gradcheck_layer, gradcheck_network
from glassnet.nn.layers import ACTIVATION_LAYERS, LAYERS, ActivationLayer, unregister_activation
from glassnet.nn.network import Sequential, build_mlp
from glassnet.nn.optim import OPTIMIZERS, Adam, AdamW, Optimizer, unregister_optimizer
from glassnet.nn.schedules import SCHEDULES, InvScalingLR, Schedule, unregister_schedule
from glassnet.training import Trainer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # short fits


class Softplus(ActivationLayer):
    r""":math:`a = \log(1 + e^x)`, :math:`\partial L/\partial x = \partial L/\partial a \odot \sigma(x)`."""

    name, formula, onnx_op = "softplus", "log(1 + exp(x))", "Softplus"  # scikit-learn lacks it

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return np.logaddexp(x.dtype.type(0), x)  # log(e^0 + e^x), without overflow

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * F.sigmoid(self._saved("_x", dy))


class Adagrad(Optimizer):
    r""":math:`G \leftarrow G + g^2`, :math:`\theta \leftarrow \theta - \eta\, g / (\sqrt{G} + \epsilon)`."""

    name, state_names = "adagrad", ("_G",)

    def __init__(self, lr: float = 0.01, epsilon: float = 1e-10, weight_decay: float = 0.0) -> None:
        super().__init__(lr, weight_decay)
        self.epsilon = float(epsilon)

    def _update(self, params: np.ndarray, grads: np.ndarray) -> None:
        G = self._buffer("_G", params)
        G += grads * grads
        params -= self.lr * grads / (np.sqrt(G) + self.epsilon)


class ExponentialLR(Schedule):
    r""":math:`\eta = \eta_0 \gamma^{e}` after epoch :math:`e`."""

    name = "exponential"

    def __init__(self, lr: float, gamma: float = 0.9) -> None:
        super().__init__(lr)
        self.gamma = float(gamma)

    def on_epoch_end(self, epoch: int, loss: float) -> None:
        self.lr = self.lr0 * self.gamma ** (epoch + 1)


@pytest.fixture
def softplus():
    register_activation(Softplus)
    yield Softplus
    unregister_activation("softplus")


@pytest.fixture
def adagrad():
    register_optimizer(Adagrad)
    yield Adagrad
    unregister_optimizer("adagrad")


@pytest.fixture
def exponential():
    register_schedule(ExponentialLR)
    yield ExponentialLR
    unregister_schedule("exponential")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int)
    return X, y


def test_the_default_registries():
    """What the readers offer today comes from the registries (and the fixtures leave them so)."""
    menus = registry_menus()
    assert [a["name"] for a in menus["activations"]] == [
        "identity",
        "logistic",
        "tanh",
        "relu",
        "leaky_relu",
        "gelu",
    ]
    assert [a["name"] for a in menus["activations"] if a["sklearn"]] == [
        "identity",
        "logistic",
        "tanh",
        "relu",
    ]
    assert [o["name"] for o in menus["optimizers"]] == ["sgd", "adam", "adamw"]
    assert [s["name"] for s in menus["schedules"]] == ["constant", "invscaling", "adaptive", "step", "cosine"]
    assert "pinball" in [loss["name"] for loss in menus["losses"]]
    assert "quantile" not in [loss["name"] for loss in menus["losses"]]  # an alias
    assert menus["activations"][4]["parameters"] == {"negative_slope": 0.01}
    assert {"softplus", "adagrad", "exponential"}.isdisjoint({*ACTIVATION_LAYERS, *OPTIMIZERS, *SCHEDULES})


# --- a new activation -------------------------------------------------------------------------------------


def test_a_new_activation_is_one_class(softplus, data):
    X, y = data
    gradcheck_layer(Softplus(), np.random.default_rng(1).normal(size=(5, 3)))  # raises on a wrong backward
    net = build_mlp([4, 6, 2], activation="softplus", seed=0, dtype=np.float64)
    assert isinstance(net.layers[1], Softplus)
    gradcheck_network(net, X[:8], y[:8])
    rebuilt = Sequential.from_config(net.get_config())  # a model file knows the layer type
    rebuilt.load_state_dict(net.state_dict())
    np.testing.assert_array_equal(rebuilt.predict_proba(X), net.predict_proba(X))

    clf = glassnet.MLPClassifier((8,), activation="softplus", solver="lbfgs", max_iter=200, random_state=0)
    assert clf.fit(X, y).score(X, y) > 0.9
    assert isinstance(clf.network_.layers[1], Softplus)

    args = build_parser().parse_args(["train", "--activation", "softplus"])
    assert build_config(args).activation == "softplus"

    menu = {a["name"]: a for a in registry_menus()["activations"]}["softplus"]
    assert menu == {
        "name": "softplus", "class": "Softplus", "formula": "log(1 + exp(x))", "summary": Softplus.__doc__,
        "sklearn": None, "onnx": True, "init": "glorot_uniform", "parameters": {},
    }  # fmt: skip


def test_an_unregistered_activation_is_refused_again(data):
    X, y = data
    with pytest.raises(InvalidParameterError, match="'activation' parameter.*Got 'softplus'"):
        glassnet.MLPClassifier(activation="softplus").fit(X, y)
    with pytest.raises(ValueError, match="Unknown activation 'softplus'"):
        build_mlp([4, 2], activation="softplus")
    with pytest.raises(UsageError, match="--activation: invalid choice: 'softplus'"):
        build_parser().parse_args(["train", "--activation", "softplus"])
    assert "Softplus" not in LAYERS


def test_a_new_activation_exports_as_it_declares(softplus, data):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from glassnet.export import to_onnx

    X, y = data
    X = X.astype(np.float32)  # a float32 model: onnxruntime's Softplus has no float64 kernel
    clf = glassnet.MLPClassifier((8,), activation="softplus", max_iter=30, random_state=0).fit(X, y)
    onx = to_onnx(clf)
    assert "Softplus" in {node.op_type for node in onx.graph.node}
    onnx.checker.check_model(onx, full_check=True)
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    label, proba = session.run(None, {"X": X})
    np.testing.assert_array_equal(label, clf.predict(X))
    np.testing.assert_allclose(proba, clf.predict_proba(X), rtol=2e-5, atol=2e-6)


def test_an_activation_without_a_lowering_is_a_clear_export_error():
    pytest.importorskip("onnx")
    from glassnet.export import to_onnx

    class Softplus2(Softplus):
        name, onnx_op = "softplus2", None

    register_activation(Softplus2)
    try:
        assert not {a["name"]: a for a in registry_menus()["activations"]}["softplus2"]["onnx"]
        with pytest.raises(TypeError, match="Cannot export the activation 'softplus2'.*declares no lowering"):
            to_onnx(build_mlp([3, 4, 2], activation="softplus2", seed=0))
    finally:
        unregister_activation("softplus2")


def test_to_sklearn_says_scikit_learn_lacks_a_new_activation(softplus, data):
    pytest.importorskip("sklearn")
    X, y = data
    clf = glassnet.MLPClassifier((8,), activation="softplus", max_iter=5, random_state=0).fit(X, y)
    with pytest.raises(
        ValueError, match="scikit-learn's MLP has no 'softplus' activation .*identity, logistic"
    ):
        glassnet.to_sklearn(clf)


def test_register_activation_checks_the_declarations():
    with pytest.raises(TypeError, match="subclass of glassnet.nn.layers.ActivationLayer"):
        register_activation(Adagrad)

    class Nameless(Softplus):
        name = None

    with pytest.raises(ValueError, match="must declare its name"):
        register_activation(Nameless)

    class BadInit(Softplus):
        init = "orthogonal"

    with pytest.raises(ValueError, match="init must be one of"):
        register_activation(BadInit)
    assert "softplus" not in ACTIVATION_LAYERS


# --- a new optimizer --------------------------------------------------------------------------------------


def test_a_new_optimizer_is_one_class(adagrad, data):
    X, y = data
    opt = Adagrad(lr=0.5, epsilon=0.0)
    theta, g = np.array([1.0, -1.0]), np.array([2.0, -0.5])
    opt.update(theta, g)
    np.testing.assert_allclose(theta, [1.0 - 0.5, -1.0 + 0.5])  # the first step is lr * sign(g)

    net = build_mlp([4, 8, 2], activation="tanh", seed=0)
    history = Trainer(net, Adagrad(lr=0.1), batch_size=16, seed=0).fit(X, y, epochs=20)
    assert history["loss"][-1] < 0.7 * history["loss"][0]

    optimizer = make_optimizer(MLPConfig(solver="adagrad", learning_rate_init=0.2, epsilon=1e-6))
    assert (type(optimizer), optimizer.lr, optimizer.epsilon, optimizer.weight_decay) == (
        Adagrad,
        0.2,
        1e-6,
        0.0,
    )

    clf = glassnet.MLPClassifier((8,), solver="adagrad", learning_rate_init=0.1, max_iter=60, random_state=0)
    assert clf.fit(X, y).score(X, y) > 0.85
    clf.partial_fit(X, y)  # a stochastic solver: partial_fit is there
    stopped = glassnet.MLPClassifier(
        (8,), solver="adagrad", early_stopping=True, max_iter=300, random_state=0
    )
    assert stopped.fit(X, y).best_validation_score_ is not None  # the held-out split of stochastic solvers

    args = build_parser().parse_args(["train", "--solver", "adagrad"])
    assert build_config(args).solver == "adagrad"
    menu = {o["name"]: o for o in registry_menus()["optimizers"]}["adagrad"]
    assert menu["parameters"] == {"lr": 0.01, "epsilon": 1e-10, "weight_decay": 0.0}


def test_an_unregistered_optimizer_is_refused_again(data):
    X, y = data
    with pytest.raises(InvalidParameterError, match="'solver' parameter.*Got 'adagrad'"):
        glassnet.MLPClassifier(solver="adagrad").fit(X, y)
    with pytest.raises(ValueError, match="Unknown optimizer 'adagrad'"):
        make_optimizer(MLPConfig(solver="adagrad"))
    with pytest.raises(UsageError, match="--solver: invalid choice: 'adagrad'"):
        build_parser().parse_args(["train", "--solver", "adagrad"])


def test_register_optimizer_checks_the_declarations():
    with pytest.raises(TypeError, match="subclass of glassnet.nn.optim.Optimizer"):
        register_optimizer(Softplus)

    class Shouting(Adagrad):
        name = "ADAGRAD"

    with pytest.raises(ValueError, match="lower-case"):
        register_optimizer(Shouting)


def test_the_built_in_solvers_are_built_as_before():
    """``make_optimizer`` reads the registry; the settings each built-in optimizer gets are unchanged."""
    sgd = make_optimizer(
        MLPConfig(solver="sgd", momentum=0.5, nesterovs_momentum=False, learning_rate_init=0.1)
    )
    assert (sgd.lr, sgd.momentum, sgd.nesterov, sgd.weight_decay) == (0.1, 0.5, False, 0.0)
    adam = make_optimizer(MLPConfig(solver="adam", beta_1=0.8, beta_2=0.99, epsilon=1e-7, weight_decay=0.1))
    assert (type(adam), adam.beta_1, adam.beta_2, adam.epsilon, adam.weight_decay) == (
        Adam,
        0.8,
        0.99,
        1e-7,
        0.1,
    )
    adamw = make_optimizer(MLPConfig(solver="adamw"))  # weight_decay 0: AdamW's own 0.01, as glassnet train
    assert (type(adamw), adamw.weight_decay) == (AdamW, 0.01)


# --- a new schedule ---------------------------------------------------------------------------------------


def test_a_new_schedule_is_one_class(exponential, data):
    X, y = data
    schedule = make_schedule(MLPConfig(learning_rate="exponential", learning_rate_init=0.1), n_batches=3)
    assert type(schedule) is ExponentialLR and schedule.lr == 0.1
    clf = glassnet.MLPClassifier((8,), solver="sgd", learning_rate="exponential", max_iter=20, random_state=0)
    clf.fit(X, y)
    assert clf.n_iter_ == 20
    assert "exponential" in [s["name"] for s in registry_menus()["schedules"]]


def test_the_built_in_schedules_are_built_as_before():
    inv = make_schedule(MLPConfig(solver="sgd", learning_rate="invscaling", power_t=0.25), 5, samples_seen=40)
    assert (type(inv), inv.power_t, inv.t) == (InvScalingLR, 0.25, 40)
    for config in (MLPConfig(solver="adam", learning_rate="invscaling"), MLPConfig(learning_rate="adaptive")):
        assert type(make_schedule(config, 5)).__name__ == "ConstantLR"  # scikit-learn's rules
    cosine = make_schedule(MLPConfig(learning_rate="cosine", max_iter=10, warmup_fraction=0.1), 4)
    assert (cosine.total_steps, cosine.warmup_steps) == (40, 4)
