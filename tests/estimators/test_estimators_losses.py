"""The regressor's loss parameters in scikit-learn's names: ``loss='quantile', quantile=q`` and ``huber_delta``;
validated, kept in model files and in ONNX export."""

import numpy as np
import pytest

from glassnet import MLPRegressor
from glassnet.config.params import InvalidParameterError
from glassnet.nn.losses import HuberLoss, PinballLoss

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def noisy_line(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, X[:, 0] + rng.normal(size=n)


@pytest.mark.parametrize("q", [0.1, 0.9])
def test_quantile_regression_in_scikit_learn_names(q):
    """MLPRegressor(loss='quantile', quantile=q), as HistGradientBoostingRegressor: about a fraction q of the
    targets lies below the predictions."""
    X, y = noisy_line()
    reg = MLPRegressor(
        loss="quantile",
        quantile=q,
        hidden_layer_sizes=(16,),
        max_iter=300,
        learning_rate_init=0.01,
        random_state=0,
    ).fit(X, y)
    assert isinstance(reg.network_.loss, PinballLoss) and reg.network_.loss.quantile == q
    assert abs(np.mean(y < reg.predict(X)) - q) < 0.05


def test_huber_delta_sets_the_threshold():
    X, y = noisy_line(n=100)
    reg = MLPRegressor(loss="huber", huber_delta=0.25, hidden_layer_sizes=(4,), max_iter=3).fit(X, y)
    assert isinstance(reg.network_.loss, HuberLoss) and reg.network_.loss.delta == 0.25
    assert MLPRegressor(loss="huber", max_iter=1).fit(X, y).network_.loss.delta == 1.0  # None: the default


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"loss": "quantile", "quantile": 1.0},
            r"'quantile' parameter of MLPRegressor must be None or a float in ",
        ),
        (
            {"loss": "huber", "huber_delta": 0},
            r"'huber_delta' parameter of MLPRegressor must be None or a float",
        ),
        (
            {"loss": "huber", "quantile": 0.9},
            r"quantile=0.9 is used only by loss in \['pinball', 'quantile'\]",
        ),
        ({"huber_delta": 2.0}, r"huber_delta=2.0 is used only by loss in \['huber'\]; loss='squared_error'"),
        ({"loss": PinballLoss(0.2), "quantile": 0.9}, "a Loss instance that has its own parameters"),
    ],
)
def test_loss_parameters_are_validated(params, message):
    X, y = noisy_line(n=20)
    with pytest.raises(InvalidParameterError, match=message):
        MLPRegressor(max_iter=1, **params).fit(X, y)


def test_a_continued_fit_refuses_another_quantile():
    X, y = noisy_line(n=50)
    reg = MLPRegressor(loss="quantile", quantile=0.9, hidden_layer_sizes=(4,), max_iter=2, warm_start=True)
    reg.fit(X, y).fit(X, y)  # the same loss: fine
    with pytest.raises(
        ValueError, match=r"minimises pinball \{'quantile': 0.9\}, but the parameters now ask"
    ):
        reg.set_params(quantile=0.5).fit(X, y)


@pytest.mark.parametrize(
    "params", [{"loss": "quantile", "quantile": 0.9}, {"loss": "huber", "huber_delta": 0.5}]
)
def test_loss_parameters_survive_a_model_file_and_onnx(tmp_path, params):
    from glassnet.io import load_estimator, save_estimator

    X, y = noisy_line(n=100)
    reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0, **params).fit(X, y)
    save_estimator(tmp_path / "model.npz", reg)
    back = load_estimator(tmp_path / "model.npz")
    assert {k: back.get_params()[k] for k in params} == params
    assert back.network_.loss.get_config() == reg.network_.loss.get_config()
    np.testing.assert_array_equal(back.predict(X), reg.predict(X))
    back.set_params(warm_start=True, max_iter=1).fit(X, y)  # the loaded model continues with its loss

    ort = pytest.importorskip("onnxruntime")
    from glassnet.export import to_onnx

    session = ort.InferenceSession(to_onnx(reg).SerializeToString())
    (output,) = session.run(None, {session.get_inputs()[0].name: X})
    np.testing.assert_allclose(output.ravel(), reg.predict(X), rtol=1e-12, atol=1e-12)
