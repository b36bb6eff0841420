"""A run's data: validated settings and the train/test points they (or an uploaded CSV) describe.

:func:`load_run_data` does all the checking and the work before a :class:`~glassnet.playground.session.Session`
changes anything, so new settings either apply whole or raise and leave the session as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glassnet.playground.build import loss_class
from glassnet.playground.config import LIMITS, ConfigError, task_of, validate_config
from glassnet.playground.datasets import make_dataset, read_csv, split, standardization

__all__ = ["RunData", "load_run_data"]


@dataclass(frozen=True)
class RunData:
    """The points, classes (or, for a regression, the one output's name) and plotted extent of one configuration.

    ``csv_text`` is the CSV the points came from, ``None`` for a generated data set; ``standardize`` the
    ``{"mean", "scale"}`` its features were standardised with (:func:`~glassnet.playground.datasets.standardization`),
    which a model file keeps so that the CSV's raw rows can be predicted."""

    config: dict
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int  # the network's outputs: the classes, or 1 for a regression
    class_names: list[str]  # the class names, or the predicted value's name for a regression
    domain: float
    csv_text: str | None
    standardize: dict | None = None
    task: str = "classification"


def load_run_data(config: dict, csv_text: str | None) -> RunData:
    """Validate ``config`` (with the rows of ``csv_text`` for the ``'csv'`` data set) and make its data.

    Raises
    ------
    ConfigError
        The settings are not valid, or the ``'csv'`` data set is chosen without a CSV (or with a bad one).
    """
    n_rows, parsed, names, scaling = None, None, None, None
    if isinstance(config, dict) and config.get("dataset") == "csv":
        if not csv_text:
            raise ConfigError("Choose a CSV file first (two feature columns and a label per row).")
        target = config.get("target", "class")
        target = target if target in ("class", "value") else "class"  # validate_config names a bad one
        X_raw, y, names = read_csv(csv_text, max_rows=LIMITS["n_samples"], target=target)
        scaling = standardization(X_raw)
        # (n, 2) - (2,) -> (n, 2): the network sees standardised features, as on the built-in problems
        parsed = (((X_raw - scaling["mean"]) / scaling["scale"]).astype(np.float32), y, names)
        n_rows = len(y)
    clean = validate_config(config, n_csv_rows=n_rows)
    task = task_of(clean)
    if parsed is not None:
        X, y, names = parsed
        data = split(X, y, clean["train_fraction"], np.random.default_rng(clean["data_seed"]))
        n_classes = 1 if task == "regression" else len(names)
    else:
        data = make_dataset(
            clean["dataset"], clean["n_samples"], clean["noise"], clean["train_fraction"],
            clean["classes"], clean["data_seed"],
        )  # fmt: skip
        n_classes = 1 if task == "regression" else int(max(data[1].max(), data[3].max()) + 1)
        names = ["y"] if task == "regression" else None
    if task == "regression":
        _check_targets(clean, data[1])
    extent = float(np.max(np.abs(np.concatenate([data[0], data[2]]))))
    return RunData(
        clean, *data, n_classes=n_classes, class_names=names or [str(k) for k in range(n_classes)],
        domain=round(max(1.0, extent * 1.1), 2), csv_text=csv_text if parsed is not None else None,
        standardize=scaling, task=task,
    )  # fmt: skip


def _check_targets(config: dict, y: np.ndarray) -> None:
    """Refuse values the configured loss cannot take (Poisson: negative ones) before anything changes."""
    loss = loss_class(config)()
    z = np.zeros((len(y), 1), dtype=np.float32)  # (N, 1): any prediction will do, the loss checks y
    try:
        loss.forward(z, y)
    except ValueError as exc:
        raise ConfigError(
            f"The {config['loss']} loss does not fit this data: {exc} Choose another loss."
        ) from None
