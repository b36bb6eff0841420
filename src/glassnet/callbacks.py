"""Training callbacks and the history of a run.

A callback is any object with some of these methods; the trainer calls those it finds:

- ``on_train_begin(trainer)``
- ``on_epoch_begin(trainer, epoch)``
- ``on_batch_end(trainer, batch, logs)`` with ``logs = {"loss": batch loss, "size": batch size}``
- ``on_epoch_end(trainer, epoch, logs)`` with ``logs`` the epoch's entries (``loss``, ``val_loss``, ...)
- ``on_train_end(trainer, history)``

Setting ``trainer.stop_training = True`` ends training after the current epoch.
"""

from __future__ import annotations

import math

import numpy as np


class Callback:
    """Base class with empty hooks (subclassing is optional: any object with the methods works)."""

    def on_train_begin(self, trainer) -> None: ...

    def on_epoch_begin(self, trainer, epoch: int) -> None: ...

    def on_batch_end(self, trainer, batch: int, logs: dict) -> None: ...

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None: ...

    def on_train_end(self, trainer, history) -> None: ...


class History:
    """Per-epoch records of a run: ``loss``, ``val_loss``, ``val_score``, ``lr`` and ``time`` (seconds).

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

    @property
    def epochs(self) -> int:
        return len(self.records["loss"])

    def __repr__(self) -> str:
        last = {k: v[-1] for k, v in self.records.items() if v}
        return f"History(epochs={self.epochs}, last={last})"


class EarlyStopping(Callback):
    """Stop when the monitored value has not improved by ``tol`` for ``patience`` epochs, and restore the
    weights of the best epoch.

    Parameters
    ----------
    monitor : str
        ``"val_score"`` (higher is better), ``"val_loss"`` or ``"loss"`` (lower is better).
    patience : int
        Epochs without improvement before stopping.
    tol : float
        Minimum improvement that counts.
    restore_best : bool
        Copy the best epoch's parameters back at the end.
    """

    def __init__(
        self, monitor: str = "val_score", patience: int = 10, tol: float = 1e-4, restore_best: bool = True
    ) -> None:
        if monitor not in ("val_score", "val_loss", "loss"):
            raise ValueError(f"monitor must be 'val_score', 'val_loss' or 'loss'; got {monitor!r}.")
        self.monitor, self.patience, self.tol, self.restore_best = (
            monitor,
            int(patience),
            float(tol),
            restore_best,
        )
        self.sign = 1.0 if monitor == "val_score" else -1.0  # maximise sign * value

    def on_train_begin(self, trainer) -> None:
        self.best = -math.inf
        self.best_epoch = None
        self.best_params = None
        self.wait = 0

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        value = logs.get(self.monitor)
        if value is None or not np.isfinite(value):
            return
        if self.sign * value > self.best + self.tol:
            self.wait = 0
        else:
            self.wait += 1
        if self.sign * value > self.best:
            self.best, self.best_epoch = self.sign * value, epoch
            if self.restore_best:
                self.best_params = trainer.net.flat_params.copy()
        if self.wait >= self.patience:
            trainer.stop_training = True
            trainer.history.stopped_early = True

    def on_train_end(self, trainer, history) -> None:
        if self.restore_best and self.best_params is not None:
            trainer.net.flat_params[...] = self.best_params
            history.best_epoch = self.best_epoch
