"""The stochastic solvers (``'sgd'``, ``'adam'``): the engine's :class:`~glassnet.training.Trainer`, run with
scikit-learn's rules.

The Trainer runs the epochs and the mini-batches (shuffling, the steps, sample weights, divergence, data
parallelism, augmentation, Ctrl-C). scikit-learn's stopping and adaptive-rate rules are settings of the
engine's own callbacks (:func:`stopping_callbacks`), as scikit-learn's ``_fit_stochastic`` applies them after
each epoch:

- the no-improvement counter grows when the training loss (or, with early stopping, the validation score)
  did not improve by ``tol`` on the best so far; past ``n_iter_no_change`` such epochs training stops:
  :class:`~glassnet.training.callbacks.EarlyStopping` with ``patience=n_iter_no_change + 1``, keeping the
  best validation weights;
- with ``learning_rate='adaptive'`` (sgd) the same counter divides the rate by 5 instead, and stops once it
  is at most 1e-6: :class:`~glassnet.training.callbacks.ReduceLROnPlateau` with ``factor=0.2`` and
  ``stop_lr=1e-6``.

:class:`ScikitLearnRules`, another callback, keeps scikit-learn's records (``n_iter_``, ``t_``,
``loss_curve_``, ``validation_scores_``, ``best_validation_score_``, ``best_loss_``,
``_no_improvement_count``, the verbose lines), lets scikit-learn's callbacks (``sklearn.callback``) see each
epoch as a sub-task and ask to stop, and answers the loop's questions about the estimator. The counters live
in the estimator's records between fits, so ``warm_start`` fits and ``partial_fit`` streams continue them.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import get_scorer

from glassnet.config.build import batch_size, make_optimizer, make_schedule, make_trainer
from glassnet.estimators._saving import estimator_checkpoint_state
from glassnet.training.augment import infer_image_shape
from glassnet.training.callbacks import Callback, EarlyStopping, Improvement, ReduceLROnPlateau

#: augmentations that read the rows as images (their shape is checked before training starts)
_IMAGE_SETTINGS = (
    "augment_shift", "augment_rotation", "augment_scale", "augment_translation", "augment_elastic", "augment_flip",
)  # fmt: skip


def stopping_callbacks(est, has_validation: bool, incremental: bool) -> tuple[list, object, object]:
    """scikit-learn's stopping and adaptive-rate rules as the engine's callbacks, in the state the estimator's
    records hold: ``(callbacks, counter, tracker)``.

    ``counter`` is the callback whose ``wait`` is scikit-learn's ``_no_improvement_count``; ``tracker`` (with a
    validation set) judges the validation epochs, keeps the best weights for early stopping and shares its
    rule with the estimator's ``best_validation_score_``.
    """
    n, tol = est.n_iter_no_change, est.tol
    adaptive = est.learning_rate == "adaptive" and est.solver == "sgd"
    tracker = None
    if has_validation:
        restore = ("on_stop" if incremental else True) if est.early_stopping else False
        stops = est.early_stopping and not adaptive
        tracker = EarlyStopping(
            "val_score", n + 1 if stops else None, tol, restore, tiebreak="val_loss", restart=False
        )
        tracker.rule = est._validation_rule()
        tracker.best_params = est._best_params
    if est.early_stopping:  # the validation score, ties decided by the validation loss
        best, best_tiebreak = tracker.rule.best, tracker.rule.best_tiebreak
        settings = {"monitor": "val_score", "tiebreak": "val_loss"}
    else:  # the training loss, compared as scikit-learn compares it
        best_loss = np.inf if est.best_loss_ is None else est.best_loss_  # None: early stopping until now
        best, best_tiebreak = -best_loss, np.inf
        settings = {"monitor": "loss", "inclusive": True}
    if adaptive:
        counter = ReduceLROnPlateau(
            factor=0.2, patience=n + 1, min_delta=tol, min_lr=0.0, stop_lr=1e-6, **settings
        )
    elif est.early_stopping:
        counter = tracker
    else:
        counter = EarlyStopping(patience=n + 1, tol=tol, restore_best=False, restart=False, **settings)
    counter.rule.load_state_dict(
        {"best": best, "best_tiebreak": best_tiebreak, "wait": est._no_improvement_count}
    )
    callbacks = [cb for cb in (tracker, counter) if cb is not None]
    return list(dict.fromkeys(callbacks)), counter, tracker


class ScikitLearnRules(Callback):
    """scikit-learn's per-epoch records, as a :class:`~glassnet.training.Trainer` callback placed after the
    rules of :func:`stopping_callbacks` (whose decisions it records and prints).

    It is also the Trainer's ``owner``: it answers the loop's questions about the estimator through
    :class:`glassnet.training.owner.TrainingOwner` (rows to score, epochs so far, checkpoint state).
    """

    def __init__(self, estimator, data, iterations, incremental: bool, counter, tracker) -> None:
        self.est, self.data, self.iterations, self.incremental = estimator, data, iterations, incremental
        self.counter, self.tracker = counter, tracker
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
            est._record_validation(logs["val_score"], logs["val_loss"], self.tracker.best_epoch == epoch)
        est._no_improvement_count = self.counter.wait
        if self.tracker is not None and est.early_stopping:
            est._best_params = self.tracker.best_params  # a checkpoint of this epoch saves them
        if not est.early_stopping:
            est.best_loss_ = -self.counter.best
        stopped = self.counter.stopped_epoch == epoch
        if est.verbose:
            self._say(trainer, epoch, stopped)
        if stopped:
            est._stopped_early = self.incremental and est.early_stopping  # the stream has converged
        if self.iterations.end() or self.incremental:
            trainer.stop_training = True

    def _say(self, trainer, epoch: int, stopped: bool) -> None:
        """scikit-learn's verbose line when its counter ran out: stopping, or a lower learning rate."""
        reductions = getattr(self.counter, "reductions", [])
        reduced = bool(reductions) and reductions[-1][0] == epoch
        if not (stopped or reduced):
            return
        est = self.est
        what = "Validation score" if est.early_stopping else "Training loss"
        n, tol = est.n_iter_no_change, est.tol
        msg = f"{what} did not improve more than tol={tol:f} for {n} consecutive epochs."
        if reduced:
            print(msg + f" Setting learning rate to {trainer.schedule.lr:f}")
        elif isinstance(self.counter, ReduceLROnPlateau):
            print(msg + " Learning rate too small. Stopping.")
        else:
            print(msg + " Stopping.")

    def on_train_end(self, trainer, history) -> None:
        if history.interrupted:
            self.iterations.close_unused()
            warnings.warn("Training interrupted by user.", UserWarning, stacklevel=6)
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
        if any(getattr(self, name) for name in _IMAGE_SETTINGS):
            infer_image_shape(train.X.shape[1], self.image_shape)  # a ValueError now rather than mid-epoch
        resumed = self.__dict__.pop(
            "_resumed_from_checkpoint", False
        )  # glassnet.estimators.persistence.resume_estimator
        if (not incremental and not resumed) or not hasattr(self, "_optimizer"):
            self._optimizer = make_optimizer(config)
            self._schedule = make_schedule(config, -(-train.n_rows // batch), samples_seen=self.t_)
        self.n_iter_ = 0
        val = data.val
        rule_callbacks, counter, tracker = stopping_callbacks(self, val is not None, incremental)
        rules = ScikitLearnRules(self, data, iterations, incremental, counter, tracker)
        trainer = make_trainer(
            config,
            self.network_,
            train.n_rows,
            self._rng,
            optimizer=self._optimizer,
            schedule=self._schedule,
            validation_data=None if val is None else (val.X, val.y, val.sample_weight),
            scorer=None if val is None else (lambda net, X, y: self._score_split(val)),
            callbacks=[*rule_callbacks, rules, *callbacks],
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
        if self.batch_norm and n_samples < 2:
            raise ValueError(
                f"batch_norm=True needs at least 2 samples a batch (batch statistics); got {n_samples} sample."
            )
        if self.batch_size != "auto" and self.batch_size > n_samples:
            warnings.warn(
                f"Got batch_size={self.batch_size} larger than the number of samples ({n_samples}); it is "
                "clipped to the number of samples.",
                UserWarning,
                stacklevel=5,
            )
        return batch_size(self._config(), n_samples)

    def _record_validation(self, score: float, loss: float, best: bool) -> None:
        """Record the validation score and loss; ``best``: this epoch is the best so far (by the rule of
        :meth:`_validation_rule`)."""
        self.validation_scores_.append(score)
        self.validation_loss_curve_.append(loss)
        if self.verbose:
            print(f"Validation score: {score:f}")
        self._best_score_before_epoch = self.best_validation_score_
        judge = self._validation_judge
        judge[1] = len(self.validation_scores_)
        if best:
            self.best_validation_score_ = score
            judge[2] = judge[1] - 1

    def _validation_rule(self) -> Improvement:
        """The rule that judges the validation epochs (early stopping's, and ``best_validation_score_``'s): a
        higher score by more than ``tol``, or a score within ``tol`` of the best's and a validation loss lower
        by more than ``tol`` (accuracy on a small validation set takes few values and stops rising long
        before the model stops improving; scikit-learn compares the scores only).

        Kept across fits as ``_validation_judge = [rule, epochs judged, best epoch]``; rebuilt by judging the
        records from the start when they come from elsewhere (a model file, a checkpoint) or were replaced.
        """
        scores = self.validation_scores_ or []
        judge = self.__dict__.get("_validation_judge")
        if judge is None or judge[1] != len(scores):
            rule, best = Improvement(1.0, self.tol, tiebreak=True), 0
            for epoch, (score, loss) in enumerate(zip(scores, self.validation_loss_curve_, strict=True)):
                if rule.step(score, loss)[1]:
                    best = epoch
            judge = self._validation_judge = [rule, len(scores), best]
        judge[0].tol = float(self.tol)  # set_params between fits: new epochs are judged with the new tol
        return judge[0]

    def _best_validation_epoch(self) -> int:
        """The index of the best epoch in ``validation_scores_`` (see :meth:`_validation_rule`)."""
        self._validation_rule()
        return self._validation_judge[2]
