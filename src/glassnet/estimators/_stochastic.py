"""The stochastic solvers (``'sgd'``, ``'adam'``): scikit-learn's epoch loop on glassnet's engine.

One epoch shuffles the samples, then for each mini-batch computes the loss and gradients
(``Sequential.loss_and_grad``) and takes an optimiser step. After the epoch, as scikit-learn does:

- ``n_iter_`` grows by one and ``t_`` by the number of samples; ``loss_`` (the mean of the batch losses
  weighted by batch size) is appended to ``loss_curve_``;
- with a validation set, its score and loss are recorded (``validation_scores_``,
  ``validation_loss_curve_``);
- the no-improvement counter grows when the training loss (or, with early stopping, the validation score)
  did not improve by ``tol`` on the best so far;
- past ``n_iter_no_change`` such epochs training stops, or with ``learning_rate='adaptive'`` the learning
  rate is divided by 5 (stopping once it is at most 1e-6).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from glassnet import parallel
from glassnet.augment import infer_image_shape, random_shift
from glassnet.estimators._data import dense_rows
from glassnet.estimators._network import make_optimizer, make_schedule

#: a final training loss above this multiple of the initial network's loss counts as divergence: a too large
#: learning rate often saturates the units (a finite, chance-level loss) instead of overflowing
_DIVERGENCE_FACTOR = 10.0


class StochasticSolverMixin:
    """Mini-batch training for :class:`~glassnet.estimators._base.BaseMultilayerPerceptron`."""

    def _batch_size(self, n_samples: int) -> int:
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                f"Got batch_size={self.batch_size} larger than the number of samples ({n_samples}); it is "
                "clipped to the number of samples.",
                UserWarning,
                stacklevel=4,
            )
        return int(np.clip(self.batch_size, 1, n_samples))

    def _fit_stochastic(self, data, iterations, incremental: bool) -> None:
        train = data.train
        batch_size = self._batch_size(train.n_samples)
        if self.augment_shift:
            infer_image_shape(train.X.shape[1], self.image_shape)  # a ValueError now rather than mid-epoch
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = make_optimizer(self)
            self._schedule = make_schedule(self, n_batches=-(-train.n_samples // batch_size))
        self.n_iter_ = 0
        try:
            with self._data_parallel(train) as self._parallel:
                self._epochs(data, batch_size, iterations, incremental)
        except KeyboardInterrupt:
            iterations.close_unused()
            warnings.warn("Training interrupted by user.", UserWarning, stacklevel=4)
        finally:
            self._parallel = None
        if self.early_stopping and self._best_params is not None:
            self.network_.flat_params[...] = self._best_params  # restore the best validation weights
        if not incremental:
            self._check_final_loss()

    def _epochs(self, data, batch_size: int, iterations, incremental: bool) -> None:
        for _ in range(self.max_iter):
            iterations.begin()
            epoch_loss = self._run_epoch(data.train, batch_size)
            stop = self._end_epoch(data, epoch_loss)
            stop_requested = iterations.end()
            if stop or stop_requested or incremental:
                break
            # a cosine schedule is complete at max_iter epochs by design: nothing to warn about
            if self.n_iter_ == self.max_iter and self.learning_rate != "cosine":
                warnings.warn(
                    f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                    "optimization hasn't converged yet.",
                    ConvergenceWarning,
                    stacklevel=6,
                )

    def _data_parallel(self, train):
        """A data-parallel session (:mod:`glassnet.parallel`) when ``n_jobs`` asks for more than one process."""
        return parallel.session(
            self.network_,
            self._optimizer,
            lambda rows, rng: self._batch(train, rows, rng),
            parallel.effective_n_jobs(self.n_jobs),
            n_rows=train.n_samples,
            alpha=self.alpha,
            n_samples=train.weight_total,
            sample_weight=train.sample_weight,
            seed=self._rng,
        )

    def _run_epoch(self, train, batch_size: int) -> float:
        """One pass over the training data; returns the mean batch loss, weighted by batch size."""
        net = self.network_
        n = train.n_samples
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        n_total = train.weight_total
        accumulated = 0.0
        self._last_finite_params = net.flat_params.copy()  # restored if this epoch diverges
        net.train()
        try:
            # an overflow shows up as a non-finite loss, reported as divergence: NumPy's warnings add only noise
            with np.errstate(over="ignore", invalid="ignore"):
                for start in range(0, n, batch_size):
                    idx = order[start : start + batch_size]
                    accumulated += self._train_batch(train, idx, n_total) * len(idx)
        finally:
            net.eval()
        return accumulated / n

    def _batch(self, train, idx, rng):
        """The rows ``idx`` as dense arrays in the network's dtype, augmented if asked."""
        X_batch = dense_rows(train.X, idx, self.network_.dtype)
        if self.augment_shift:
            X_batch = random_shift(X_batch, int(self.augment_shift), rng, self.image_shape)
        weights = None if train.sample_weight is None else train.sample_weight[idx]
        return X_batch, train.Y[idx], weights

    def _train_batch(self, train, idx, n_total: float) -> float:
        """Loss and gradients on the rows ``idx``, then one optimiser step."""
        net = self.network_
        self._optimizer.lr = self._schedule.lr
        if self._parallel is not None:
            loss = self._parallel.step(idx)  # 0.0 for a batch of zero-weight samples, as below
        elif train.sample_weight is not None and not train.sample_weight[idx].sum() > 0:
            return 0.0  # only zero-weight samples: nothing to learn from this batch
        else:
            X_batch, Y_batch, weights = self._batch(train, idx, self._rng)
            loss = net.loss_and_grad(
                X_batch, Y_batch, weights, alpha=self.alpha, n_samples=n_total, check=False
            )
            self._optimizer.step(net)
        if not np.isfinite(loss):
            self.network_.flat_params[...] = self._last_finite_params
            self._raise_diverged(loss, f"the loss became {loss} in epoch {self.n_iter_ + 1}", restored=True)
        if self._reference_loss is None:
            self._reference_loss = loss  # the loss of the initial network, before any step
        self._schedule.on_batch_end(len(idx))
        return loss

    def _check_final_loss(self) -> None:
        """Refuse a model whose training loss ended far above the initial network's: it diverged."""
        final = getattr(self, "loss_", None)
        if (
            self._reference_loss is not None
            and final is not None
            and final > _DIVERGENCE_FACTOR * self._reference_loss
        ):
            self._raise_diverged(
                self.loss_,
                f"after {self.n_iter_} epochs the training loss is {self.loss_:.4g}, more than "
                f"{_DIVERGENCE_FACTOR:g} times the loss of the initial network ({self._reference_loss:.4g})",
            )

    def _end_epoch(self, data, epoch_loss: float) -> bool:
        """Book-keeping after an epoch; returns whether training should stop."""
        self.n_iter_ += 1
        self.t_ += data.train.n_samples
        self.loss_ = epoch_loss
        self.loss_curve_.append(epoch_loss)
        if self.verbose:
            print(f"Iteration {self.n_iter_}, loss = {epoch_loss:.8f}")
        if data.val is not None:
            self._record_validation(data.val)
        self._update_no_improvement_count()
        self._schedule.on_epoch_end(self.n_iter_ - 1, epoch_loss)
        if self._no_improvement_count > self.n_iter_no_change:
            return self._trigger_stopping()
        return False

    def _update_no_improvement_count(self) -> None:
        if self.early_stopping:
            score = self.validation_scores_[-1]
            improved = not score < self._best_score_before_epoch + self.tol
        else:
            improved = not self.loss_curve_[-1] > self.best_loss_ - self.tol
            self.best_loss_ = min(self.best_loss_, self.loss_curve_[-1])
        self._no_improvement_count = 0 if improved else self._no_improvement_count + 1

    def _record_validation(self, val) -> None:
        """Score and loss on the validation split; keep the best weights for early stopping."""
        score = self._score_split(val)
        self.validation_scores_.append(score)
        self.validation_loss_curve_.append(self._data_loss(val))
        if self.verbose:
            print(f"Validation score: {score:f}")
        self._best_score_before_epoch = self.best_validation_score_
        if score > self.best_validation_score_:
            self.best_validation_score_ = score
            if self.early_stopping:
                self._best_params = self.network_.flat_params.copy()

    def _trigger_stopping(self) -> bool:
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
        if self._schedule.lr <= 1e-6:
            if self.verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self._schedule.lr /= 5.0
        self._no_improvement_count = 0
        if self.verbose:
            print(msg + f" Setting learning rate to {self._schedule.lr:f}")
        return False
