"""The training loop: mini-batches, validation, early stopping, divergence and Ctrl-C handling."""

from __future__ import annotations

import time

import numpy as np

from glassnet import parallel
from glassnet.callbacks import EarlyStopping, History
from glassnet.exceptions import TrainingDivergedError
from glassnet.initializers import as_generator
from glassnet.losses import SoftmaxCrossEntropy
from glassnet.schedules import ConstantLR, Schedule


def accuracy_score(net, X, y) -> float:
    """Fraction of correct predictions; ``y`` as integer labels or indicator rows."""
    pred = net.predict(X)
    y = np.asarray(y)
    if y.ndim == 2 and pred.ndim == 1:  # one-hot targets for a softmax head
        y = np.argmax(y, axis=1)
    if pred.ndim == 2:
        return float(np.mean(np.all(pred == y.reshape(pred.shape), axis=1)))
    return float(np.mean(pred == y))


def r2_score(net, X, y) -> float:
    r"""Coefficient of determination :math:`1 - \sum (y - \hat y)^2 / \sum (y - \bar y)^2`, averaged over
    outputs."""
    pred = net.predict(X).reshape(len(X), -1)
    y = np.asarray(y, dtype=np.float64).reshape(pred.shape)
    ss_res = np.sum((y - pred) ** 2, axis=0)
    ss_tot = np.sum((y - y.mean(axis=0)) ** 2, axis=0)
    return float(np.mean(1.0 - ss_res / np.where(ss_tot == 0, 1.0, ss_tot)))


def _default_scorer(net):
    return r2_score if net.loss.name in ("squared_error", "poisson") else accuracy_score


def _chance_loss(net, y) -> float:
    """The loss of an uninformed constant prediction, a scale for what a diverging loss looks like."""
    name = net.loss.name
    k = next(layer.out_features for layer in reversed(net.layers) if hasattr(layer, "out_features"))
    if name == "softmax_cross_entropy":
        return float(np.log(max(k, 2)))
    if name == "sigmoid_binary_cross_entropy":
        return float(k * np.log(2.0))
    if name == "squared_error":
        return float(0.5 * np.mean(np.var(np.asarray(y, dtype=np.float64).reshape(len(y), -1), axis=0)))
    return 0.0


def train_validation_split(X, y, fraction: float, rng, stratify: bool = True):
    """Split off ``fraction`` of the rows for validation, stratified by class for 1-D integer labels."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_fraction must be in (0, 1); got {fraction!r}.")
    n = len(X)
    y_arr = np.asarray(y)
    if stratify and y_arr.ndim == 1 and np.issubdtype(y_arr.dtype, np.integer):
        val = []
        for c in np.unique(y_arr):
            idx = rng.permutation(np.flatnonzero(y_arr == c))
            val.extend(idx[: int(round(fraction * len(idx)))])
        val = np.sort(np.asarray(val, dtype=np.intp))
    else:
        val = np.sort(rng.permutation(n)[: max(1, int(round(fraction * n)))])
    if len(val) == 0 or len(val) == n:
        raise ValueError(
            f"validation_fraction={fraction} leaves an empty training or validation set for {n} rows."
        )
    train = np.setdiff1d(np.arange(n), val, assume_unique=True)
    return train, val


class Trainer:
    """Trains a :class:`~glassnet.network.Sequential` with an optimizer.

    Parameters
    ----------
    net : Sequential
    optimizer : Optimizer
    schedule : Schedule, optional
        Sets ``optimizer.lr``; default: constant at the optimizer's rate.
    batch_size : int or None
        Rows per step; ``None`` (or >= the number of rows) is full-batch gradient descent.
    shuffle : bool
        Draw a new permutation of the rows each epoch (mini-batch only).
    alpha : float
        L2 penalty ``alpha / (2 n) * sum ||W||^2``, ``n`` the training-set size.
    seed : int, Generator or None
        Randomness of shuffling and of the validation split.
    validation_data : (X_val, y_val), optional
        Your own validation set; scored every epoch (``val_loss``, ``val_score``).
    validation_fraction : float, optional
        Split this fraction off the training data instead (stratified for class labels).
    early_stopping : bool or EarlyStopping
        Stop when the validation score (or the training loss, without validation data) stops improving and
        restore the best weights. ``True`` uses ``EarlyStopping(patience=patience, tol=tol)``.
    patience, tol : int, float
        For ``early_stopping=True``.
    scorer : callable ``(net, X, y) -> float``, optional
        Higher is better; default accuracy for classification heads, R^2 for regression heads.
    callbacks : list
        Objects with any of the hooks described in :mod:`glassnet.callbacks`.
    divergence_factor : float or None
        Besides a non-finite loss, an epoch loss above ``divergence_factor`` times a reference counts as
        divergence: a too-large learning rate often saturates instead of overflowing (the lab's summed gradient
        ended at chance level). The reference is the larger of the first batch's loss and the loss of a
        constant, uninformed prediction (``log K`` for softmax, ``K log 2`` for sigmoid heads, half the
        target variance for squared error). None: off.
    augment : callable ``(X_batch, rng) -> X_batch``, optional
        Applied to every training batch (never to validation data), e.g.
        :class:`glassnet.augment.RandomShift`.
    n_jobs : int or None
        Processes that share each training step (:mod:`glassnet.parallel`): ``None`` or 1 trains in this
        process, ``-1`` uses every core. Each process computes the gradient of a share of the batch's rows,
        then updates a share of the weights; the result equals one process's up to rounding. Dropout masks and
        augmentation then come from each process's own random stream. Networks with batch normalisation train
        in one process, with a warning. Each step then costs two synchronisations (tens of microseconds):
        worth it from batches of a few dozen rows, not for tiny steps.
    """

    def __init__(
        self,
        net,
        optimizer,
        *,
        schedule: Schedule | None = None,
        batch_size: int | None = None,
        shuffle: bool = True,
        alpha: float = 0.0,
        seed=None,
        validation_data=None,
        validation_fraction: float | None = None,
        early_stopping=False,
        patience: int = 10,
        tol: float = 1e-4,
        scorer=None,
        callbacks=(),
        divergence_factor: float | None = 3.0,
        augment=None,
        n_jobs: int | None = None,
    ) -> None:
        if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
            raise ValueError(f"batch_size must be a positive integer or None; got {batch_size!r}.")
        if alpha < 0:
            raise ValueError(f"alpha must be >= 0; got {alpha!r}.")
        self.net, self.optimizer = net, optimizer
        self.schedule = schedule if schedule is not None else ConstantLR(optimizer.lr)
        self.batch_size, self.shuffle, self.alpha = batch_size, shuffle, float(alpha)
        self.rng = as_generator(seed)
        self.validation_data, self.validation_fraction = validation_data, validation_fraction
        self.augment = augment
        self.scorer = scorer or _default_scorer(net)
        self.callbacks = list(callbacks)
        if early_stopping is True:
            early_stopping = EarlyStopping(patience=patience, tol=tol)
        if early_stopping:
            self.callbacks.append(early_stopping)
        self.divergence_factor = divergence_factor
        self.n_jobs = parallel.effective_n_jobs(n_jobs)
        self._parallel = None
        self.history = History()
        self.stop_training = False
        self.epoch = 0
        self._reference_loss = None

    @property
    def parallel(self):
        """The :class:`~glassnet.parallel.DataParallel` session while ``fit`` trains with ``n_jobs > 1``, else
        ``None`` (for callbacks that want to look at the workers)."""
        return self._parallel

    # --- the loop --------------------------------------------------------------------------------------------

    def fit(self, X, y, epochs: int, sample_weight=None) -> History:
        """Train for up to ``epochs`` epochs; returns the :class:`History` (also ``self.history``).

        Raises :class:`~glassnet.exceptions.TrainingDivergedError` when the loss diverges, after restoring the
        weights of the last finite epoch. Ctrl-C ends training cleanly with the weights trained so far and
        ``history.interrupted = True``.
        """
        if not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ValueError(f"epochs must be a positive integer; got {epochs!r}.")
        X, y, sample_weight, val = self._prepare(X, y, sample_weight)
        self.stop_training = False
        self._call("on_train_begin", self)
        try:
            with self._data_parallel(X, y, sample_weight) as self._parallel:
                self._epochs(X, y, sample_weight, val, int(epochs))
        except KeyboardInterrupt:
            self.history.interrupted = True
        finally:
            self._parallel = None
        self._call("on_train_end", self, self.history)
        self.net.eval()
        return self.history

    def _epochs(self, X, y, sample_weight, val, epochs: int) -> None:
        for _ in range(epochs):
            self._call("on_epoch_begin", self, self.epoch)
            start = time.perf_counter()
            loss = self.fit_epoch(X, y, sample_weight, check=False)
            logs = {"loss": loss, "lr": self.optimizer.lr, "time": time.perf_counter() - start}
            if val is not None:
                logs.update(self.evaluate(*val))
            self.history.append(logs)
            self.schedule.on_epoch_end(self.epoch, loss)
            self._call("on_epoch_end", self, self.epoch, logs)
            self.epoch += 1
            if self.stop_training or self.schedule.done:
                break

    def fit_epoch(self, X, y, sample_weight=None, check: bool = True) -> float:
        """One pass over the data; returns the sample-weighted mean training loss of the epoch."""
        if check:
            X, y, sample_weight, _ = self._prepare(X, y, sample_weight, split=False)
        net, n = self.net, len(X)
        net.train()
        snapshot = net.flat_params.copy()  # the last finite weights, restored if this epoch diverges
        batch = n if self.batch_size is None else min(self.batch_size, n)
        order = self.rng.permutation(n) if self.shuffle and batch < n else None
        total = 0.0
        for b, start in enumerate(range(0, n, batch)):
            rows = slice(start, start + batch) if order is None else order[start : start + batch]
            self.optimizer.lr = self.schedule.lr
            # an overflow to inf/NaN is how a diverging run shows itself: the loss is checked just below and
            # ends the fit with TrainingDivergedError, rather than a RuntimeWarning from deep inside NumPy
            with np.errstate(over="ignore", invalid="ignore"):
                if self._parallel is not None:
                    loss = self._parallel.step(rows)  # loss, gradient and update, shared by the processes
                    wb = None if sample_weight is None else sample_weight[rows]
                else:
                    Xb, yb, wb = self._batch(X, y, sample_weight, rows, self.rng)
                    loss = net.loss_and_grad(Xb, yb, wb, alpha=self.alpha, n_samples=n, check=False)
                    self.optimizer.step(net)
            if not np.isfinite(loss):
                net.flat_params[...] = snapshot
                self._diverged(loss)
            if self._reference_loss is None:  # the yardstick for divergence, set on the first step
                self._reference_loss = max(loss, _chance_loss(net, y))
            size = min(batch, n - start)
            total += loss * (size if wb is None else float(np.sum(wb)))
            self.schedule.on_batch_end(size)
            self._call("on_batch_end", self, b, {"loss": loss, "size": size})
        epoch_loss = total / (n if sample_weight is None else float(np.sum(sample_weight)))
        limit = (
            None
            if self.divergence_factor is None
            else self.divergence_factor * max(self._reference_loss, 1e-12)
        )
        if not np.isfinite(epoch_loss) or (limit is not None and epoch_loss > limit):
            net.flat_params[...] = snapshot
            self._diverged(epoch_loss)
        return epoch_loss

    def evaluate(self, X, y) -> dict:
        """``{"val_loss": ..., "val_score": ...}`` on held-out data (evaluation mode, no L2 term)."""
        net = self.net
        was_training = net.training
        net.eval()
        try:
            val_loss = float(net.loss.forward(net._forward(X), y))
            val_score = float(self.scorer(net, X, y))
        finally:
            net.train(was_training)
        return {"val_loss": val_loss, "val_score": val_score}

    # --- helpers ---------------------------------------------------------------------------------------------

    def _batch(self, X, y, sample_weight, rows, rng):
        """The rows ``rows`` (a slice: views; an index array: one gather), augmented if asked."""
        Xb, yb = X[rows], y[rows]
        wb = None if sample_weight is None else sample_weight[rows]
        if self.augment is not None:
            Xb = self.augment(Xb, rng)
        return Xb, yb, wb

    def _data_parallel(self, X, y, sample_weight):
        """A data-parallel session for ``fit`` when ``n_jobs > 1`` (a do-nothing context otherwise)."""
        return parallel.session(
            self.net,
            self.optimizer,
            lambda rows, rng: self._batch(X, y, sample_weight, rows, rng),
            self.n_jobs,
            n_rows=len(X),
            alpha=self.alpha,
            n_samples=len(X),
            sample_weight=sample_weight,
            seed=self.rng,
        )

    def _prepare(self, X, y, sample_weight, split: bool = True):
        X = self.net._check_input(X)
        y = np.asarray(y)
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}.")
        if np.issubdtype(y.dtype, np.floating) and not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinite values.")
        if not isinstance(self.net.loss, SoftmaxCrossEntropy) or y.ndim == 2:
            y = y.astype(self.net.dtype, copy=False)
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=self.net.dtype)
            if sample_weight.shape != (len(X),):
                raise ValueError(f"sample_weight must have shape ({len(X)},); got {sample_weight.shape}.")
        val = None
        if split and self.validation_data is not None:
            Xv, yv = self.validation_data
            Xv = self.net._check_input(Xv)
            yv = np.asarray(yv)
            if len(yv) != len(Xv):
                raise ValueError(f"validation X has {len(Xv)} rows but validation y has {len(yv)}.")
            val = (Xv, yv)
        elif split and self.validation_fraction:
            tr, va = train_validation_split(X, y, self.validation_fraction, self.rng)
            val = (X[va], y[va])
            X, y = X[tr], y[tr]
            sample_weight = None if sample_weight is None else sample_weight[tr]
        return X, y, sample_weight, val

    def _diverged(self, loss: float) -> None:
        lr = self.optimizer.lr
        if self._reference_loss is None:  # the very first loss, at the initial weights: no step was taken yet
            advice = (
                "No step had been taken yet, so the learning rate is not the cause: the inputs are probably on "
                "too large a scale; standardize them (e.g. with scikit-learn's StandardScaler)."
            )
        else:
            advice = (
                f"The learning rate ({lr:.3g}) is probably too large; try a smaller one, e.g. {lr / 10:.3g}, "
                "or standardize the inputs (e.g. with scikit-learn's StandardScaler). The weights of the last "
                "finite epoch were kept."
            )
        raise TrainingDivergedError(
            f"Training diverged in epoch {self.epoch + 1}: the loss became {loss:.4g}. {advice}",
            epoch=self.epoch,
            loss=loss,
        )

    def _call(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            method = getattr(cb, hook, None)
            if method is not None:
                method(*args)
