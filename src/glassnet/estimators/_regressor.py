"""``MLPRegressor``: scikit-learn's multilayer-perceptron regressor on glassnet's engine."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.callback import with_callbacks
from sklearn.metrics import r2_score
from sklearn.utils import check_array, column_or_1d
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from glassnet.config.build import make_loss
from glassnet.config.params import REGRESSOR_PARAMS, loss_options, make_init
from glassnet.estimators._base import BaseMultilayerPerceptron
from glassnet.estimators._docs import build_docstring, document_validation
from glassnet.estimators._validation import validation_arguments
from glassnet.nn.losses import get_loss

_SUMMARY = r"""Multilayer-perceptron regressor: scikit-learn's ``MLPRegressor`` on glassnet's engine.

It minimises half the mean squared error (identity output) or half the Poisson deviance (exponential
output) with L-BFGS, SGD or Adam, for one or several outputs. Change
``from sklearn.neural_network import MLPRegressor`` to ``from glassnet import MLPRegressor``."""

_EXAMPLES = r"""Examples
--------
>>> import numpy as np
>>> from glassnet import MLPRegressor
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 3))
>>> y = X @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=200)
>>> reg = MLPRegressor(hidden_layer_sizes=(16,), solver="lbfgs", max_iter=500, random_state=0).fit(X, y)
>>> reg.predict(X[:2]).shape
(2,)
>>> bool(reg.score(X, y) > 0.95)
True"""


class MLPRegressor(RegressorMixin, BaseMultilayerPerceptron):
    __doc__ = build_docstring(_SUMMARY, REGRESSOR_PARAMS, "", "", _EXAMPLES)

    _declared_params = REGRESSOR_PARAMS
    __init__ = make_init(REGRESSOR_PARAMS)
    _score_function = staticmethod(r2_score)

    @with_callbacks
    @document_validation
    def fit(
        self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None, eval_set=None,
        callbacks=None,
    ):  # fmt: skip
        """Fit the model to ``X`` and the targets ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training inputs; float32 input trains a float32 network, anything else float64.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets (non-negative for ``loss='poisson'``).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights, finite and non-negative, with a positive sum. scikit-learn
            accepts negative weights; glassnet refuses them, since a row with a negative weight rewards a
            larger loss on it, so the weighted loss has no lower bound and training runs away.
        {validation}
        callbacks : list, default=None
            glassnet engine callbacks (:mod:`glassnet.training.callbacks`: any object with ``on_epoch_end(trainer, epoch,
            logs)`` and the other hooks) for this fit of the ``'sgd'`` and ``'adam'`` solvers, e.g. a progress
            bar or a checkpoint. scikit-learn's own callbacks are set with ``set_callbacks``.

        Returns
        -------
        self : MLPRegressor
            The fitted estimator.
        """
        validation = validation_arguments(X_val, y_val, sample_weight_val, eval_set)
        return self._fit(
            X, y, sample_weight, validation=validation, incremental=False, callbacks=callbacks or ()
        )

    @available_if(lambda est: est._check_solver())
    @with_callbacks
    @document_validation
    def partial_fit(
        self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None, eval_set=None,
        callbacks=None,
    ):  # fmt: skip
        """One epoch over ``X, y`` (solvers ``'sgd'`` and ``'adam'`` only).

        scikit-learn's regressor also offers it for lbfgs, where it silently runs a full fit. A validation set
        is scored after each call; required with ``early_stopping=True`` (see :meth:`MLPClassifier.partial_fit`).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
        {validation}
        callbacks : list, default=None
            glassnet engine callbacks for this call (see ``fit``).

        Returns
        -------
        self : MLPRegressor
        """
        validation = validation_arguments(X_val, y_val, sample_weight_val, eval_set)
        return self._fit(
            X, y, sample_weight, validation=validation, incremental=True, callbacks=callbacks or ()
        )

    # --- targets --------------------------------------------------------------------------------------------

    def _validate_targets(self, y, dtype, first_pass, incremental, classes, is_eval=False):
        """Targets as a float matrix ``(n_samples, n_outputs)`` for the loss."""
        if is_eval:
            y = check_array(y, ensure_2d=False, dtype="numeric", input_name="y")
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        Y = np.asarray(y, dtype=dtype)
        Y = Y.reshape(-1, 1) if Y.ndim == 1 else Y
        if self.loss == "poisson" and np.any(Y < 0):
            raise ValueError(f"loss='poisson' requires non-negative targets y; got a minimum of {Y.min()}.")
        if not first_pass and Y.shape[1] != self.n_outputs_:
            name = "y_val" if is_eval else "y"
            raise ValueError(
                f"{name} has {Y.shape[1]} outputs, but the model was fitted with {self.n_outputs_}."
            )
        return y, Y

    def _task(self) -> str:
        return "regression"

    def _make_loss(self, config):
        """The loss by name with ``quantile`` or ``huber_delta`` (:func:`~glassnet.config.params.loss_options`)."""
        options = loss_options(self)
        return get_loss(self.loss, **options) if options else make_loss(config, "regression")

    def _check_solver_options(self, incremental: bool, validation) -> None:
        super()._check_solver_options(incremental, validation)
        loss_options(self)  # refuse a quantile or huber_delta that the loss does not take

    def _check_same_architecture(self) -> None:
        """A continued fit keeps the fitted network's loss: a changed ``loss``, ``quantile`` or ``huber_delta``
        is refused rather than ignored."""
        super()._check_same_architecture()
        fitted, wanted = self.network_.loss, self._make_loss(self._config())
        if (fitted.name, fitted.get_config()) != (wanted.name, wanted.get_config()):
            raise ValueError(
                f"The fitted network minimises {fitted.name} {fitted.get_config()}, but the parameters now ask "
                f"for {wanted.name} {wanted.get_config()} (loss={self.loss!r}, quantile={self.quantile!r}, "
                f"huber_delta={self.huber_delta!r}); warm_start and partial_fit continue the existing network. "
                "Set warm_start=False (or clone the estimator) to train a new one."
            )

    # --- prediction -----------------------------------------------------------------------------------------

    def _predict_from_logits(self, z: np.ndarray) -> np.ndarray:
        prediction = self.network_.loss.predict(z)  # the loss's link: identity, or exp for poisson
        return prediction.ravel() if prediction.shape[1] == 1 else prediction

    def predict(self, X):
        """Predicted values, shape ``(n_samples,)`` or ``(n_samples, n_outputs)``."""
        check_is_fitted(self)
        return self._predict_from_logits(self._logits(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.positive_only = self.loss == "poisson"  # its log link needs y >= 0
        return tags
