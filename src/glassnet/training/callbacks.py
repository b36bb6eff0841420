"""Training callbacks and the history of a run.

A callback is any object with some of these methods; the trainer calls those it finds:

- ``on_train_begin(trainer)``
- ``on_epoch_begin(trainer, epoch)``
- ``on_batch_begin(trainer, batch, logs)`` with ``logs = {"size": batch size}``, before the batch's step
- ``on_batch_end(trainer, batch, logs)`` with ``logs = {"loss": batch loss, "size": batch size}``
- ``on_epoch_end(trainer, epoch, logs)`` with ``logs`` the epoch's entries (``loss``, ``val_loss``, ...)
- ``on_train_end(trainer, history)``
- ``on_gradients(trainer)``: in one process (``n_jobs=1``), after each batch's backward pass and before the
  optimizer's step; ``trainer.net.flat_grads`` holds the batch's gradient and may be changed in place

Setting ``trainer.stop_training = True`` ends training: after the current batch when a batch hook sets it
(the epoch is then recorded with the loss of the batches it ran, validated and seen by ``on_epoch_end``), else
after the current epoch. The ``logs`` dict of
``on_epoch_end`` is the same object for every callback: a callback may add entries (:class:`EpochScoring`
does) that those after it see (:class:`ModelCheckpoint`, :class:`ReduceLROnPlateau` may monitor them).
A callback with ``state_dict()`` (JSON values) and ``load_state_dict(state)`` has that state saved in
checkpoints and restored by :func:`glassnet.files.checkpoint.resume`.

The callbacks practitioners expect:

=========================  =================================================================================
:class:`EarlyStopping`     stop when a monitored value stops improving; restore the best weights
:class:`ModelCheckpoint`   a resumable checkpoint every ``k`` epochs and of the best epoch by a monitored value
:class:`ReduceLROnPlateau` divide the learning rate when a monitored value (``val_loss``) stops improving
:class:`GradientClipping`  rescale each batch's gradient to a global norm of at most ``max_norm``
:class:`CSVLogger`         every recorded value of every epoch in a CSV file, rewritten atomically
:class:`EpochScoring`      several named scores per epoch, recorded in the History
:class:`OptunaPruning`     report a monitored value to an Optuna trial each epoch; prune unpromising trials
=========================  =================================================================================

**TerminateOnNaN** (Keras) needs no callback: the :class:`~glassnet.training.Trainer` always ends a fit whose
loss becomes NaN or infinite, at that batch, with :class:`~glassnet.exceptions.TrainingDivergedError`, the
weights restored to those from before the trouble (see :mod:`glassnet.training`, "divergence"). No
checkpoint of a diverged state is written: :class:`ModelCheckpoint` writes an epoch's checkpoint only once
the next epoch has begun or training has ended normally.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from glassnet._files import check_writable, write_atomic
from glassnet.nn.improvement import Improvement  # the rule of the stopping callbacks, here for their users
from glassnet.training.metrics import accuracy_score, r2_score


class Callback:
    """Base class with empty hooks (subclassing is optional: any object with the methods works)."""

    def on_train_begin(self, trainer) -> None: ...

    def on_epoch_begin(self, trainer, epoch: int) -> None: ...

    def on_batch_begin(self, trainer, batch: int, logs: dict) -> None: ...

    def on_batch_end(self, trainer, batch: int, logs: dict) -> None: ...

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None: ...

    def on_train_end(self, trainer, history) -> None: ...


class History(Mapping):
    """Per-epoch records of a run: ``loss``, ``val_loss``, ``val_score``, ``lr`` and ``time`` (seconds).

    A read-only mapping from a record's name to its list of values, as Keras' ``History.history`` is:
    ``history["loss"]``, ``"val_score" in history``, ``history.get("lr")``, ``dict(history)``, ``list(history)``.
    Also ``best_epoch`` (restored by early stopping, or None), ``stopped_early``, ``interrupted`` (Ctrl-C)
    and ``epochs`` (number of completed epochs).
    """

    def __init__(self) -> None:
        self.records: dict[str, list[float]] = {
            "loss": [],
            "val_loss": [],
            "val_score": [],
            "lr": [],
            "time": [],
        }
        self.best_epoch: int | None = None
        self.stopped_early = False
        self.interrupted = False

    def append(self, logs: dict) -> None:
        for key, value in logs.items():
            self.records.setdefault(key, []).append(value)

    def __getitem__(self, key: str) -> list[float]:
        return self.records[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    __hash__ = object.__hash__  # a History is one run's record, compared by identity
    __eq__ = object.__eq__

    @property
    def epochs(self) -> int:
        return len(self.records["loss"])

    def __repr__(self) -> str:
        last = {k: v[-1] for k, v in self.records.items() if v}
        return f"History(epochs={self.epochs}, last={last})"


class _MonitorCallback(Callback):
    """A callback judged by an :class:`Improvement` rule (``self.rule``), whose best value and count it shows."""

    rule: Improvement

    @property
    def best(self) -> float:
        """The best ``sign * value`` so far (``-inf`` before the first epoch)."""
        return self.rule.best

    @property
    def wait(self) -> int:
        """Epochs since the last improvement."""
        return self.rule.wait


class EarlyStopping(_MonitorCallback):
    """Stop when the monitored value has not improved by ``tol`` for ``patience`` epochs, and restore the
    weights of the best epoch (the rule: :class:`Improvement`).

    Parameters
    ----------
    monitor : str
        ``"val_score"`` (higher is better), ``"val_loss"`` or ``"loss"`` (lower is better).
    patience : int or None
        Epochs without improvement before stopping; ``None`` never stops (it only keeps the best weights).
    tol : float
        Minimum improvement that counts.
    restore_best : bool or 'on_stop'
        Copy the best epoch's parameters back at the end of ``fit``; ``'on_stop'``: only at the end of a fit
        that a rule stopped (``history.stopped_early``), as a ``partial_fit`` stream keeps training otherwise.
    inclusive : bool
        An improvement of exactly ``tol`` counts (scikit-learn's comparison).
    tiebreak : str or None
        A recorded value, lower is better (``"val_loss"``), that decides between epochs whose monitored
        values are within ``tol`` (see :class:`Improvement`).
    restart : bool
        Start afresh at every ``fit`` (Keras' rule); ``False`` continues the count and the best from the
        previous fit with the same object, or from :meth:`load_state_dict` (a ``partial_fit`` stream).

    scikit-learn's early stopping is ``EarlyStopping("val_score", patience=n_iter_no_change + 1, tol=tol,
    inclusive=True)`` (it stops when its counter *exceeds* ``n_iter_no_change``); glassnet's estimators
    use ``tiebreak="val_loss"`` in place of ``inclusive``, and without early stopping
    ``EarlyStopping("loss", n_iter_no_change + 1, tol, restore_best=False, inclusive=True)``.
    """

    def __init__(
        self,
        monitor: str = "val_score",
        patience: int | None = 10,
        tol: float = 1e-4,
        restore_best: bool | str = True,
        *,
        inclusive: bool = False,
        tiebreak: str | None = None,
        restart: bool = True,
    ) -> None:
        if monitor not in ("val_score", "val_loss", "loss"):
            raise ValueError(f"monitor must be 'val_score', 'val_loss' or 'loss'; got {monitor!r}.")
        if restore_best not in (True, False, "on_stop"):
            raise ValueError(f"restore_best must be True, False or 'on_stop'; got {restore_best!r}.")
        self.monitor, self.tol, self.restore_best = monitor, float(tol), restore_best
        self.patience = _patience(patience, allow_none=True)
        self.sign = 1.0 if monitor == "val_score" else -1.0  # maximise sign * value
        self.tiebreak, self.restart = tiebreak, restart
        self.rule = Improvement(self.sign, self.tol, inclusive, tiebreak is not None)
        self.best_epoch, self.best_params, self.stopped_epoch = None, None, None

    def state_dict(self) -> dict:
        return {**self.rule.state_dict(), "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict) -> None:
        self.rule.load_state_dict(state)
        self.best_epoch = None if state.get("best_epoch") is None else int(state["best_epoch"])

    def on_train_begin(self, trainer) -> None:
        self.stopped_epoch = None
        if self.restart:
            self.rule.reset()
            self.best_epoch, self.best_params = None, None

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        value = logs.get(self.monitor)
        if value is None:
            return
        tiebreak = None if self.tiebreak is None else _monitored("EarlyStopping", self.tiebreak, logs)
        _, better = self.rule.step(value, tiebreak)
        if better:
            self.best_epoch = epoch
            if self.restore_best:
                self.best_params = trainer.net.flat_params.copy()
        if self.patience is not None and self.rule.wait >= self.patience:
            trainer.stop_training = True
            trainer.history.stopped_early = True
            self.stopped_epoch = epoch

    def on_train_end(self, trainer, history) -> None:
        restore = self.restore_best is True or (self.restore_best == "on_stop" and history.stopped_early)
        if restore and self.best_params is not None:
            trainer.net.flat_params[...] = self.best_params
            history.best_epoch = self.best_epoch


# --- shared helpers ------------------------------------------------------------------------------------------


def _higher_is_better(monitor: str) -> bool:
    """``mode='auto'``: scores and accuracies are maximised, losses (everything else) minimised."""
    name = monitor.lower()
    return any(word in name for word in ("score", "acc", "r2", "auc", "f1", "precision", "recall"))


def _sign(monitor: str, mode: str) -> float:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max'; got {mode!r}.")
    if mode == "auto":
        return 1.0 if _higher_is_better(monitor) else -1.0
    return 1.0 if mode == "max" else -1.0


def _monitored(owner: str, monitor: str, logs: dict) -> float:
    """The monitored value of this epoch; a clear error if the fit does not record it."""
    if monitor not in logs:
        hint = (
            " (give the Trainer validation_data or validation_fraction)" if monitor.startswith("val_") else ""
        )
        raise ValueError(
            f"{owner} monitors {monitor!r}, which this fit does not record{hint}; recorded: {sorted(logs)}. "
            "Pass monitor= one of those."
        )
    return float(logs[monitor])


def _patience(value, allow_none: bool = False):
    """A number of epochs to wait: a non-negative integer, or ``math.inf`` (never; scikit-learn's
    ``n_iter_no_change=np.inf``), or ``None`` where allowed."""
    if value is None and allow_none:
        return None
    if isinstance(value, (float, np.floating)) and value == math.inf:
        return math.inf
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"patience must be a non-negative integer or math.inf; got {value!r}.")
    return int(value)


def _check_positive_int(name: str, value, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(
            f"{name} must be a positive integer{' or None' if allow_none else ''}; got {value!r}."
        )
    return int(value)


# --- checkpoints ---------------------------------------------------------------------------------------------


# --- the learning rate and the gradient ----------------------------------------------------------------------


class ReduceLROnPlateau(_MonitorCallback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for ``patience`` epochs.

    The rate changed is the schedule's (``trainer.schedule.lr``, which the Trainer copies into the optimizer
    at every step); a schedule that computes its rate from ``lr0`` (step, cosine, inverse scaling) has
    ``lr0`` scaled by the same factor, so the reduction lasts. The new rate is computed as
    ``lr / (1 / factor)``, so that ``factor=0.2`` divides by 5 exactly as scikit-learn does. Its state (best
    value, epochs waited, cooldown) carries over from one ``fit`` to the next with the same object and is
    saved in checkpoints. Improvement is judged by :class:`Improvement`.

    Parameters
    ----------
    monitor : str
        A recorded value: ``val_loss`` (default; needs validation data), ``loss``, ``val_score``, or any
        name an :class:`EpochScoring` before it in the callbacks list adds.
    factor : float
        In (0, 1): the new rate is ``factor * rate``.
    patience : int
        Epochs without improvement before the rate is reduced.
    min_delta : float
        The least change that counts as an improvement.
    cooldown : int
        Epochs after a reduction during which no further reduction happens.
    min_lr : float
        The rate is never reduced below this.
    mode : {'auto', 'min', 'max'}
        Whether lower or higher ``monitor`` is better; ``'auto'``: higher for scores and accuracies.
    verbose : bool
        Print each reduction.
    stop_lr : float or None
        When a reduction is due and the rate is already at most ``stop_lr``, stop training instead (the rate
        has nowhere useful to go).
    inclusive, tiebreak
        As for :class:`EarlyStopping`.

    scikit-learn's ``learning_rate='adaptive'`` is ``ReduceLROnPlateau("loss", factor=0.2,
    patience=n_iter_no_change + 1, min_delta=tol, stop_lr=1e-6, inclusive=True)`` (``"val_score"`` with
    early stopping).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        mode: str = "auto",
        verbose: bool = False,
        *,
        stop_lr: float | None = None,
        inclusive: bool = False,
        tiebreak: str | None = None,
    ) -> None:
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0.0 < factor < 1.0:
            raise ValueError(f"factor must be a float in (0, 1); got {factor!r}.")
        patience = _patience(patience)
        if isinstance(cooldown, bool) or not isinstance(cooldown, (int, np.integer)) or cooldown < 0:
            raise ValueError(f"cooldown must be a non-negative integer; got {cooldown!r}.")
        if not min_lr >= 0 or not min_delta >= 0:
            raise ValueError(f"min_lr and min_delta must be >= 0; got {min_lr!r} and {min_delta!r}.")
        if stop_lr is not None and not stop_lr >= 0:
            raise ValueError(f"stop_lr must be None or >= 0; got {stop_lr!r}.")
        self.monitor, self.factor, self.patience = monitor, float(factor), patience
        self.min_delta, self.cooldown, self.min_lr = float(min_delta), int(cooldown), float(min_lr)
        self.sign, self.verbose = _sign(monitor, mode), verbose
        self.stop_lr, self.tiebreak = stop_lr, tiebreak
        self.rule = Improvement(self.sign, self.min_delta, inclusive, tiebreak is not None)
        self.cooldown_counter = 0
        self.reductions: list[tuple[int, float]] = []  # (epoch, new rate)
        self.stopped_epoch = None

    def state_dict(self) -> dict:
        return {**self.rule.state_dict(), "cooldown_counter": self.cooldown_counter}

    def load_state_dict(self, state: dict) -> None:
        self.rule.load_state_dict(state)
        self.cooldown_counter = int(state["cooldown_counter"])

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        value = _monitored("ReduceLROnPlateau", self.monitor, logs)
        if not np.isfinite(value):
            return  # the Trainer's divergence rule deals with it
        tiebreak = None if self.tiebreak is None else _monitored("ReduceLROnPlateau", self.tiebreak, logs)
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.rule.wait = 0
        improved, _ = self.rule.step(value, tiebreak)
        if improved:
            return
        if self.cooldown_counter > 0:
            self.rule.wait = 0  # no count during a cooldown
            return
        if self.rule.wait < self.patience:
            return
        schedule = trainer.schedule
        old = schedule.lr
        if self.stop_lr is not None and old <= self.stop_lr:
            trainer.stop_training = True
            trainer.history.stopped_early = True
            self.stopped_epoch = epoch
            return
        new = max(old / (1.0 / self.factor), self.min_lr)
        self.rule.wait = 0
        if new < old:
            schedule.lr = new
            if hasattr(schedule, "lr0"):
                schedule.lr0 *= new / old
            self.cooldown_counter = self.cooldown
            self.reductions.append((epoch, new))
            if self.verbose:
                print(
                    f"Epoch {epoch + 1}: {self.monitor} has not improved; learning rate reduced to {new:.4g}."
                )


class GradientClipping(Callback):
    r"""Rescale each batch's gradient to a global L2 norm of at most ``max_norm``:
    :math:`g \leftarrow g \cdot \min(1, c / (\lVert g \rVert_2 + 10^{-6}))` (PyTorch's ``clip_grad_norm_``).

    The norm is over every parameter at once (computed in float64). The History gets ``grad_norm``, the
    largest norm before clipping in each epoch. Needs the gradient between the backward pass and the update,
    which only a one-process fit has: with ``n_jobs > 1`` the fit is refused when it starts; with ``n_jobs=None``
    the fit trains in one process.

    Parameters
    ----------
    max_norm : float
        The largest global norm a step may use (> 0).
    """

    def __init__(self, max_norm: float) -> None:
        ok = isinstance(max_norm, (int, float, np.floating)) and not isinstance(max_norm, bool)
        if not ok or not np.isfinite(max_norm) or max_norm <= 0:
            raise ValueError(f"max_norm must be a positive finite float; got {max_norm!r}.")
        self.max_norm = float(max_norm)
        self.n_clipped = 0
        self._epoch_max = 0.0

    def on_train_begin(self, trainer) -> None:
        if (getattr(trainer, "n_jobs", 1) or 1) > 1:  # None chooses one process for this callback
            raise ValueError(
                f"GradientClipping needs n_jobs=1: with n_jobs={trainer.n_jobs} each process updates its own "
                "share of the parameters, so no process sees the whole gradient between backward and update. "
                "Train with n_jobs=1 (or None) to clip gradients."
            )

    def on_epoch_begin(self, trainer, epoch: int) -> None:
        self._epoch_max = 0.0

    def on_gradients(self, trainer) -> None:
        g = trainer.net.flat_grads
        norm = math.sqrt(float(np.dot(g.astype(np.float64), g.astype(np.float64))))
        self._epoch_max = max(self._epoch_max, norm) if np.isfinite(norm) else norm
        if np.isfinite(norm) and norm > self.max_norm:
            g *= g.dtype.type(self.max_norm / (norm + 1e-6))
            self.n_clipped += 1

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        logs["grad_norm"] = self._epoch_max
        trainer.history.records.setdefault("grad_norm", []).append(self._epoch_max)


# --- records ---------------------------------------------------------------------------------------------------


class CSVLogger(Callback):
    """Every value the History records, one row per epoch, in a CSV file.

    The file is rewritten whole and atomically (:func:`glassnet._files.write_atomic`) after every epoch and
    at the end of training, from ``trainer.history``: a kill leaves the previous complete file, columns that
    appear later (a callback's record) are added, and a resumed run (whose History the checkpoint restored)
    writes every epoch of the whole run. Columns: ``epoch`` (1, 2, ...) then every record in the order they
    first appeared; a record that started later is blank in the epochs before it. Numbers are written in full
    precision (``repr``).

    Parameters
    ----------
    path : str or path-like
        The CSV file.
    separator : str
        Field separator (``,``).
    """

    def __init__(self, path, separator: str = ",") -> None:
        if not isinstance(separator, str) or len(separator) != 1 or separator in '"\r\n':
            raise ValueError(
                f"separator must be one character other than a quote or newline; got {separator!r}."
            )
        self.path, self.separator = Path(path), separator

    def on_train_begin(self, trainer) -> None:
        check_writable(self.path)

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        self.write(trainer.history)

    def on_train_end(self, trainer, history) -> None:
        self.write(history)

    def write(self, history) -> None:
        """Write ``history`` to the file now."""
        import csv

        columns = [k for k, v in history.records.items() if v]
        n = history.epochs
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=self.separator, lineterminator="\n")
        writer.writerow(["epoch", *columns])
        for i in range(n):
            row = [i + 1]
            for key in columns:
                values = history.records[key]
                j = i - (n - len(values))  # a record that started later is aligned on the last epochs
                row.append(_cell(values[j]) if 0 <= j < len(values) else "")
            writer.writerow(row)
        data = buffer.getvalue().encode("utf-8")
        write_atomic(self.path, lambda f: f.write(data))


def _cell(value) -> str:
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)


class EpochScoring(Callback):
    """Several named scores of the network after every epoch, recorded in the History (and in ``logs``).

    Parameters
    ----------
    scorers : dict or list
        ``{name: scorer}``, or a list of names. A scorer is a callable ``(net, X, y) -> float`` (``y`` as the
        network's loss takes it) or a name: ``'accuracy'``, ``'r2'`` or ``'loss'`` (the loss without the L2
        term) for any Trainer; and, during an estimator's ``fit``, any scikit-learn scorer name
        (``'f1_macro'``, ``'neg_log_loss'``, ... as ``sklearn.metrics.get_scorer`` knows them), applied to
        the estimator with ``y`` in your labels, which is what scikit-learn's ``ScoringMonitor`` computes.
    data : (X, y) or None
        The data to score; default the Trainer's ``validation_data`` (during an estimator's ``fit``, its
        validation rows: ``eval_set`` or ``early_stopping``'s split).
    prefix : str
        Put before each name in the History (``val_accuracy``); default ``'val_'``.

    Scoring is done in evaluation mode (no dropout). The values are added to the epoch's ``logs``, so a
    :class:`ModelCheckpoint` or :class:`ReduceLROnPlateau` after this callback can monitor them.
    """

    def __init__(self, scorers, data=None, prefix: str = "val_") -> None:
        if isinstance(scorers, (list, tuple)):
            scorers = {name: name for name in scorers}
        if not isinstance(scorers, dict) or not scorers:
            raise TypeError(
                f"scorers must be a non-empty dict {{name: scorer}} or list of names; got {scorers!r}."
            )
        for name, scorer in scorers.items():
            if not isinstance(name, str) or not (callable(scorer) or isinstance(scorer, str)):
                raise TypeError(
                    f"scorer {name!r} must be a callable (net, X, y) or a scorer's name; got {scorer!r}."
                )
        if data is not None and (not isinstance(data, tuple) or len(data) != 2):
            raise ValueError(f"data must be a tuple (X, y); got {type(data).__name__}.")
        self.scorers, self.data, self.prefix = dict(scorers), data, str(prefix)

    def on_train_begin(self, trainer) -> None:
        self._resolved = None
        owner = trainer.owner  # an estimator's fit (glassnet.training.owner.TrainingOwner), or None
        rows = None if owner is None or self.data is not None else owner.validation_rows()
        data, engine_y = self.data, None
        if rows is not None:
            data, engine_y = (rows[0], rows[1]), rows[2]  # the user's labels, and the network's targets
        elif data is None:
            data = trainer.validation_data
        if data is None:
            raise ValueError(
                "EpochScoring needs data to score: pass data=(X, y), or give the Trainer validation_data "
                "(an estimator: pass eval_set=(X_val, y_val) to fit, or EpochScoring(..., data=(X_val, y_val)))."
            )
        self._X, self._y = data[0], data[1]
        self._engine_y = self._y if engine_y is None else engine_y
        self._resolved = {name: self._resolve(name, s, owner) for name, s in self.scorers.items()}

    def _resolve(self, name: str, scorer, owner):
        if callable(scorer):
            return lambda net: float(scorer(net, self._X, self._engine_y))
        if owner is not None:
            return owner.scorer(scorer, self._X, self._y)
        if scorer == "accuracy":
            return lambda net: accuracy_score(net, self._X, self._engine_y)
        if scorer == "r2":
            return lambda net: r2_score(net, self._X, self._engine_y)
        if scorer == "loss":
            return lambda net: float(net.loss.forward(net.forward(self._X), net.loss.prepare_targets(
                np.asarray(self._engine_y), net.dtype)))  # fmt: skip
        raise ValueError(
            f"EpochScoring: unknown scorer {scorer!r} for {name!r}; a plain Trainer knows 'accuracy', 'r2' and "
            "'loss' (scikit-learn's scorer names work during an estimator's fit), or pass a callable (net, X, y)."
        )

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        net = trainer.net
        was_training = net.training
        net.eval()
        try:
            values = {self.prefix + name: fn(net) for name, fn in self._resolved.items()}
        finally:
            net.train(was_training)
        for key, value in values.items():
            logs[key] = value
            trainer.history.records.setdefault(key, []).append(value)


class OptunaPruning(Callback):
    """Report a monitored value to an Optuna trial after every epoch, and prune the trial when Optuna's pruner
    says so (``optuna`` is an optional dependency: ``pip install optuna``).

    Pruning raises ``optuna.TrialPruned`` from ``fit``, which ``study.optimize`` records as a pruned trial.

    Example
    -------
    >>> import optuna                                                    # doctest: +SKIP
    >>> def objective(trial):                                            # doctest: +SKIP
    ...     lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    ...     net = build_mlp([4, 16, 3], seed=0)
    ...     trainer = Trainer(net, Adam(lr), batch_size=16, seed=0, validation_data=(X_val, y_val),
    ...                       callbacks=[OptunaPruning(trial, monitor="val_loss")])
    ...     trainer.fit(X, y, epochs=30)
    ...     return trainer.history["val_loss"][-1]
    >>> optuna.create_study(pruner=optuna.pruners.MedianPruner()).optimize(objective, n_trials=20)  # doctest: +SKIP

    With an estimator: ``MLPClassifier(...).fit(X, y, eval_set=(X_val, y_val),
    callbacks=[OptunaPruning(trial)])``.

    Parameters
    ----------
    trial : optuna.trial.Trial
    monitor : str
        The recorded value to report (``val_loss`` by default; ``val_score``, ``loss``, ...).
    """

    def __init__(self, trial, monitor: str = "val_loss") -> None:
        try:
            import optuna  # noqa: F401
        except ImportError:
            raise ImportError("OptunaPruning needs optuna: pip install optuna (or glassnet[dev]).") from None
        self.trial, self.monitor = trial, monitor

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        import optuna

        value = _monitored("OptunaPruning", self.monitor, logs)
        self.trial.report(value, step=epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"Trial pruned at epoch {epoch + 1} ({self.monitor}={value:.6g}).")
