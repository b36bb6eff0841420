"""A playground run's settings: defaults, limits, and validation with messages a student can act on.

The choices (activations, optimizers, schedules, losses) are read from glassnet's registries when a
configuration is validated, so a class registered after import is accepted as the page's menus offer it.
A configuration is a flat JSON object (the page keeps it in the URL's hash). :func:`validate_config` fills in
defaults, checks every value against :data:`LIMITS` and returns a clean copy, or raises :class:`ConfigError`
naming the setting, what it got and what it takes.
"""

from __future__ import annotations

import math

from glassnet.nn.initializers import INITIALIZERS
from glassnet.nn.layers import hidden_activations
from glassnet.nn.losses import LOSSES
from glassnet.nn.optim import OPTIMIZERS
from glassnet.nn.schedules import SCHEDULES

__all__ = ["DEFAULTS", "LIMITS", "ConfigError", "losses_for", "salvage_config", "task_of", "validate_config"]

#: the sizes one browser tab may ask for, so that one tab cannot take the machine
LIMITS = {
    "hidden_layers": 10,
    "units": 128,
    "n_samples": 5000,
    "batch_size": 1000,
    "classes": 10,
    "total_params": 50_000,
}

DEFAULTS = {
    "dataset": "circles",
    "n_samples": 400,
    "noise": 0.1,
    "train_fraction": 0.5,
    "classes": 3,
    "data_seed": 0,
    "layers": [
        {"units": 8, "activation": "tanh", "dropout": 0.0},
        {"units": 8, "activation": "tanh", "dropout": 0.0},
    ],
    "batch_norm": False,
    "optimizer": "adam",
    "lr": 0.03,
    "momentum": 0.9,
    "weight_decay": 0.0,  # the optimizer's own default when the page switches to it (AdamW: 0.01)
    "schedule": "constant",
    "step_size": 50,
    "gamma": 0.5,
    "total_epochs": 200,
    "batch_size": 10,
    "alpha": 0.0,
    "init": "auto",
    "seed": 0,
    "features": [],
    "target": "class",  # a CSV's last column: class labels, or the values to predict ("value")
    "loss": "auto",  # the task's first loss: softmax cross-entropy, or squared error for a regression
}

DATASET_NAMES = ("circles", "moons", "xor", "spirals", "blobs", "surface", "plane", "csv")
REGRESSION_DATASETS = ("surface", "plane")

#: the loss registry's task that each playground task takes its losses from
LOSS_TASKS = {"classification": "multiclass", "regression": "regression"}


class ConfigError(ValueError):
    """A setting the playground cannot run; the message says which and what it takes."""


def _number(config: dict, key: str, low: float, high: float, integer: bool = False, open_low: bool = False):
    value = config.get(key, DEFAULTS.get(key))
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ConfigError(f"{key} must be a number; got {value!r}.") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{key} must be a finite number; got {value!r}.")
    if integer and value != int(value):
        raise ConfigError(f"{key} must be a whole number; got {value!r}.")
    too_low = value <= low if open_low else value < low
    if too_low or value > high:
        bracket = "(" if open_low else "["
        raise ConfigError(f"{key} must be in {bracket}{low:g}, {high:g}]; got {value!r}.")
    return int(value) if integer else float(value)


def _choice(config: dict, key: str, options) -> str:
    value = config.get(key, DEFAULTS.get(key))
    if value not in options:
        raise ConfigError(f"Unknown {key} {value!r}; expected one of {', '.join(options)}.")
    return value


def _layers(value) -> list[dict]:
    if isinstance(value, str):  # the URL form: "8:tanh:0.1,8:relu"
        value = [dict(zip(("units", "activation", "dropout"), part.split(":"), strict=False))
                 for part in value.split(",") if part.strip()]  # fmt: skip
    if not isinstance(value, list):
        raise ConfigError(f"layers must be a list of {{units, activation, dropout}}; got {value!r}.")
    if len(value) > LIMITS["hidden_layers"]:
        raise ConfigError(
            f"{len(value)} hidden layers is more than the playground's limit of {LIMITS['hidden_layers']}; "
            "remove some layers."
        )
    layers = []
    for i, spec in enumerate(value, start=1):
        if not isinstance(spec, dict):
            raise ConfigError(f"Hidden layer {i}: expected {{units, activation, dropout}}; got {spec!r}.")
        units = spec.get("units")
        try:
            units = int(units) if not isinstance(units, bool) and float(units) == int(float(units)) else None
        except (TypeError, ValueError, OverflowError):  # OverflowError: "1e400" units
            units = None
        if units is None or units < 1:
            raise ConfigError(
                f"Hidden layer {i} has {spec.get('units')!r} units; a layer needs at least 1 unit "
                "(remove the layer instead)."
            )
        if units > LIMITS["units"]:
            raise ConfigError(
                f"Hidden layer {i} has {units} units, more than the playground's limit of {LIMITS['units']}."
            )
        activation = spec.get("activation", "relu")
        offered = hidden_activations()  # read now: an activation registered after import is offered too
        if activation not in offered:
            raise ConfigError(
                f"Hidden layer {i}: unknown activation {activation!r}; expected one of {', '.join(offered)}."
            )
        dropout = _number({"dropout": spec.get("dropout", 0.0)}, "dropout", 0.0, 0.9)
        layers.append({"units": units, "activation": activation, "dropout": dropout})
    return layers


def _features(value) -> list[str]:
    """Engineered inputs: a list of names, or the URL form ``"x1sq,x1x2"``; kept in the table's order."""
    from glassnet.playground.datasets import FEATURES

    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or any(name not in FEATURES for name in value):
        raise ConfigError(f"features must be names among {', '.join(FEATURES)}; got {value!r}.")
    return [name for name in FEATURES if name in value]


def task_of(config: dict) -> str:
    """``'regression'`` for a surface to fit (a regression data set, or a CSV of values), else
    ``'classification'``."""
    if config["dataset"] in REGRESSION_DATASETS or (
        config["dataset"] == "csv" and config["target"] == "value"
    ):
        return "regression"
    return "classification"


def losses_for(task: str) -> list[str]:
    """The registered losses (their own names, aliases left out) for a playground ``task``, in registration
    order; read from the registry at each call."""
    return [name for name, cls in LOSSES.items() if name == cls.name and cls.task == LOSS_TASKS[task]]


def validate_config(config: dict, n_csv_rows: int | None = None) -> dict:
    """A clean copy of ``config`` with defaults filled in; raises :class:`ConfigError` on any bad value.

    ``n_csv_rows`` is the size of the uploaded CSV when ``dataset`` is ``csv`` (it replaces ``n_samples``).
    """
    if not isinstance(config, dict):
        raise ConfigError(f"The settings must be a JSON object; got {type(config).__name__}.")
    out = {"dataset": _choice(config, "dataset", DATASET_NAMES)}
    out["n_samples"] = _number(config, "n_samples", 10, LIMITS["n_samples"], integer=True)
    out["noise"] = _number(config, "noise", 0.0, 1.0)
    out["train_fraction"] = _number(config, "train_fraction", 0.05, 0.95)
    out["classes"] = _number(config, "classes", 2, LIMITS["classes"], integer=True)
    out["data_seed"] = _number(config, "data_seed", 0, 2**31 - 1, integer=True)
    out["layers"] = _layers(config.get("layers", DEFAULTS["layers"]))
    out["batch_norm"] = config.get("batch_norm", False) in (True, "true", "1", 1)
    out["optimizer"] = _choice(config, "optimizer", tuple(OPTIMIZERS))
    out["lr"] = _number(config, "lr", 0.0, 10.0, open_low=True)
    out["momentum"] = _number(config, "momentum", 0.0, 0.999)
    out["weight_decay"] = _number(config, "weight_decay", 0.0, 1.0)
    out["schedule"] = _choice(config, "schedule", tuple(SCHEDULES))
    out["step_size"] = _number(config, "step_size", 1, 100_000, integer=True)
    out["gamma"] = _number(config, "gamma", 0.0, 1.0, open_low=True)
    out["total_epochs"] = _number(config, "total_epochs", 1, 100_000, integer=True)
    out["batch_size"] = _number(config, "batch_size", 1, LIMITS["batch_size"], integer=True)
    out["alpha"] = _number(config, "alpha", 0.0, 100.0)
    out["init"] = _choice(config, "init", ("auto", *INITIALIZERS))
    out["seed"] = _number(config, "seed", 0, 2**31 - 1, integer=True)
    out["features"] = _features(config.get("features", []))
    out["target"] = _choice(config, "target", ("class", "value"))
    out["loss"] = _loss(config, task_of(out))
    _check_sizes(out, n_csv_rows)
    return out


def _loss(config: dict, task: str) -> str:
    """``'auto'`` or a registered loss of the task (softmax cross-entropy for classes; squared error,
    Huber, ... for a regression)."""
    offered = losses_for(task)
    if config.get("loss", "auto") in LOSSES and config["loss"] not in offered:
        raise ConfigError(
            f"loss {config['loss']!r} does not fit this data set's task ({task}); expected auto or one of "
            f"{', '.join(offered)}."
        )
    return _choice(config, "loss", ("auto", *offered))


def _check_sizes(out: dict, n_csv_rows: int | None) -> None:
    """The settings that depend on each other: training points, batch size, the network's parameters."""
    n = n_csv_rows if out["dataset"] == "csv" and n_csv_rows else out["n_samples"]
    n_train = min(max(int(round(out["train_fraction"] * n)), 1), n - 1)
    if n_train < 2:
        raise ConfigError(f"Only {n_train} training point(s); raise the number of points or the train share.")
    if out["batch_size"] > n_train:
        raise ConfigError(
            f"batch_size {out['batch_size']} is larger than the {n_train} training points; lower it."
        )
    if out["batch_norm"] and out["batch_size"] < 2:
        raise ConfigError("Batch normalisation needs batches of at least 2 points; raise batch_size.")
    n_outputs = 1 if task_of(out) == "regression" else out["classes"]
    widths = [2 + len(out["features"])] + [spec["units"] for spec in out["layers"]] + [n_outputs]
    n_params = sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:], strict=False))
    if n_params > LIMITS["total_params"]:
        raise ConfigError(
            f"The network has {n_params:,} parameters, more than the playground's limit of "
            f"{LIMITS['total_params']:,}; use fewer or narrower layers."
        )


def salvage_config(config: dict, n_csv_rows: int | None = None) -> tuple[dict, list[str]]:
    """The valid part of ``config`` and a message for each setting left out (its default is used instead).

    For a link of which one value is wrong: the rest of the link is kept, and the page says what was not.
    Settings are taken one at a time, in two passes, so that one which depends on another given after it
    (``batch_size`` on ``n_samples``) is kept when the two go together.
    """
    if not isinstance(config, dict):
        return {}, [f"The settings must be a JSON object; got {type(config).__name__}."]
    kept: dict = {}
    problems: dict[str, str] = {}
    if config.get("dataset") == "csv" and n_csv_rows is None:
        config = {k: v for k, v in config.items() if k != "dataset"}
        problems["dataset"] = (
            "dataset='csv': a link holds the settings, not the rows of a CSV, so the default data set is shown; "
            "choose the CSV file again (Data) to train on it."
        )
    for _ in range(2):
        for key, value in config.items():
            if key in kept:
                continue
            try:
                validate_config({**kept, key: value}, n_csv_rows)
            except ConfigError as exc:
                problems[key] = f"{key}={value!r}: {exc}"
            else:
                kept[key] = value
                problems.pop(key, None)
    return kept, list(problems.values())
