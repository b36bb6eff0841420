"""One vocabulary, one builder, one loop: every entry point builds and trains the same network."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet.cli import main
from glassnet.config import MLPConfig
from glassnet.config.build import build_network, make_loss, make_optimizer, make_schedule
from glassnet.data import load_dataset
from glassnet.estimators import MLPClassifier
from glassnet.io import load_model
from glassnet.recipes import RECIPES, make_estimator


def test_train_recipe_and_make_estimator_give_the_same_weights(tmp_path, capsys):
    model = tmp_path / "m.npz"
    argv = ["train", "--recipe", "digits", "--seed", "0", "--validation-split", "0", "--epochs", "2"]
    assert main([*argv, "--no-report", "--no-progress", "-o", str(model)]) == 0
    capsys.readouterr()
    data = load_dataset("digits", seed=0)
    X = np.asarray(data.X_train, dtype=np.float32)
    est = make_estimator("digits", random_state=0, n_ensemble=1, max_iter=2).fit(X, data.y_train)
    np.testing.assert_array_equal(load_model(model).network.flat_params, est.network_.flat_params)


def test_config_fields_are_the_estimators_parameters():
    from glassnet import MLPClassifier, MLPRegressor

    fields = set(MLPConfig.__dataclass_fields__)
    assert set(MLPClassifier().get_params()) <= fields
    assert set(MLPRegressor().get_params()) <= fields
    config = MLPConfig.from_estimator(MLPClassifier(hidden_layer_sizes=(7,), alpha=0.5))
    assert config.hidden_layer_sizes == (7,) and config.alpha == 0.5
    assert MLPClassifier.from_config(config).get_params()["hidden_layer_sizes"] == (7,)
    with pytest.raises(TypeError, match="no field"):
        config.replace(hiden_layer_sizes=(3,))


def test_recipes_are_written_in_the_config_vocabulary():
    for recipe in RECIPES.values():
        MLPConfig().replace(**recipe.params).validate()


def test_the_builders_follow_the_config():
    config = MLPConfig(hidden_layer_sizes=(5, 4), activation="tanh", solver="sgd", momentum=0.5,
                       learning_rate="cosine", max_iter=3, dropout=0.25)  # fmt: skip
    net = build_network(config, 3, 2, make_loss(config, "multiclass"), np.float64, np.random.default_rng(0))
    assert [type(layer).__name__ for layer in net.layers] == [
        "Dense", "Tanh", "Dropout", "Dense", "Tanh", "Dropout", "Dense",
    ]  # fmt: skip
    optimizer = make_optimizer(config)
    assert type(optimizer).__name__ == "SGD" and optimizer.momentum == 0.5
    schedule = make_schedule(config, n_batches=4)
    assert type(schedule).__name__ == "CosineLR" and schedule.total_steps == 12
    with pytest.raises(ValueError, match="label_smoothing"):
        make_loss(MLPConfig(label_smoothing=0.1), "multilabel")


def test_mlpconfig_is_written_out_and_equals_the_declarations():
    """MLPConfig's fields are typed in its source and are exactly the estimators' declared parameters."""
    import dataclasses
    import inspect

    from glassnet.config import ALL_PARAMS

    fields = {f.name: f.default for f in dataclasses.fields(MLPConfig)}
    assert fields == {p.name: p.default for p in ALL_PARAMS}
    source = inspect.getsource(MLPConfig)
    for name in fields:
        assert f"    {name}: " in source, f"{name} is not written out in MLPConfig's source"
    with pytest.raises(dataclasses.FrozenInstanceError):
        MLPConfig().alpha = 1.0
    assert MLPClassifier.from_config(MLPConfig(alpha=0.5, loss="huber")).get_params()["alpha"] == 0.5
