"""A run's data: validated settings and the train/test points they (or an uploaded CSV) describe.

:func:`load_run_data` does all the checking and the work before a :class:`~glassnet.playground.session.Session`
changes anything, so new settings either apply whole or raise and leave the session as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glassnet.playground.config import LIMITS, ConfigError, validate_config
from glassnet.playground.datasets import make_dataset, read_csv, split, standardization

__all__ = ["RunData", "load_run_data"]


@dataclass(frozen=True)
class RunData:
    """The points, classes and plotted extent of one configuration.

    ``csv_text`` is the CSV the points came from, ``None`` for a generated data set; ``standardize`` the
    ``{"mean", "scale"}`` its features were standardised with (:func:`~glassnet.playground.datasets.standardization`),
    which a model file keeps so that the CSV's raw rows can be predicted."""

    config: dict
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    class_names: list[str]
    domain: float
    csv_text: str | None
    standardize: dict | None = None


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
        X_raw, y, names = read_csv(csv_text, max_rows=LIMITS["n_samples"])
        scaling = standardization(X_raw)
        # (n, 2) - (2,) -> (n, 2): the network sees standardised features, as on the built-in problems
        parsed = (((X_raw - scaling["mean"]) / scaling["scale"]).astype(np.float32), y, names)
        n_rows = len(y)
    clean = validate_config(config, n_csv_rows=n_rows)
    if parsed is not None:
        X, y, names = parsed
        data = split(X, y, clean["train_fraction"], np.random.default_rng(clean["data_seed"]))
        n_classes = len(names)
    else:
        data = make_dataset(
            clean["dataset"], clean["n_samples"], clean["noise"], clean["train_fraction"],
            clean["classes"], clean["data_seed"],
        )  # fmt: skip
        n_classes = int(max(data[1].max(), data[3].max()) + 1)
    extent = float(np.max(np.abs(np.concatenate([data[0], data[2]]))))
    return RunData(
        clean, *data, n_classes=n_classes, class_names=names or [str(k) for k in range(n_classes)],
        domain=round(max(1.0, extent * 1.1), 2), csv_text=csv_text if parsed is not None else None,
        standardize=scaling,
    )  # fmt: skip
