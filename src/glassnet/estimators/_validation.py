"""The validation set of a fit: the caller's ``eval_set``, or a held-out fraction for early stopping."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from glassnet.estimators._data import Split, TrainingData, check_sample_weight


class ValidationMixin:
    """Validation data for :class:`~glassnet.estimators._base.BaseMultilayerPerceptron`."""

    def _training_data(self, train: Split, eval_set) -> TrainingData:
        """The validation split: ``eval_set`` if given, else a held-out fraction for early stopping."""
        if eval_set is not None:
            return TrainingData(train, self._eval_split(eval_set, train.X.dtype))
        if not (self.early_stopping and self.solver in ("sgd", "adam")):
            return TrainingData(train)
        # stratified for single-label classification (scikit-learn stratifies the binary case only)
        stratify = train.y if getattr(self, "target_type_", None) in ("binary", "multiclass") else None
        seed = int(self._rng.integers(2**31 - 1))
        split = dict(random_state=seed, test_size=self.validation_fraction)
        try:
            idx_train, idx_val = train_test_split(np.arange(train.n_samples), stratify=stratify, **split)
        except ValueError:  # a class too rare, or fewer validation rows than classes: split at random
            idx_train, idx_val = train_test_split(np.arange(train.n_samples), **split)
        if len(idx_val) < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the size of your dataset."
            )
        return TrainingData(train.subset(idx_train), train.subset(idx_val))

    def _eval_split(self, eval_set, dtype) -> Split:
        if isinstance(eval_set, list) and len(eval_set) == 1:
            eval_set = eval_set[0]  # XGBoost/LightGBM style: a list of (X, y) pairs
        if not isinstance(eval_set, tuple) or len(eval_set) not in (2, 3):
            raise ValueError(
                "eval_set must be a tuple (X_val, y_val) or (X_val, y_val, sample_weight_val); "
                f"got {type(eval_set).__name__}."
            )
        X_val, y_val = eval_set[0], eval_set[1]
        X_val = self._validate_x(X_val).astype(dtype, copy=False)
        y_val, Y_val = self._validate_targets(
            np.asarray(y_val), dtype, first_pass=False, incremental=True, classes=None, is_eval=True
        )
        if len(y_val) != X_val.shape[0]:
            raise ValueError(f"eval_set: X_val has {X_val.shape[0]} samples but y_val has {len(y_val)}.")
        weights = eval_set[2] if len(eval_set) == 3 else None
        sample_weight = check_sample_weight(weights, X_val.shape[0], dtype)
        return Split(X_val, Y_val, y_val, sample_weight)

    def _init_validation_records(self, data: TrainingData) -> None:
        if data.val is not None and self.validation_scores_ is None:
            self.validation_scores_ = []
            self.validation_loss_curve_ = []
            self.best_validation_score_ = -np.inf
        self._best_score_before_epoch = self.best_validation_score_
