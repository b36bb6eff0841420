"""What the training loop may ask the object that drives it: the :class:`TrainingOwner` protocol.

A :class:`~glassnet.training.Trainer` knows networks, optimizers and callbacks, nothing above them. When an
estimator's ``fit`` drives it, a few callbacks need an answer only the estimator has: which rows to score
(with the user's labels, for scikit-learn's scorers), how many epochs count so far (across warm starts),
what to put in a checkpoint so the estimator itself can be resumed. The estimator answers through this small
protocol, given to the Trainer as ``owner=``, as scikit-learn's optimizers answer a training loop through
``iteration_ends`` and ``trigger_stopping``: the loop never imports the estimators, searches for their class
or reads their private attributes. A plain Trainer has no owner (``trainer.owner is None``) and every
callback then uses the Trainer's own data and counts.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class TrainingOwner(Protocol):
    """The questions a Trainer's callbacks may ask the estimator (or any object) that drives the fit."""

    def validation_rows(self) -> tuple | None:
        """``(X_val, y_val, Y_val)``: the rows to score, the user's labels and the network's targets; or None."""

    def scorer(self, name: str, X, y):
        """A function ``net -> float`` scoring with the owner's scorer called ``name`` on ``(X, y)``."""

    def epochs_done(self) -> int:
        """Epochs completed, counted across the owner's fits (warm starts, ``partial_fit``, resumed runs)."""

    def checkpoint_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """JSON-able metadata and arrays that let the owner itself be restored from a checkpoint."""

    def resumed_history(self):
        """The :class:`~glassnet.training.callbacks.History` of a run this fit resumes, once; else None."""

    def estimator(self):
        """The estimator being fitted, for callbacks that describe or save it (its ``get_params()``, the final
        model: :class:`glassnet.integrations.MlflowLogger`)."""
