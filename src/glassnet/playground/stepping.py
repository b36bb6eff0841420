"""The playground's training: :class:`glassnet.training.Trainer`, held between steps by a callback.

A student steps one batch at a time, pauses anywhere and plays on; the Trainer's ``fit`` runs whole epochs.
So the playground runs one ``Trainer.fit`` and a callback stops it at *pause points*, the moments just before
an optimizer step:

- at the start of every epoch (``on_epoch_begin``): the previous epoch's records are done (the schedule's
  epoch step, the history) and no row of the new epoch has been drawn yet;
- after every batch but an epoch's last (``on_batch_end``).

At a pause point the playground's session waits until the page asks for another step (or plays), and
draws its frames; :class:`StepLimit` instead ends the fit after a given number of steps, and
:func:`fit_steps` is what the "copy as Python" script calls to take the playground's steps with the
Trainer. The fit loop itself is the Trainer's, for the playground as for every other caller.
"""

from __future__ import annotations

import copy

import numpy as np

from glassnet.training.callbacks import Callback

__all__ = ["PausePoints", "StepLimit", "StepLimitReached", "fit_steps"]


class StepLimitReached(Exception):
    """Raised at a pause point to end a fit mid-epoch (the Trainer stops by itself only at an epoch's end)."""


class PausePoints(Callback):
    """Calls :meth:`pause_point` before every optimizer step of a fit on ``n_rows`` training rows.

    Also keeps, for the step about to be taken, its batch number in the epoch (``batch``) and its rows
    (:meth:`rows`): the Trainer draws an epoch's order of the rows as the first draw of ``trainer.rng`` in
    that epoch (no augmentation, no validation split), which :meth:`on_epoch_begin` repeats on a copy of the
    generator. Subclasses override :meth:`pause_point` and :meth:`after_step`.
    """

    def __init__(self, n_rows: int) -> None:
        self.n_rows = int(n_rows)
        self.batch_rows = self.batches = self.batch = 0
        self.order: np.ndarray | None = None

    def on_epoch_begin(self, trainer, epoch: int) -> None:
        self.batch = 0
        self.plan(trainer)
        self.pause_point(trainer)
        self.plan(trainer)  # the batch size may have changed while paused

    def plan(self, trainer) -> None:
        """The epoch's batches as ``Trainer._run_epoch`` will cut them (call before its first step)."""
        self.batch_rows = min(trainer.batch_size or self.n_rows, self.n_rows)
        self.batches = -(-self.n_rows // self.batch_rows)  # len(range(0, n, batch))
        shuffled = trainer.shuffle and self.batch_rows < self.n_rows
        self.order = copy.deepcopy(trainer.rng).permutation(self.n_rows) if shuffled else None

    def on_batch_end(self, trainer, batch: int, logs: dict) -> None:
        self.after_step(trainer, logs)
        self.batch = batch + 1
        if self.batch < self.batches:
            self.pause_point(trainer)

    def rows(self, batch: int | None = None) -> np.ndarray:
        """The rows of batch ``batch`` (default: the next step's) of the current epoch."""
        batch = self.batch if batch is None else batch
        start = batch * self.batch_rows
        every = np.arange(self.n_rows) if self.order is None else self.order
        return every[start : start + self.batch_rows]

    def pause_point(self, trainer) -> None:
        """Called before each step; raise to end the fit here."""

    def after_step(self, trainer, logs: dict) -> None:
        """Called after each step (``self.batch`` is still the step's batch number)."""


class StepLimit(PausePoints):
    """Ends a fit with :class:`StepLimitReached` once ``steps`` optimizer steps have been taken."""

    def __init__(self, n_rows: int, steps: int) -> None:
        super().__init__(n_rows)
        self.steps, self.taken = int(steps), 0

    def after_step(self, trainer, logs: dict) -> None:
        self.taken += 1

    def pause_point(self, trainer) -> None:
        if self.taken >= self.steps:
            raise StepLimitReached(f"{self.taken} steps taken")


#: epochs asked of a fit that a callback ends: more than any session runs
ENDLESS = 10**9


def fit_steps(trainer, X, y, steps: int):
    """``trainer.fit(X, y)`` for exactly ``steps`` optimizer steps, ending mid-epoch if need be, as a paused
    playground does; returns ``trainer.history``. The network is left in evaluation mode."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer; got {steps!r}.")
    limit = StepLimit(len(X), steps)
    trainer.callbacks.append(limit)
    try:
        trainer.fit(X, y, epochs=ENDLESS)
    except StepLimitReached:
        pass
    finally:
        trainer.callbacks.remove(limit)
        trainer.net.eval()
    return trainer.history
