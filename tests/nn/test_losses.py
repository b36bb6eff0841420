"""Losses from logits: values against the textbook formulas, gradient checks, weights, bad targets, and the
protocol every loss follows (task, predict, log_proba, chance_loss, prepare_targets, the registry)."""

import numpy as np
import pytest

from glassnet import functional as F
from glassnet.gradcheck import gradcheck_loss
from glassnet.losses import (
    LOSSES,
    TASKS,
    AbsoluteError,
    HuberLoss,
    Loss,
    PinballLoss,
    PoissonLoss,
    SigmoidBinaryCrossEntropy,
    SoftmaxCrossEntropy,
    SquaredError,
    check_logits,
    get_loss,
    normalized_weights,
    register_loss,
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


# --- the protocol: task, decoding, chance level, targets ------------------------------------------------------

Y_REG = rng.standard_normal((6, 3))
#: one instance of every built-in loss with targets it accepts
PROTOCOL = [
    (SoftmaxCrossEntropy(), LABELS),
    (SigmoidBinaryCrossEntropy(), (Z > 0).astype(float)),
    (SquaredError(), Y_REG),
    (PoissonLoss(), rng.poisson(2.0, (6, 3)).astype(float)),
    (AbsoluteError(), Y_REG),
    (HuberLoss(delta=0.8), Y_REG),
    (PinballLoss(quantile=0.7), Y_REG),
]


def _ids(case):
    return type(case[0]).__name__


def test_every_registered_loss_declares_a_task_and_round_trips_by_name():
    for name, cls in LOSSES.items():
        assert cls.task in TASKS
        assert isinstance(get_loss(name), cls)
        assert get_loss(cls.name).name == cls.name  # the stored name, whatever the alias


@pytest.mark.parametrize("case", PROTOCOL, ids=_ids)
def test_predict_decodes_the_logits_by_task(case):
    loss, _ = case
    z = Z * 3.0
    pred = loss.predict(z)
    if loss.task == "multiclass":
        np.testing.assert_array_equal(pred, np.argmax(loss.link(z), axis=1))
        assert pred.shape == (6,)
    elif loss.task == "multilabel":
        np.testing.assert_array_equal(pred, (loss.link(z) > 0.5).astype(np.intp))
        assert pred.dtype == np.intp
    else:
        np.testing.assert_array_equal(pred, loss.link(z))


@pytest.mark.parametrize("case", PROTOCOL, ids=_ids)
def test_log_proba_is_finite_where_the_probability_underflows(case):
    loss, _ = case
    if loss.task == "regression":
        with pytest.raises(TypeError, match="not probabilities"):
            loss.log_proba(Z)
        return
    np.testing.assert_allclose(np.exp(loss.log_proba(Z)), loss.link(Z), rtol=1e-12)
    huge = np.array([[0.0, 800.0, -800.0]])
    assert np.all(np.isfinite(loss.log_proba(huge)))
    assert loss.log_proba(huge).min() == pytest.approx(-1600.0 if loss.task == "multiclass" else -800.0)


def _best_constant(loss, y):
    """The logits of the constant prediction that ``chance_loss`` describes."""
    y = np.asarray(y, dtype=float)
    if loss.task != "regression":
        return np.zeros((6, 3))
    centre = {"squared_error": np.mean, "poisson": np.mean}.get(loss.name, np.median)
    if loss.name == "pinball":
        centre = lambda a, axis: np.quantile(a, loss.quantile, axis=axis, method="inverted_cdf")  # noqa: E731
    c = centre(y, axis=0)
    return np.tile(np.log(c) if loss.name == "poisson" else c, (len(y), 1))


@pytest.mark.parametrize("case", PROTOCOL, ids=_ids)
def test_chance_loss_is_the_loss_of_the_uninformed_constant(case):
    loss, y = case
    chance = loss.chance_loss(y, 3)
    assert chance == pytest.approx(loss.forward(_best_constant(loss, y), y), rel=1e-12)
    if (
        loss.task == "regression" and loss.name != "huber"
    ):  # the mean / median / quantile is the best constant
        for shift in (-0.1, 0.1):  # no better constant (an even count's medians tie, to rounding)
            assert chance <= loss.forward(_best_constant(loss, y) + shift, y) * (1 + 1e-12)


def test_chance_loss_values():
    assert SoftmaxCrossEntropy().chance_loss(LABELS, 3) == pytest.approx(np.log(3))
    assert SoftmaxCrossEntropy().chance_loss(LABELS, 1) == pytest.approx(np.log(2))  # one output: two classes
    assert SigmoidBinaryCrossEntropy().chance_loss(np.zeros((6, 4)), 4) == pytest.approx(4 * np.log(2))
    assert SquaredError().chance_loss(Y_REG, 3) == pytest.approx(0.5 * np.mean(np.var(Y_REG, axis=0)))
    assert PoissonLoss().chance_loss(np.zeros((6, 2)), 2) == 0.0  # all zero counts: the mean 0 is exact


@pytest.mark.parametrize("case", PROTOCOL, ids=_ids)
def test_prepare_targets_casts_all_but_class_labels(case):
    loss, y = case
    prepared = loss.prepare_targets(y, np.float32)
    if loss.task == "multiclass":
        assert prepared.dtype == LABELS.dtype  # labels index the classes: they stay integers
        assert loss.prepare_targets(np.eye(3)[LABELS], np.float32).dtype == np.float32
    else:
        assert prepared.dtype == np.float32
    np.testing.assert_array_equal(prepared, np.asarray(y).astype(prepared.dtype))


def test_log_sigmoid_is_finite_and_exact():
    x = np.array([-800.0, -30.0, -1.0, 0.0, 1.0, 30.0, 800.0])
    got = F.log_sigmoid(x)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got[1:-1], -np.log1p(np.exp(-x[1:-1])), rtol=1e-12)
    assert got[0] == -800.0 and got[-1] == 0.0
    assert F.log_sigmoid(x.astype(np.float32)).dtype == np.float32


def test_register_loss_checks_the_declarations():
    class NoTask(Loss):
        name, task = "no_task", "ranking"

    with pytest.raises(ValueError, match="task must be one of"):
        register_loss(NoTask)
    with pytest.raises(TypeError, match=r"subclass of glassnet\.(nn\.)?losses\.Loss"):
        register_loss(dict)
    with pytest.raises(ValueError, match="its own name"):
        register_loss(type("Unnamed", (Loss,), {}))
    assert "no_task" not in LOSSES


# --- the losses scikit-learn declined: absolute error, Huber, pinball --------------------------------------------

#: residuals r = z - y away from the kinks (0, and +-delta for the Huber deltas used here)
R_OFF_KINK = rng.choice([-2.5, -1.6, -0.7, -0.3, 0.3, 0.7, 1.6, 2.5], size=(6, 3)) + rng.uniform(
    -0.05, 0.05, (6, 3)
)
Y_OFF_KINK = Z - R_OFF_KINK


@pytest.mark.parametrize("weighted", [False, True])
def test_absolute_error_value_gradient_and_kink(weighted):
    loss = AbsoluteError()
    w = W if weighted else np.ones(6)
    expected = np.sum(w * np.mean(np.abs(R_OFF_KINK), axis=1)) / w.sum()
    assert loss.forward(Z, Y_OFF_KINK, W if weighted else None) == pytest.approx(expected)
    assert gradcheck_loss(loss, Z, Y_OFF_KINK, sample_weight=W if weighted else None)["z"] < 1e-6
    loss.forward(np.zeros((2, 1)), np.array([0.0, 1.0]))
    np.testing.assert_array_equal(loss.backward(), [[0.0], [-0.5]])  # sign(0) = 0 at the kink
    assert loss.link(Z) is not Z and np.array_equal(loss.link(Z), Z)


@pytest.mark.parametrize("delta", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_huber_value_and_gradient(delta, weighted):
    loss = HuberLoss(delta=delta)
    a = np.abs(R_OFF_KINK)
    rho = np.where(a <= delta, 0.5 * a**2, delta * (a - 0.5 * delta))
    w = W if weighted else np.ones(6)
    expected = np.sum(w * np.mean(rho, axis=1)) / w.sum()
    assert loss.forward(Z, Y_OFF_KINK, W if weighted else None) == pytest.approx(expected)
    assert gradcheck_loss(loss, Z, Y_OFF_KINK, sample_weight=W if weighted else None)["z"] < 1e-6
    assert loss.get_config() == {"delta": delta}


def test_huber_is_squared_error_within_delta_and_scaled_absolute_error_beyond():
    small = 0.1 * R_OFF_KINK  # every |r| < 0.3
    assert HuberLoss(delta=1.0).forward(Z, Z - small) == pytest.approx(SquaredError().forward(Z, Z - small))
    big = np.sign(R_OFF_KINK) * (np.abs(R_OFF_KINK) + 10.0)  # every |r| > 10
    expected = 0.5 * (AbsoluteError().forward(Z, Z - big) - 0.25)  # delta (|r| - delta / 2), delta = 0.5
    assert HuberLoss(delta=0.5).forward(Z, Z - big) == pytest.approx(expected)
    loss = HuberLoss(delta=1.0)
    loss.forward(np.array([[0.0, 3.0, -3.0]]), np.zeros((1, 3)))
    np.testing.assert_allclose(loss.backward(), [[0.0, 1 / 3, -1 / 3]])  # clip(r, -delta, delta) / K


@pytest.mark.parametrize("delta", [0.0, -1.0, np.inf, np.nan, "1", True])
def test_huber_delta_must_be_positive(delta):
    with pytest.raises(ValueError, match=r"delta must be a float in the range \(0, inf\); got"):
        HuberLoss(delta=delta)


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("weighted", [False, True])
def test_pinball_value_and_gradient(q, weighted):
    loss = PinballLoss(quantile=q)
    u = Y_OFF_KINK - Z
    w = W if weighted else np.ones(6)
    expected = np.sum(w * np.mean(np.maximum(q * u, (q - 1) * u), axis=1)) / w.sum()
    assert loss.forward(Z, Y_OFF_KINK, W if weighted else None) == pytest.approx(expected)
    assert gradcheck_loss(loss, Z, Y_OFF_KINK, sample_weight=W if weighted else None)["z"] < 1e-6
    assert loss.get_config() == {"quantile": q}


def test_pinball_is_half_the_absolute_error_at_the_median_and_fits_the_quantile():
    assert PinballLoss(0.5).forward(Z, Y_OFF_KINK) == pytest.approx(
        0.5 * AbsoluteError().forward(Z, Y_OFF_KINK)
    )
    loss = PinballLoss(quantile=0.8)
    loss.forward(np.zeros((1, 3)), np.array([[1.0, 0.0, -1.0]]))
    np.testing.assert_allclose(loss.backward(), [[-0.8 / 3, 0.0, 0.2 / 3]])  # -q below, 0 at, 1 - q above
    # gradient descent on one constant prediction settles at the 0.8-quantile of the targets
    y = np.random.default_rng(1).standard_normal((400, 1))
    c = np.zeros((400, 1))
    for _ in range(300):
        loss.forward(c, y)
        c -= 0.5 * loss.backward().sum()
    assert abs(np.mean(y < c[0, 0]) - 0.8) < 0.01


@pytest.mark.parametrize("q", [0.0, 1.0, -0.5, 2.0, np.nan, None])
def test_pinball_quantile_must_be_in_the_open_unit_interval(q):
    with pytest.raises(ValueError, match=r"quantile must be a float in the range \(0, 1\); got"):
        PinballLoss(quantile=q)


def test_quantile_is_an_alias_of_pinball():
    loss = get_loss("quantile", quantile=0.3)
    assert isinstance(loss, PinballLoss) and loss.name == "pinball"


# --- a user's own loss: the protocol, from outside the package ----------------------------------------------------


class CauchyLoss(Loss):
    r"""A robust loss the package does not ship: :math:`\ell = \frac1K \sum_k \tfrac12 \log(1 + r_k^2)`,
    :math:`\partial \ell / \partial z = r / (K (1 + r^2))`, with :math:`r = z - y`."""

    name = "test_cauchy"
    task = "regression"

    def link(self, z):
        return z.copy()

    def chance_loss(self, y, n_outputs):
        y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        return float(np.mean(0.5 * np.log1p((y - np.median(y, axis=0)) ** 2)))

    def forward(self, z, y, sample_weight=None):
        check_logits(z)
        r = z - self.targets_like(z, y)  # (N, K)
        w = normalized_weights(sample_weight, len(z), z.dtype)  # (N, 1), sums to 1
        k = z.shape[1]
        self._dz = r / (1.0 + r * r) * (w / k)
        return float(np.sum(0.5 * np.log1p(r * r), axis=1) @ w[:, 0] / k)


@pytest.fixture
def cauchy():
    register_loss(CauchyLoss)
    yield CauchyLoss
    LOSSES.pop(CauchyLoss.name)


def test_a_users_loss_registers_trains_a_network_and_passes_gradcheck(cauchy):
    from glassnet.gradcheck import gradcheck_network
    from glassnet.layers import Dense, Tanh
    from glassnet.network import Sequential
    from glassnet.optim import Adam

    X = np.random.default_rng(2).uniform(-2, 2, (64, 2))
    y = np.sin(X[:, :1]) + 0.5 * X[:, 1:]
    net = Sequential([Dense(2, 16, rng=0), Tanh(), Dense(16, 1, rng=1)], loss="test_cauchy", dtype=np.float64)
    assert isinstance(net.loss, CauchyLoss)
    assert gradcheck_loss(net.loss, Z, Y_REG, sample_weight=W)["z"] < 1e-6
    assert max(gradcheck_network(net, X[:8], y[:8]).values()) < 1e-6
    start, opt = net.loss_and_grad(X, y), Adam(lr=0.02)
    for _ in range(300):
        net.loss_and_grad(X, y)
        opt.step(net)
    assert net.loss_and_grad(X, y) < 0.1 * start < start < net.loss.chance_loss(y, net.n_outputs) * 10
    np.testing.assert_array_equal(net.predict(X), net.forward(X))  # regression: predictions are link(z)
    clone = Sequential.from_config(net.get_config())  # found by its name
    clone.load_state_dict(net.state_dict())
    np.testing.assert_array_equal(clone.predict(X), net.predict(X))
    assert net.loss.prepare_targets(y, np.float32).dtype == np.float32
    with pytest.raises(TypeError, match="not probabilities"):
        net.predict_log_proba(X)


def test_chance_loss_is_computed_in_bounded_memory():
    """The divergence rule's chance level on a Fashion-MNIST-sized target vector: exact, and in chunks (a
    single (60000, 10) float64 pass took 15 MiB, more than a whole epoch of training)."""
    import tracemalloc

    from glassnet.losses import SigmoidBinaryCrossEntropy, SoftmaxCrossEntropy

    y = np.random.default_rng(0).integers(0, 10, 60000)
    tracemalloc.start()
    try:
        chance = SoftmaxCrossEntropy().chance_loss(y, 10)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert chance == pytest.approx(np.log(10), rel=1e-12)
    assert peak < 2 * 2**20
    Y = np.random.default_rng(1).integers(0, 2, (9000, 3))
    bce = SigmoidBinaryCrossEntropy().chance_loss(Y, 3)
    assert bce == pytest.approx(3 * np.log(2), rel=1e-12)  # summed over the outputs
