"""Docstring sections shared by the classifier and the regressor, written once.

The ``Parameters`` section comes from the declarations (:func:`glassnet.config.params.params_docstring`);
the fitted attributes and the notes on glassnet's differences from scikit-learn are here.
"""

from __future__ import annotations

from glassnet.config.params import params_docstring

ATTRIBUTES = r"""Attributes
----------
{extra_attributes}network_ : glassnet.nn.network.Sequential
    The fitted engine network (``Dense -> activation [-> Dropout] -> ... -> Dense`` plus its loss head).
    Everything below is derived from it; this is what a model file stores, together with ``classes_``,
    ``target_type_`` (classifier), ``out_activation_`` and ``n_features_in_``.
coefs_ : list of ndarray of shape (n_in, n_out)
    The weight matrices in scikit-learn's layout (live views of the transposed ``network_`` weights).
intercepts_ : list of ndarray of shape (n_out,)
    The bias vectors (live views into ``network_``).
n_features_in_ : int
    Number of features seen during ``fit``.
feature_names_in_ : ndarray of shape (n_features_in_,)
    Names of the features seen during ``fit``, when ``X`` had string column names.
n_iter_ : int
    Number of epochs (stochastic solvers) or L-BFGS iterations run by the last ``fit``.
n_layers_ : int
    Number of layers, input and output included.
n_outputs_ : int
    Number of output units.
out_activation_ : str
    The output activation: ``'softmax'``, ``'logistic'``, ``'identity'`` or ``'exp'``.
t_ : int
    Number of training samples seen by the stochastic solvers (over all fits).
loss_ : float
    The loss at the end of training (the last epoch's mean, including the L2 term).
best_loss_ : float or None
    The lowest training loss (stochastic solvers; ``None`` with early stopping).
loss_curve_ : list of float
    The loss of each epoch (stochastic solvers).
validation_scores_ : list of float or None
    The score (accuracy or R^2) on the validation set after each epoch, when there is one
    (``early_stopping=True`` or ``eval_set``).
validation_loss_curve_ : list of float or None
    The loss (without the L2 term) on the validation set after each epoch. glassnet addition.
best_validation_score_ : float or None
    The best of ``validation_scores_``.
history_ : glassnet.training.callbacks.History
    The engine's record of the last ``fit`` or ``partial_fit`` of a stochastic solver: per epoch the loss,
    learning rate, time and validation loss and score, and anything callbacks add. glassnet addition.
"""

DIFFERENCES = r"""Notes
-----
Differences from scikit-learn's estimator of the same name, all deliberate:

- the L2 term is ``alpha / (2 n) * sum ||W||^2`` with ``n`` the training-set size, not the batch size, so
  ``alpha`` means the same for every ``batch_size`` (identical for ``solver='lbfgs'``);
- ``partial_fit`` exists only for ``solver='sgd'`` and ``'adam'``, in both estimators;
- a diverging loss raises :class:`glassnet.exceptions.TrainingDivergedError` instead of leaving a
  chance-level model;
- ``dropout``, ``weight_decay``, ``learning_rate='cosine'``, ``leaky_relu``/``gelu``{extra_differences} and
  ``fit(..., eval_set=(X_val, y_val))`` are additions; ``set_callbacks`` accepts scikit-learn's callbacks
  (``sklearn.callback.ProgressBar``, ``ScoringMonitor``), one task per epoch or L-BFGS iteration.
"""


def build_docstring(
    summary: str, params: tuple, extra_attributes: str, extra_differences: str, examples: str
) -> str:
    """Assemble a class docstring: summary, Parameters (from declarations), Attributes, Notes, Examples."""
    return "\n\n".join(
        [
            summary.strip(),
            params_docstring(params).rstrip(),
            ATTRIBUTES.format(extra_attributes=extra_attributes).rstrip(),
            DIFFERENCES.format(extra_differences=extra_differences).rstrip(),
            examples.strip(),
        ]
    )
