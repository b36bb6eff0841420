"""What the classifier and the regressor share: validation, initialisation, the fit driver, prediction."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.callback import CallbackSupportMixin
from sklearn.utils.validation import validate_data

from glassnet.config import MLPConfig
from glassnet.config.build import build_network, dropout_rates, hidden_sizes, make_loss, output_activation
from glassnet.config.params import validate_params
from glassnet.estimators._callbacks import IterationCallbacks
from glassnet.estimators._docs import DocumentationLinkMixin
from glassnet.estimators._lbfgs import LbfgsSolverMixin
from glassnet.estimators._stochastic import StochasticSolverMixin
from glassnet.estimators._validation import ValidationMixin
from glassnet.nn.initializers import as_generator
from glassnet.nn.layers import Dense
from glassnet.nn.optim import OPTIMIZERS
from glassnet.training.data import Dataset, check_weights, logits


class LiveWeights(list):
    """A list of views into a network's parameters; assigning an item writes into the network."""

    def __init__(self, views: list[np.ndarray], name: str) -> None:
        super().__init__(views)
        self.name = name

    def __setitem__(self, i, value) -> None:
        view = list.__getitem__(self, i)
        value = np.asarray(value)
        if value.shape != view.shape:
            raise ValueError(f"{self.name}[{i}] has shape {view.shape}; got an array of shape {value.shape}.")
        view[...] = value

    def assign(self, values) -> None:
        """Write a whole list of arrays, one per layer."""
        values = list(values)
        if len(values) != len(self):
            raise ValueError(f"{self.name} needs {len(self)} arrays (one per layer); got {len(values)}.")
        for i, value in enumerate(values):
            self[i] = value


#: settings that act on mini-batches or optimizer steps, which L-BFGS does not take
_PER_BATCH = (
    "batch_norm", "augment_shift", "augment_rotation", "augment_scale", "augment_translation",
    "augment_elastic", "augment_flip", "augment_noise", "weight_averaging",
)  # fmt: skip


class BaseMultilayerPerceptron(
    DocumentationLinkMixin,
    CallbackSupportMixin,
    ValidationMixin,
    StochasticSolverMixin,
    LbfgsSolverMixin,
    BaseEstimator,
):
    """Shared machinery of :class:`MLPClassifier` and :class:`MLPRegressor`; not for direct use.

    Subclasses declare ``_declared_params`` (see :mod:`glassnet.config.params`) and implement
    ``_validate_targets`` (targets -> what the loss needs), ``_task`` (the loss head's task) and
    ``_predict_from_logits``.
    """

    _declared_params: tuple = ()

    @classmethod
    def from_config(cls, config):
        """An unfitted estimator with the settings of a :class:`glassnet.config.MLPConfig` (the fields this
        estimator declares; e.g. the classifier ignores the regressor's ``loss``)."""
        return cls(**config.as_params(cls._declared_params))

    # --- fitted attributes in scikit-learn's layout ------------------------------------------------------

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weights in scikit-learn's ``(n_in, n_out)`` layout: live views of ``network_``'s ``W.T``.

        Assignable as in scikit-learn: ``est.coefs_ = [...]`` and ``est.coefs_[i] = array`` both write the
        values into the network (the shapes must match).
        """
        return LiveWeights([layer.W.T for layer in self._dense_layers()], "coefs_")

    @coefs_.setter
    def coefs_(self, values) -> None:
        self.coefs_.assign(values)

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors, live views into ``network_``; assignable like :attr:`coefs_`."""
        return LiveWeights([layer.b for layer in self._dense_layers()], "intercepts_")

    @intercepts_.setter
    def intercepts_(self, values) -> None:
        self.intercepts_.assign(values)

    def _dense_layers(self) -> list[Dense]:
        return [layer for layer in self.network_.layers if isinstance(layer, Dense)]

    # --- fit driver ----------------------------------------------------------------------------------------

    def _config(self) -> MLPConfig:
        """The hyper-parameters as the shared :class:`~glassnet.config.MLPConfig` the builders read."""
        return MLPConfig.from_estimator(self)

    def _fit(self, X, y, sample_weight=None, validation=None, incremental=False, classes=None, callbacks=()):
        """The fit driver of ``fit`` and ``partial_fit``; ``validation`` from :func:`validation_arguments`."""
        validate_params(self, self._declared_params)
        self._check_solver_options(incremental, validation)
        first_pass = not hasattr(self, "network_") or (not self.warm_start and not incremental)
        self._rng = as_generator(self.random_state) if first_pass or not hasattr(self, "_rng") else self._rng
        X, y = self._validate_xy(X, y, reset=first_pass)
        train = self._make_split(X, y, sample_weight, first_pass, incremental, classes)
        if first_pass:
            self._initialize(X.shape[1], train.y, X.dtype)
        else:
            self._check_same_architecture()
            self._init_bookkeeping(reset=False)
        data = self._training_data(train, validation)
        self._init_validation_records(data)
        metadata = None if sample_weight is None else {"sample_weight": train.sample_weight}
        root = self._init_callback_context(max_subtasks=self._n_subtasks(incremental))
        root.call_on_fit_task_begin(estimator=self, X=X, y=y, metadata=metadata)
        task = "lbfgs-iter" if self.solver == "lbfgs" else "epoch"
        iterations = IterationCallbacks(root, self, X, y, metadata, task)
        if self.solver == "lbfgs":
            self._fit_lbfgs(data, iterations)
        else:
            self._fit_stochastic(data, iterations, incremental, callbacks)
        self._check_finite_weights()
        root.call_on_fit_task_end(estimator=self, X=X, y=y, metadata=metadata, reconstruction_attributes={})
        return self

    def _check_solver_options(self, incremental: bool, validation) -> None:
        if incremental and self.early_stopping and validation is None:
            raise ValueError(
                "partial_fit with early_stopping=True needs your validation set: pass "
                "X_val=..., y_val=... (a stream has no whole training set to split one off)."
            )
        if self.solver == "lbfgs" and any(rate > 0 for rate in dropout_rates(self._config())):
            raise ValueError(
                "dropout > 0 needs a stochastic solver: L-BFGS requires a deterministic objective. "
                "Use solver='adam' or solver='sgd', or dropout=0."
            )
        used = [name for name in _PER_BATCH if getattr(self, name, None)]
        if self.solver == "lbfgs" and used:
            raise ValueError(
                f"{' and '.join(used)} need a stochastic solver (they work on mini-batches); use solver='adam' "
                "or solver='sgd'."
            )

    def _n_subtasks(self, incremental: bool) -> int:
        if self.solver == "lbfgs":
            return max(self.max_iter, 1) + 1  # scipy's callback opens one extra, empty iteration
        return 1 if incremental else self.max_iter

    def _validate_xy(self, X, y, reset: bool):
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], multi_output=True, y_numeric=not is_classifier(self),
            dtype=(np.float64, np.float32), reset=reset
        )  # fmt: skip
        # a warm start or partial_fit keeps the network's dtype; a new network takes `dtype` (None: X's)
        dtype = self.network_.dtype if hasattr(self, "network_") and not reset else self.dtype
        return (X if dtype is None else X.astype(dtype, copy=False)), y

    def _make_split(self, X, y, sample_weight, first_pass, incremental, classes) -> Dataset:
        """The training rows: targets encoded for the loss (the user's kept as ``labels``), and
        ``sample_weight`` checked and combined with any class weights."""
        y, Y = self._validate_targets(y, X.dtype, first_pass, incremental, classes)
        sample_weight = check_weights(sample_weight, X.shape[0], X.dtype, words="scikit-learn")
        sample_weight = self._apply_class_weight(y, Y, sample_weight, incremental, X.dtype)
        return Dataset(X, Y, sample_weight, labels=y)

    def _apply_class_weight(self, y, Y, sample_weight, incremental, dtype):
        return sample_weight  # the classifier overrides this

    def _initialize(self, n_features: int, Y: np.ndarray, dtype) -> None:
        """Fresh network and bookkeeping for a first fit (scikit-learn's ``_initialize``)."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = self._n_outputs(Y)
        self.n_layers_ = len(hidden_sizes(self)) + 2
        config = self._config()
        loss = self._make_loss(config)
        self.out_activation_ = output_activation(config, loss)
        self.network_ = build_network(config, n_features, self.n_outputs_, loss, dtype, self._rng)
        self.network_.eval()
        self._init_bookkeeping(reset=True)

    def _init_bookkeeping(self, reset: bool) -> None:
        """Training records: all reset on a first fit; on a continued fit (warm start, partial_fit, a model
        loaded from a file, lbfgs followed by sgd) only those missing are created."""
        defaults = {
            "n_iter_": 0,
            "t_": 0,
            "_best_params": None,
            "_stopped_early": False,
            "validation_scores_": None,
            "best_validation_score_": None,
            "validation_loss_curve_": None,
        }
        if self.solver in OPTIMIZERS:  # a stochastic solver (every one but lbfgs)
            defaults.update(
                loss_curve_=[], _no_improvement_count=0, best_loss_=None if self.early_stopping else np.inf
            )
        for name, value in defaults.items():
            if reset or not hasattr(self, name):
                setattr(self, name, value)

    def _make_loss(self, config):
        """The loss head of a new network (the regressor adds its loss's own parameters)."""
        return make_loss(config, self._task())

    def _check_same_architecture(self) -> None:
        """warm_start and partial_fit continue the existing network: its hidden layers must not have changed."""
        fitted = [layer.out_features for layer in self._dense_layers()[:-1]]
        if fitted != hidden_sizes(self._config()):
            raise ValueError(
                f"hidden_layer_sizes={self.hidden_layer_sizes!r} differs from the fitted network's hidden layers "
                f"{tuple(fitted)}; warm_start and partial_fit continue the existing network. Set warm_start=False "
                "(or clone the estimator) to train a new one."
            )

    def _n_outputs(self, Y: np.ndarray) -> int:
        """Output units: one per column of ``Y``; integer class indices need one per class."""
        return Y.shape[1] if Y.ndim == 2 else len(self.classes_)

    # --- prediction ----------------------------------------------------------------------------------------

    def _logits(self, X, validate: bool = True) -> np.ndarray:
        """Raw network outputs ``(n_samples, n_outputs)`` in evaluation mode, in chunks."""
        if validate:
            X = self._validate_x(X)
        was_training = self.network_.training
        self.network_.eval()
        try:
            return logits(self.network_, X)
        finally:
            self.network_.train(was_training)

    def _validate_x(self, X):
        """``X`` at prediction time: numeric, finite, with the features seen in ``fit``."""
        return validate_data(
            self, X, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32), reset=False
        )

    def _evaluate_split(self, split: Dataset) -> tuple[float, float]:
        """``(score, loss)`` on a validation split: the score of :meth:`_score_split` and the loss without
        the L2 term, from one forward pass."""
        z = self._logits(split.X, validate=False)
        return self._score_split(split, z), float(self.network_.loss.forward(z, split.y, split.sample_weight))

    def _score_split(self, split: Dataset, z=None) -> float:
        """Accuracy (classifier) or R^2 (regressor) on a split; NaN if the predictions are not finite."""
        prediction = self._predict_from_logits(self._logits(split.X, validate=False) if z is None else z)
        if np.issubdtype(prediction.dtype, np.floating) and not np.all(np.isfinite(prediction)):
            return np.nan
        return float(self._score_function(split.labels, prediction, sample_weight=split.sample_weight))

    def __sklearn_tags__(self):
        # every setting takes sparse input (the first layer multiplies it); NaN is refused (allow_nan=False)
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _check_solver(self) -> bool:
        if self.solver not in OPTIMIZERS:
            raise AttributeError(
                f"partial_fit is only available for stochastic optimizers. {self.solver} is not stochastic."
            )
        return True

    def hidden_activations(self, X) -> list[np.ndarray]:
        """The output of each hidden layer's activation for ``X``, in evaluation mode (dropout off).

        What ``predict`` computes on the way to the output, made visible (scikit-learn's ``MLPClassifier``
        does not expose it, its issue #9468). Uses :func:`glassnet.nn.trace.hidden_activations`.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        list of ndarray
            One array of shape ``(n_samples, hidden_layer_sizes[i])`` per hidden layer, in the network's dtype.
        """
        from sklearn.utils.validation import check_is_fitted

        from glassnet.nn.trace import hidden_activations

        check_is_fitted(self)
        X = self._validate_x(X)
        chunks, chunk = [], 4096  # rows per forward pass, to bound memory
        for start in range(0, X.shape[0], chunk):
            rows = X[start : start + chunk]
            rows = rows.toarray() if hasattr(rows, "toarray") else rows
            chunks.append(hidden_activations(self.network_, np.asarray(rows, dtype=self.network_.dtype)))
        return [np.concatenate(layer) if len(chunks) > 1 else layer[0] for layer in zip(*chunks, strict=True)]
