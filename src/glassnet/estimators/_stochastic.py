"""The stochastic solvers (``'sgd'``, ``'adam'``): the engine's :class:`~glassnet.training.Trainer`, run with
scikit-learn's rules.

The Trainer runs the epochs and the mini-batches (shuffling, the steps, sample weights, divergence, data
parallelism, augmentation, Ctrl-C). :class:`ScikitLearnRules`, one of its callbacks, keeps scikit-learn's records
and applies its stopping rules after each epoch, as scikit-learn's ``_fit_stochastic`` does:

- ``n_iter_`` grows by one and ``t_`` by the number of samples; the epoch loss is appended to ``loss_curve_``;
- with a validation set, its score and loss are recorded (``validation_scores_``,
  ``validation_loss_curve_``) and, with early stopping, the best weights are kept;
- the no-improvement counter grows when the training loss (or, with early stopping, the validation score)
  did not improve by ``tol`` on the best so far;
- past ``n_iter_no_change`` such epochs training stops, or with ``learning_rate='adaptive'`` the learning
  rate is divided by 5 (stopping once it is at most 1e-6);
- scikit-learn's callbacks (``sklearn.callback``) see each epoch as a sub-task and may ask to stop.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import get_scorer

from glassnet.config.build import batch_size, make_optimizer, make_schedule, make_trainer
from glassnet.estimators._saving import estimator_checkpoint_state
from glassnet.training.augment import infer_image_shape
from glassnet.training.callbacks import Callback


class ScikitLearnRules(Callback):
    """scikit-learn's per-epoch records and stopping rules, as a :class:`~glassnet.training.Trainer` callback.

    It is also the Trainer's ``owner``: it answers the loop's questions about the estimator through
    :class:`glassnet.training.owner.TrainingOwner` (rows to score, epochs so far, checkpoint state).
    """

    def __init__(self, estimator, data, iterations, incremental: bool) -> None:
        self.est, self.data, self.iterations, self.incremental = estimator, data, iterations, incremental
        self.converged = False  # set at the end of training: stopped by a rule, a callback or Ctrl-C

    def on_epoch_begin(self, trainer, epoch: int) -> None:
        self.iterations.begin()

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        est = self.est
        est.n_iter_ += 1
        est.t_ += self.data.train.n_rows
        est.loss_ = float(logs["loss"])
        est.loss_curve_.append(est.loss_)
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {est.loss_:.8f}")
        if "val_score" in logs:
            est._record_validation(logs["val_score"], logs["val_loss"])
        est._update_no_improvement_count()
        if est._no_improvement_count > est.n_iter_no_change and est._trigger_stopping(trainer.schedule):
            trainer.stop_training = True
            est._stopped_early = self.incremental and est.early_stopping  # the stream has converged
        if self.iterations.end() or self.incremental:
            trainer.stop_training = True

    def on_train_end(self, trainer, history) -> None:
        est = self.est
        if history.interrupted:
            self.iterations.close_unused()
            warnings.warn("Training interrupted by user.", UserWarning, stacklevel=6)
        # restore the best validation weights at the end of a fit, or when a stream of partial_fit stops early
        restore = not self.incremental or est._stopped_early
        if est.early_stopping and restore and est._best_params is not None:
            trainer.net.flat_params[...] = est._best_params
        self.converged = trainer.stop_training or history.interrupted

    # --- the estimator's answers to the loop (glassnet.training.owner.TrainingOwner) --------------------

    def validation_rows(self):
        val = self.data.val
        return None if val is None else (val.X, val.labels, val.y)

    def scorer(self, name: str, X, y):
        try:
            sk_scorer = get_scorer(name)
        except ValueError as exc:
            raise ValueError(f"EpochScoring: unknown scorer {name!r}: {exc}") from None
        est = self.est
        return lambda net: float(sk_scorer(est, X, y))

    def epochs_done(self) -> int:
        return len(self.est.loss_curve_)

    def checkpoint_state(self):
        return estimator_checkpoint_state(self.est)

    def resumed_history(self):
        # set by glassnet.estimators.persistence.resume_estimator: the next fit continues that History
        return self.est.__dict__.pop("_checkpoint_history", None)

    def estimator(self):
        return self.est


def improves(scores, losses, epoch: int, best: int, tol: float) -> bool:
    """Whether validation ``epoch`` improves on the ``best`` one: early stopping's rule.

    Its score (accuracy or R^2) is higher by more than ``tol``, or, the score no lower than the best's by
    more than ``tol``, its loss is lower by more than ``tol``. The loss decides between epochs of the same
    score: accuracy on a small validation set takes few values and stops rising long before the model stops
    improving (with class weights such as ``{0: 1000, 1: 1e-4}`` it reaches 0.9999999 within a few epochs,
    while the weighted loss keeps falling for hundreds). scikit-learn compares the scores only.
    """
    if not np.isfinite(scores[epoch]):
        return False
    if not np.isfinite(scores[best]) or scores[epoch] > scores[best] + tol:
        return True
    return scores[epoch] >= scores[best] - tol and losses[epoch] < losses[best] - tol


class StochasticSolverMixin:
    """Mini-batch training for :class:`~glassnet.estimators._base.BaseMultilayerPerceptron`."""

    def _fit_stochastic(self, data, iterations, incremental: bool, callbacks=()) -> None:
        if incremental and self._stopped_early:
            warnings.warn(
                f"Early stopping ended this partial_fit stream after {len(self.loss_curve_)} calls (no "
                f"validation improvement of tol={self.tol} for n_iter_no_change={self.n_iter_no_change}); the "
                "best weights are kept and this call changes nothing. Fit anew to train again.",
                UserWarning,
                stacklevel=5,
            )
            return
        train, config = data.train, self._config()
        batch = self._batch_size(train.n_rows)
        if self.augment_shift or self.augment_rotation or self.augment_scale or self.augment_flip:
            infer_image_shape(train.X.shape[1], self.image_shape)  # a ValueError now rather than mid-epoch
        resumed = self.__dict__.pop(
            "_resumed_from_checkpoint", False
        )  # glassnet.estimators.persistence.resume_estimator
        if (not incremental and not resumed) or not hasattr(self, "_optimizer"):
            self._optimizer = make_optimizer(config)
            self._schedule = make_schedule(config, -(-train.n_rows // batch), samples_seen=self.t_)
        self.n_iter_ = 0
        val = data.val
        rules = ScikitLearnRules(self, data, iterations, incremental)
        trainer = make_trainer(
            config,
            self.network_,
            train.n_rows,
            self._rng,
            optimizer=self._optimizer,
            schedule=self._schedule,
            validation_data=None if val is None else (val.X, val.y, val.sample_weight),
            scorer=None if val is None else (lambda net, X, y: self._score_split(val)),
            callbacks=[rules, *callbacks],
            owner=rules,
        )
        # epochs count across fits (warm start, resume_estimator): the data-parallel workers' random streams
        # follow trainer.epoch, so a resumed fit draws the masks the uninterrupted one would have
        trainer.epoch = len(self.loss_curve_)
        self.history_ = trainer.fit(
            train.X, train.y, epochs=1 if incremental else self.max_iter, sample_weight=train.sample_weight
        )
        # a cosine schedule is complete at max_iter epochs by design: nothing to warn about
        if not rules.converged and not incremental and self.learning_rate != "cosine":
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=4,
            )

    def _batch_size(self, n_samples: int) -> int:
        if self.batch_size != "auto" and self.batch_size > n_samples:
            warnings.warn(
                f"Got batch_size={self.batch_size} larger than the number of samples ({n_samples}); it is "
                "clipped to the number of samples.",
                UserWarning,
                stacklevel=5,
            )
        return batch_size(self._config(), n_samples)

    def _update_no_improvement_count(self) -> None:
        if self.early_stopping:
            improved = self._best_validation_epoch() == len(self.validation_scores_) - 1
        else:
            improved = not self.loss_curve_[-1] > self.best_loss_ - self.tol
            self.best_loss_ = min(self.best_loss_, self.loss_curve_[-1])
        self._no_improvement_count = 0 if improved else self._no_improvement_count + 1

    def _record_validation(self, score: float, loss: float) -> None:
        """Record the validation score and loss; keep the best epoch's weights for early stopping."""
        self.validation_scores_.append(score)
        self.validation_loss_curve_.append(loss)
        if self.verbose:
            print(f"Validation score: {score:f}")
        self._best_score_before_epoch = self.best_validation_score_
        if self._best_validation_epoch() == len(self.validation_scores_) - 1:
            self.best_validation_score_ = score
            if self.early_stopping:
                self._best_params = self.network_.flat_params.copy()

    def _best_validation_epoch(self) -> int:
        """The index of the best epoch in ``validation_scores_``, by :func:`improves` from the first on.

        The epochs already judged are cached as ``(best, n_judged)``; without the cache (a model from a file,
        a resumed checkpoint) the records are judged from the start.
        """
        scores, losses = self.validation_scores_, self.validation_loss_curve_
        best, judged = self.__dict__.get("_best_validation_cache", (0, 1))
        if judged > max(len(scores), 1):  # the records were replaced by shorter ones
            best, judged = 0, 1
        for epoch in range(judged, len(scores)):
            if improves(scores, losses, epoch, best, self.tol):
                best = epoch
        self._best_validation_cache = (best, max(len(scores), 1))
        return best

    def _trigger_stopping(self, schedule) -> bool:
        """Stop, or (``learning_rate='adaptive'`` with sgd) divide the learning rate by 5 and go on."""
        what = "Validation score" if self.early_stopping else "Training loss"
        msg = (
            f"{what} did not improve more than tol={self.tol:f} for {self.n_iter_no_change} "
            "consecutive epochs."
        )
        if not (self.learning_rate == "adaptive" and self.solver == "sgd"):
            if self.verbose:
                print(msg + " Stopping.")
            return True
        if schedule.lr <= 1e-6:
            if self.verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        schedule.lr /= 5.0
        self._no_improvement_count = 0
        if self.verbose:
            print(msg + f" Setting learning rate to {schedule.lr:f}")
        return False
