r"""The training loop: the one place where epochs and mini-batches run.

:class:`Trainer` is used by everything that trains a network: the engine's users, the estimators' ``'sgd'``
and ``'adam'`` solvers (which express scikit-learn's stopping rules as callbacks), ``glassnet train``,
``glassnet compare``, the recipes and the benchmarks. Read ``Trainer._run_epoch`` top to bottom: for each
batch, forward, loss, backward and update (``_step``), then the termination checks; ``fit`` wraps the epochs
with validation, the schedule and the callbacks.

Rules that hold for every caller:

- **sample weights** are validated once, before training (finite, non-negative, a positive sum); a batch
  whose weights are all zero takes no step (there is nothing to learn from it) and does not advance the
  schedule, in one process and with ``n_jobs`` processes alike;
- the **epoch loss** is the mean of the batch losses weighted by each batch's weight (its size without
  sample weights): the weighted mean of the data term over the epoch, plus the L2 term;
- **divergence** is judged on the current fit's own course by :class:`glassnet.training.divergence.DivergenceRule`
  (non-finite losses, losses far above the fit's reference for several epochs, a loss settled at the chance
  level after a spike, and the final weights after the last step); the fit then ends with
  :class:`~glassnet.exceptions.TrainingDivergedError`, the weights restored to those from before the trouble.
"""

from __future__ import annotations

import time

import numpy as np

from glassnet.exceptions import TrainingDivergedError
from glassnet.fast import products
from glassnet.nn.initializers import as_generator
from glassnet.nn.schedules import ConstantLR, Schedule
from glassnet.training import compiled, parallel, workplan
from glassnet.training.callbacks import EarlyStopping, History
from glassnet.training.data import Dataset, logits, prepare
from glassnet.training.divergence import DivergenceRule
from glassnet.training.metrics import accuracy_score, default_scorer, r2_score, train_validation_split
from glassnet.training.threads import blas_threads, choose_crew, choose_threads

__all__ = ["Trainer", "accuracy_score", "r2_score", "train_validation_split"]


class Trainer:
    """Trains a :class:`~glassnet.nn.network.Sequential` with an optimizer.

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
        L2 penalty ``alpha / (2 n) * sum ||W||^2`` on the weights that layers declare (``Layer.decay``), ``n``
        the (weighted) training-set size.
    seed : int, Generator or None
        Randomness of shuffling and of the validation split.
    validation_data : (X_val, y_val) or (X_val, y_val, sample_weight_val), optional
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
        Objects with any of the hooks described in :mod:`glassnet.training.callbacks`.
    divergence_factor : float or None
        How far above its reference a fit's loss may go (:mod:`glassnet.training.divergence`); ``None`` checks only
        for non-finite losses.
    augment : callable ``(X_batch, rng) -> X_batch``, optional
        Applied to every training batch (never to validation data), e.g.
        :class:`glassnet.training.augment.RandomShift`.
    n_jobs : int or None
        Processes that share each training step (:mod:`glassnet.training.parallel`). ``None`` (default) chooses for
        the work (:mod:`glassnet.training.workplan`): large steps are cut into as many shards as the process has
        cores, computed by as many processes as are idle, small steps train in this process; the model
        depends on the shards, not on how busy the machine is. ``1`` is the plain one-process path, ``k``
        uses ``k`` shards (at most 64) in ``k`` processes, or as many as the process has cores if fewer,
        ``-1`` every core. The result equals one process's up to
        rounding; dropout masks and augmentation then come from each shard's own random stream. Layers
        that use batch statistics train in one process, with a warning.
    threads : int, 'caller' or None
        BLAS threads per process during ``fit``; ``None`` chooses (:mod:`glassnet.training.threads`): one for small
        steps, whose matrix products gain nothing from threads and stall on a busy machine, else the
        caller's setting. The caller's limits are restored afterwards. ``'caller'`` leaves them alone: the
        limits are process-wide, so a fit that may pause for long (the playground's, held between steps)
        should not hold them.
    owner : TrainingOwner, optional
        The object whose ``fit`` drives this Trainer (an estimator), asked by callbacks through the small
        protocol :class:`glassnet.training.owner.TrainingOwner` (rows to score, epochs so far, checkpoint
        state); ``None`` for a plain Trainer.

    ``X`` may be a NumPy array or a SciPy sparse matrix (densified one batch at a time).
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
        threads: int | str | None = None,
        owner=None,
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
        self.scorer = scorer or default_scorer(net.loss)
        self.callbacks = list(callbacks)
        if early_stopping is True:
            early_stopping = EarlyStopping(patience=patience, tol=tol)
        if early_stopping:
            self.callbacks.append(early_stopping)
        self.divergence_factor = divergence_factor
        self.divergence = DivergenceRule(divergence_factor)
        self.n_jobs = None if n_jobs is None else parallel.effective_n_jobs(n_jobs)
        self.threads = threads
        self.owner = owner
        self.shards = self.processes = 1  # chosen by each fit (see n_jobs)
        self._parallel = None
        self._compiled_plan = None  # what the compiled epochs share (glassnet.training.compiled), kept
        self.history = History()
        self.stop_training = False
        self.epoch = 0

    @property
    def parallel(self):
        """The :class:`~glassnet.training.parallel.DataParallel` session while ``fit`` trains with ``n_jobs > 1``, else
        ``None`` (for callbacks that want to look at the workers)."""
        return self._parallel

    # --- the loop --------------------------------------------------------------------------------------------

    def fit(self, X, y, epochs: int, sample_weight=None) -> History:
        """Train for up to ``epochs`` epochs; returns the :class:`History` (also ``self.history``).

        Raises :class:`~glassnet.exceptions.TrainingDivergedError` when the loss diverges
        (:mod:`glassnet.training.divergence`), after restoring the weights from before the trouble. Ctrl-C ends training cleanly with the weights trained so far
        and ``history.interrupted = True``.
        """
        if not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ValueError(f"epochs must be a positive integer; got {epochs!r}.")
        train, val = self._prepare(X, y, sample_weight)
        self.stop_training = False
        self.divergence.start()  # each fit is judged by its own course
        self._call("on_train_begin", self)
        try:
            rows = min(self.batch_size or train.n_rows, train.n_rows)
            self.shards, self.processes = self._plan(rows, int(epochs) * -(-train.n_rows // rows))
            threads = choose_threads(self.net, rows, self.shards, self.threads)
            # large products: shared by a crew of threads, the same bits for any count (glassnet.fast.products)
            crew = products.crew(choose_crew(self.net, rows, self.shards, self.threads))
            # the data-parallel session; with n_jobs=None its processes follow the idle cores (workplan)
            sessions = workplan.Processes(
                lambda processes: self._data_parallel(train, threads, processes),
                self.shards, self.processes, follow=self.n_jobs is None,
            )  # fmt: skip
            with blas_threads(threads), crew, sessions:
                for _ in range(int(epochs)):
                    self._parallel, self.processes = sessions.for_epoch(), sessions.processes
                    self._one_epoch(train, val)
                    if self.stop_training or self.schedule.done:
                        break
        except KeyboardInterrupt:
            self.history.interrupted = True
        finally:
            self._parallel = None
        self.net.eval()
        self._call("on_train_end", self, self.history)
        final = self.divergence.final_loss(self.net, train)
        if final is not None:
            self._diverged(final, after_last_step=True)
        return self.history

    def _one_epoch(self, train: Dataset, val: Dataset | None) -> None:
        """An epoch with its records: the pass over the data, validation, the schedule and the callbacks."""
        self._call("on_epoch_begin", self, self.epoch)
        start = time.perf_counter()
        loss = self._run_epoch(train)
        logs = {"loss": loss, "lr": self.optimizer.lr, "time": time.perf_counter() - start}
        if val is not None:
            logs.update(self.evaluate(val.X, val.y, val.sample_weight))
        self.history.append(logs)
        self.schedule.on_epoch_end(self.epoch, loss)
        self._call("on_epoch_end", self, self.epoch, logs)
        self.epoch += 1

    def fit_epoch(self, X, y, sample_weight=None) -> float:
        """One pass over the data (no validation, no callbacks' epoch hooks); returns the epoch loss."""
        train, _ = self._prepare(X, y, sample_weight, split=False)
        return self._run_epoch(train)

    def _run_epoch(self, data: Dataset) -> float:
        """One pass over ``data``, batch by batch; returns the weighted mean batch loss."""
        net, n = self.net, data.n_rows
        net.train()
        start_weights = net.flat_params.copy()
        batch = n if self.batch_size is None else min(self.batch_size, n)
        order = self.rng.permutation(n) if self.shuffle and batch < n else None
        if self._parallel is not None:
            self._parallel.begin_epoch(self.epoch)  # each process's random stream follows the epoch
        total = weight = 0.0
        # the loop below as one compiled call (glassnet.training.compiled, glassnet.fast.train_epoch) when it
        # covers this fit: the same steps, the same checks on each batch loss; None: the loop runs
        compiled_epoch = compiled.run_epoch(self, data, order, batch, start_weights)
        if compiled_epoch is not None:
            total, weight = compiled_epoch
            batches = []  # every batch has run
        else:
            batches = _batch_bounds(n, batch, _uses_batch_stats(net))
        for b, (start, stop) in enumerate(batches):
            rows = slice(start, stop) if order is None else order[start:stop]
            count, batch_weight = data.size_of(rows)
            if batch_weight == 0:
                continue  # only zero-weight samples: nothing to learn from this batch
            self._call("on_batch_begin", self, b, {"size": count})
            self.optimizer.lr = self.schedule.lr
            # forward, loss, backward and update; an overflow shows as a non-finite loss, checked just below
            with np.errstate(over="ignore", invalid="ignore"):
                loss = self._step(data, rows)
            # termination checks: a non-finite loss ends the fit at once
            if self.divergence.reference is None:
                self.divergence.first_loss(loss, net, data.y)
            if self.divergence.batch_diverged(loss, rows, start_weights):
                self._diverged(loss)
            total, weight = total + loss * batch_weight, weight + batch_weight
            self.schedule.on_batch_end(count)
            self._call("on_batch_end", self, b, {"loss": loss, "size": count})
            if self.stop_training:
                break  # a batch hook asked to stop: the epoch ends here
        epoch_loss = total / weight
        if self.divergence.epoch_diverged(epoch_loss, start_weights):
            self._diverged(epoch_loss)
        return epoch_loss

    def _step(self, data: Dataset, rows) -> float:
        """Loss and gradient of the batch ``rows``, then one optimizer step; returns the batch loss."""
        if self._parallel is not None:
            return self._parallel.step(rows)  # shared by the processes: each a share of rows and weights
        Xb, yb, wb = data.batch(rows, self.net.dtype, self.augment, self.rng)
        loss = self.net.loss_and_grad(Xb, yb, wb, alpha=self.alpha, n_samples=data.weight_total, check=False)
        self._call("on_gradients", self)  # callbacks may change net.flat_grads (GradientClipping)
        self.optimizer.step(self.net)
        return loss

    def evaluate(self, X, y, sample_weight=None) -> dict:
        """``{"val_loss": ..., "val_score": ...}`` on held-out data (evaluation mode, no L2 term)."""
        net = self.net
        was_training = net.training
        net.eval()
        try:
            z = logits(net, X)
            val_loss = float(net.loss.forward(z, y, sample_weight))
            val_score = float(self.scorer(net, X, y))
        finally:
            net.train(was_training)
        return {"val_loss": val_loss, "val_score": val_score}

    # --- termination checks ----------------------------------------------------------------------------------

    def _diverged(self, loss: float, after_last_step: bool = False) -> None:
        """Restore the weights from before the trouble and raise, with advice."""
        if self.divergence.fallback is not None:
            self.net.flat_params[...] = self.divergence.fallback
        when = "after the last step" if after_last_step else f"in epoch {self.epoch + 1}"
        message = self.divergence.message(loss, self.optimizer.lr, when)
        if after_last_step and _uses_batch_stats(self.net):
            message += (
                " With batch normalisation, the final loss is measured with its running statistics, averages "
                "of the last batches: when the weights still move fast (inputs on a large scale, few steps) "
                "they lag behind, so standardizing the inputs or training longer helps."
            )
        raise TrainingDivergedError(message, epoch=self.epoch, loss=loss)

    # --- helpers ---------------------------------------------------------------------------------------------

    def _prepare(self, X, y, sample_weight, split: bool = True) -> tuple[Dataset, Dataset | None]:
        train = prepare(self.net, X, y, sample_weight)
        val = None
        if split and self.validation_data is not None:
            val = prepare(self.net, *self.validation_data, what="validation ")
        elif split and self.validation_fraction:
            tr, va = train_validation_split(train.X, train.y, self.validation_fraction, self.rng)
            train, val = train.subset(tr), train.subset(va)
        return train, val

    def _plan(self, rows: int, steps: int) -> tuple[int, int]:
        """``(shards, processes)`` for ``steps`` steps of ``rows`` rows: ``n_jobs`` of each when it is given."""
        if self.n_jobs is not None:  # n_jobs shards, in no more processes than there are cores
            return self.n_jobs, parallel.processes_for(self.n_jobs)
        shards = workplan.choose_shards(self.net, self.optimizer, rows, steps, self.callbacks)
        return shards, workplan.choose_processes(shards)

    def _data_parallel(self, data: Dataset, threads: int | None, processes: int):
        """A data-parallel session for ``fit`` when a step has several shards (a do-nothing context otherwise)."""
        return parallel.session(
            self.net,
            self.optimizer,
            lambda rows, rng: data.batch(rows, self.net.dtype, self.augment, rng),
            processes,
            shards=self.shards,
            threads=threads,
            streams=self.augment is not None,
            n_rows=data.n_rows,
            alpha=self.alpha,
            n_samples=data.weight_total,
            sample_weight=data.sample_weight,
            seed=self.rng,
        )

    def _call(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            method = getattr(cb, hook, None)
            if method is not None:
                method(*args)


def _batch_bounds(n: int, batch: int, batch_stats: bool) -> list[tuple[int, int]]:
    """``(start, stop)`` of each batch of an epoch over ``n`` rows; with ``batch_stats`` (batch normalisation)
    a last batch of one row, which has no batch statistics, joins the batch before it."""
    bounds = [(start, min(start + batch, n)) for start in range(0, n, batch)]
    if batch_stats and len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2:] = [(bounds[-2][0], n)]
    return bounds


def _uses_batch_stats(net) -> bool:
    """Whether a layer of ``net`` declares ``uses_batch_stats`` (batch normalisation)."""
    return any(layer.uses_batch_stats for layer in net.layers)
