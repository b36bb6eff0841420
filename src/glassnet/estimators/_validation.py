"""The validation set of a fit: the caller's ``X_val, y_val`` (or ``eval_set``), or a held-out fraction of the
training rows for early stopping.

The held-out fraction is drawn so that a sample weight means what scikit-learn says it means, a number of
copies: a row of weight 3 and three copies of the row give the same split, the same fit and the same model.
Identical rows (inputs and target) are kept together, so that no copy of a training row is scored as held out;
rows of weight 0 stay in training, where they count for nothing. Each distinct row gets a key, a hash of its
bytes keyed by the fit's seed: ordered by key, the rows come in a random order that depends only on their
content, not on their position or their number of copies. The validation set takes the first rows of each
class in that order until it holds ``validation_fraction`` of the class's weight (and at least two distinct
rows: a score needs two). The rule is the Trainer's too, with other parameters: :mod:`glassnet.training.split`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glassnet.nn.optim import OPTIMIZERS
from glassnet.training.data import Dataset, check_weights
from glassnet.training.split import held_out_rows, row_keys


@dataclass
class TrainingData:
    """The training rows and, when there are any, the validation rows (``eval_set`` or early stopping)."""

    train: Dataset
    val: Dataset | None = None


class ValidationMixin:
    """Validation data for :class:`~glassnet.estimators._base.BaseMultilayerPerceptron`."""

    def _training_data(self, train: Dataset, validation) -> TrainingData:
        """The validation split: the caller's (``validation``, a dict from :func:`validation_arguments`) if
        given, else a held-out fraction for early stopping."""
        if validation is not None:
            return TrainingData(train, self._eval_split(validation, train.X.dtype))
        if not (self.early_stopping and self.solver in OPTIMIZERS):  # stochastic solvers only
            return TrainingData(train)
        # stratified for single-label classification (scikit-learn stratifies the binary case only)
        single_label = getattr(self, "target_type_", None) in ("binary", "multiclass")
        seed = int(self._rng.integers(2**31 - 1))
        keys = row_keys(train.X, train.y, seed)
        weights = np.ones(train.n_rows) if train.sample_weight is None else train.sample_weight
        val = held_out_rows(keys, train.labels if single_label else None, weights, self.validation_fraction)
        if len(np.unique(keys[val])) < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the size of your dataset."
            )
        return TrainingData(train.subset(~val), train.subset(val))

    def _eval_split(self, validation: dict, dtype) -> Dataset:
        """Check the caller's validation set against the training data and encode it as the training set."""
        X_val = self._validate_x_val(validation["X_val"]).astype(dtype, copy=False)
        y_val, Y_val = self._validate_targets(
            np.asarray(validation["y_val"]),
            dtype,
            first_pass=False,
            incremental=True,
            classes=None,
            is_eval=True,
        )
        if len(y_val) != X_val.shape[0]:
            raise ValueError(
                f"X_val has {X_val.shape[0]} samples but y_val has {len(y_val)}; give one per row."
            )
        weights = validation["sample_weight_val"]
        try:
            sample_weight = check_weights(weights, X_val.shape[0], dtype, words="scikit-learn")
        except ValueError as exc:
            raise ValueError(f"sample_weight_val: {exc}") from None
        return Dataset(X_val, Y_val, sample_weight, labels=y_val)

    def _validate_x_val(self, X_val):
        """``X_val`` with the training data's features, or an error saying so (and how to get them)."""
        n_features = self.n_features_in_
        shape = getattr(X_val, "shape", None)
        if shape is None:  # a list of rows
            try:
                shape = np.shape(X_val)
            except ValueError:  # ragged: validate_data says so
                shape = ()
        if len(shape) == 2 and shape[1] != n_features:
            raise ValueError(
                f"X_val has {shape[1]} features, but the training data X has {n_features}: the validation set "
                "needs the same columns as X. In a Pipeline, let it transform X_val as it transforms X: "
                "Pipeline(..., transform_input=['X_val']) with sklearn.set_config(enable_metadata_routing=True) "
                "and set_fit_request(X_val=True, y_val=True) on this estimator."
            )
        try:
            return self._validate_x(X_val)
        except ValueError as exc:  # scikit-learn's words are about "X": say which X
            raise ValueError(f"X_val: {exc}") from None

    def _init_validation_records(self, data: TrainingData) -> None:
        if data.val is not None and self.validation_scores_ is None:
            self.validation_scores_ = []
            self.validation_loss_curve_ = []
            self.best_validation_score_ = -np.inf
            self._validation_judge = None  # a new record: judged from its start
        self._best_score_before_epoch = self.best_validation_score_


def validation_arguments(X_val, y_val, sample_weight_val, eval_set) -> dict | None:
    """The caller's validation set from ``fit``'s arguments, as ``{"X_val", "y_val", "sample_weight_val"}``
    (``None`` if there is none); ``eval_set=(X_val, y_val[, sample_weight_val])`` is the older spelling."""
    if eval_set is not None:
        if X_val is not None or y_val is not None or sample_weight_val is not None:
            raise ValueError(
                "Got both eval_set and X_val/y_val/sample_weight_val; pass the validation set once, as "
                "X_val=..., y_val=... (eval_set=(X_val, y_val) is the older spelling of the same)."
            )
        if isinstance(eval_set, list) and len(eval_set) == 1:
            eval_set = eval_set[0]  # XGBoost/LightGBM style: a list of (X, y) pairs
        if not isinstance(eval_set, tuple) or len(eval_set) not in (2, 3):
            raise ValueError(
                "eval_set must be a tuple (X_val, y_val) or (X_val, y_val, sample_weight_val); "
                f"got {type(eval_set).__name__}."
            )
        X_val, y_val = eval_set[0], eval_set[1]
        sample_weight_val = eval_set[2] if len(eval_set) == 3 else None
    if X_val is None and y_val is None:
        if sample_weight_val is not None:
            raise ValueError("sample_weight_val is given without a validation set; pass X_val and y_val too.")
        return None
    if y_val is None:
        raise ValueError("X_val is given, but y_val is not; pass both (or neither).")
    if X_val is None:
        raise ValueError("y_val is given, but X_val is not; pass both (or neither).")
    return {"X_val": X_val, "y_val": y_val, "sample_weight_val": sample_weight_val}
