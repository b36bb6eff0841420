"""The session's training thread: one :class:`glassnet.training.Trainer` fit, held before every step.

:class:`FitThread` is the part of :class:`~glassnet.playground.session.Session` that drives the Trainer: the
fit runs in a thread and a callback (:class:`FitHooks`, :mod:`glassnet.playground.stepping`) stops it before
each optimizer step at a *pause point*. There the thread draws a frame when one is due and waits until the
page plays or asks for one step; waiting lets go of ``Session.lock``, so requests run in between, and a
request never meets a half-taken step. A reset, new settings or a closed tab end the fit at its pause point
(:class:`_Stopped`); the next play or step starts a new fit of the same Trainer.
"""

from __future__ import annotations

import copy
import threading
import time

import numpy as np

from glassnet.exceptions import TrainingDivergedError
from glassnet.nn.trace import trace_step
from glassnet.playground.stepping import ENDLESS, PausePoints

__all__ = ["FitHooks", "FitThread", "SessionError"]


class SessionError(ValueError):
    """A request this session cannot serve (the message says why)."""


class _Stopped(Exception):
    """Raised at a pause point to end the session's fit (a reset, new settings, the tab closed)."""


class FitHooks(PausePoints):
    """The session's callback on its Trainer: after each step the counters, before each the wait."""

    def __init__(self, session) -> None:
        super().__init__(len(session.X_train))
        self.session = session

    def after_step(self, trainer, logs: dict) -> None:
        self.session._after_step(logs)

    def pause_point(self, trainer) -> None:
        self.session._pause_point()


class FitThread:
    """The training thread of a session (a mixin of :class:`~glassnet.playground.session.Session`, whose
    ``lock``, ``net``, ``trainer``, data and counters it uses)."""

    def _start_fit(self) -> None:
        """Start the fit thread if none runs (under ``self.lock``); it takes no step until allowed."""
        if self.fitting:
            return
        self.fitting, self._stop, self._budget = True, False, 0
        self.thread = threading.Thread(target=self._fit, name=f"playground-{self.id[:6]}", daemon=True)
        self.thread.start()

    def _fit(self) -> None:
        """The fit thread: ``Trainer.fit`` until a reset, a close, divergence or the schedule's end."""
        with self.lock:
            try:
                self.trainer.fit(self.X_train, self.y_train, epochs=ENDLESS)
                if self.schedule.done:
                    self.message = (
                        "The adaptive schedule reached its smallest learning rate: training stopped."
                    )
            except _Stopped:
                pass
            except TrainingDivergedError as exc:
                self.diverged = True
                self.message = (
                    f"{exc} Lower the learning rate and play on, or press reset. (Training diverged at step "
                    f"{self.steps}.)"
                )
            except Exception as exc:  # shown on the page; the server and the session keep running
                self.message = f"Training stopped: {type(exc).__name__}: {exc}"
            finally:
                self.fitting = self.playing = False
                self._twin = None
                if not self.closed:
                    self._publish()
                self._wake.notify_all()

    def _end_fit(self) -> None:
        """End the fit thread (at its pause point) and wait for it; call without holding ``self.lock``."""
        with self.lock:
            thread, self._stop = self.thread, True
            self.playing = False
            self._wake.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)
        with self.lock:
            self.thread, self._stop = None, False

    def _pause_point(self) -> None:
        """In the fit thread, before each step (holding ``self.lock``): draw a frame when one is due, then wait
        until the page plays or asks for a step. Waiting releases the lock, so requests run meanwhile."""
        if self.playing and self._frame_due():
            started = time.perf_counter()
            self._publish()
            self._frame_cost = 0.5 * self._frame_cost + 0.5 * (time.perf_counter() - started)
            interval = 1.0 / self.max_fps
            # the slow speeds sleep out the frame's interval; full speed only lets waiting requests in
            self._wake.wait(max(interval - self._frame_cost, 0.0005) if self.steps_per_frame else 0.0005)
            self._taken = 0
            self._next_frame = time.perf_counter() + max(interval - self._frame_cost, self._frame_cost)
        while not (self.playing or self._budget > 0 or self._stop):
            self._wake.wait()
        if self._stop:
            raise _Stopped
        if not self.playing:
            self._budget -= 1
            if self._trace_next:  # the step-through: the same step on a copy, recorded layer by layer
                self._trace_next = False
                twin_net, twin_opt = copy.deepcopy(self.net).train(), copy.deepcopy(self.optimizer)
                twin_opt.lr = self.schedule.lr  # what the Trainer sets just before the step
                rows = self.hooks.rows()
                with np.errstate(over="ignore", invalid="ignore"):
                    self._twin = trace_step(
                        twin_net, self.X_train[rows], self.y_train[rows], twin_opt,
                        alpha=self.config["alpha"], n_samples=len(self.X_train),
                    )  # fmt: skip

    def _frame_due(self) -> bool:
        """Train until the next frame is due: ``steps_per_frame`` steps, or the frame interval less the time a
        frame takes to draw (a frame that costs more than half the interval gets as much training time as it
        takes itself, so training never stalls behind the drawing)."""
        self._taken += 1
        if self.steps_per_frame:
            return self._taken >= self.steps_per_frame
        return time.perf_counter() >= self._next_frame

    def _after_step(self, logs: dict) -> None:
        """In the fit thread, after each step: the counters the frames show."""
        n, hooks = len(self.X_train), self.hooks
        self.last_batch = hooks.rows()
        self.order, self.position = hooks.order, min((hooks.batch + 1) * hooks.batch_rows, n)
        self.steps += 1
        if self.position >= n:  # the epoch's last batch: the Trainer closes the epoch before the next pause
            self.epoch, self.order = self.epoch + 1, None
        self._wake.notify_all()

    def play(self, steps_per_frame: int | None = None) -> None:
        with self.lock:
            self.steps_per_frame = steps_per_frame
            if self.playing or self.closed or self.diverged:
                return
            self.playing, self.message = True, None
            self._taken, self._next_frame = 0, time.perf_counter() + 1.0 / self.max_fps
            self._start_fit()
            self._wake.notify_all()

    def pause(self) -> None:
        """Stop at the next pause point (at most a frame's interval away) and draw the state."""
        with self.lock:
            self.playing = False
            if not self.closed and hasattr(self, "net"):
                self._publish()

    def step(self, trace: bool = True) -> dict | None:
        """One step while paused; with ``trace`` the step's numbers as JSON for the "one batch" view."""
        from glassnet.playground.explain import trace_to_json

        with self.lock:
            self.playing = False
            if self.diverged:
                raise SessionError(self.message)
            self._start_fit()
            target = self.steps + 1
            self._budget, self._trace_next, self._twin = 1, trace, None
            self._wake.notify_all()
            while self.steps < target and self.fitting:
                self._wake.wait()
            if self.steps < target:
                raise SessionError(self.message or "Training has ended; press reset.")
            result, self._twin = self._twin, None
            self._publish()
            if result is None:
                return None
            traced = trace_to_json(
                result, self.net, self.last_batch, self.steps, self.y_train[self.last_batch]
            )
            self.lesson.record_trace(traced)
            return traced
