"""One browser tab's run: its data, network, optimizer, the training thread, and the frames it publishes.

The run trains through :class:`glassnet.training.Trainer`, as every glassnet fit does: one ``Trainer.fit`` in
a thread, held before each step by a callback (:mod:`glassnet.playground.stepping`). While the page plays,
the thread takes steps for one frame interval (1/30 s by default), then draws a frame: the decision regions
on a grid, each hidden neuron's output on a smaller grid, the weights, the loss and accuracy curves
(:mod:`glassnet.playground.frames`); while it is paused, the thread waits and a request lets it take one step.
Only the newest frame is kept (a page that draws slowly skips frames instead of queueing them); readers wait
on :meth:`Session.wait_frame`. The fit thread holds ``Session.lock`` while it trains and lets go only while
it waits, so a request (step, reset, new settings) and a training step never interleave.
"""

from __future__ import annotations

import json
import secrets
import threading
import time

import numpy as np

from glassnet.playground.build import (
    apply_changes,
    build_network,
    build_optimizer,
    build_schedule,
    build_trainer,
    live_changes,
    python_script,
)
from glassnet.playground.datasets import add_features
from glassnet.playground.driving import FitHooks, FitThread, SessionError
from glassnet.playground.export import model_file, session_state
from glassnet.playground.frames import (
    GRID,
    NEURON_GRID,
    check_warp,
    draw_frame,
    fractional_epoch,
    grid_points,
    warp_lines,
)
from glassnet.playground.handedits import HandEdits
from glassnet.playground.lesson import LessonRecorder, lesson_html
from glassnet.playground.rundata import load_run_data

__all__ = ["Session", "SessionManager", "SessionError"]

GRADCHECK_PARAMS = 5_000  # central differences take 2 forward passes per parameter


def _describe(key: str, old: dict, new: dict) -> str:
    """``lr 0.03 → 0.01`` for the curves' mark and the page's message."""
    if key == "dropout":

        def rates(config: dict) -> str:
            return ", ".join(f"{spec['dropout']:g}" for spec in config["layers"])

        return f"dropout {rates(old)} → {rates(new)}"
    return f"{key} {old[key]} → {new[key]}"


def _reset_reason(old: dict, new: dict, same_data: bool) -> str:
    """Which settings made a reset necessary, and which would not have."""
    keys = [k for k in new if k != "layers" and old.get(k) != new[k]]
    if [(s["units"], s["activation"], s["dropout"] > 0) for s in old["layers"]] != [
        (s["units"], s["activation"], s["dropout"] > 0) for s in new["layers"]
    ]:
        keys.append("the layers")
    if not same_data:
        keys.append("the CSV")
    return (
        f"Reset to step 0: {', '.join(keys) or 'the settings'} changed the network or its data. (The learning "
        "rate, L2, momentum, schedule, batch size and dropout rates change without a reset.)"
    )


class Session(FitThread, HandEdits):
    """A playground run. Create through :class:`SessionManager`; every public method is thread-safe."""

    def __init__(self, session_id: str, config: dict | None = None, csv_text: str | None = None) -> None:
        self.id = session_id
        self.lock = threading.RLock()
        self._wake = threading.Condition(self.lock)  # the fit thread and the requests wait for each other
        self._frame_ready = threading.Condition()
        self.frame, self.version = None, 0
        self.playing, self.closed, self.fitting = False, False, False
        self.thread: threading.Thread | None = None
        self._stop, self._budget, self._trace_next, self._twin = False, 0, False, None
        self._taken, self._next_frame, self._frame_cost = 0, 0.0, 0.0
        self.lesson = LessonRecorder()  # the film of the run, for the lesson file
        self.max_fps = 30.0
        self.steps_per_frame: int | None = None  # None: as many as fit in a frame interval
        self.last_seen = time.monotonic()
        self.message: str | None = None
        self.csv_text: str | None = None
        self.last_batch: np.ndarray | None = None
        self.warp_layer: int | None = None  # hidden layer shown in the "hidden space" view (None: the last)
        self.warp_units = (0, 1)
        self.configure(config or {}, csv_text)

    # --- settings and reset ------------------------------------------------------------------------------

    def configure(self, config: dict, csv_text: str | None = None) -> str | None:
        """Validate new settings (and an uploaded CSV) and apply them; nothing changes on error.

        The settings a training network takes (learning rate, L2, momentum, the schedule, batch size, dropout
        rates: :func:`~glassnet.playground.build.live_changes`) apply from the current step, weights kept;
        any other change (the data, the layers, the optimizer, a seed) makes the data anew and resets to step
        0. Returns a sentence saying which happened, for the page (``None`` when nothing changed)."""
        csv_text = csv_text if csv_text is not None else self.csv_text
        run = load_run_data(config, csv_text)
        same_data = run.csv_text is None or run.csv_text == self.csv_text
        old = getattr(self, "config", None)
        changed = live_changes(old, run.config) if old is not None and same_data else None
        was_playing = self.playing
        self._end_fit()  # outside the lock: the fit thread needs it to reach its pause point
        with self.lock:
            if changed is not None:
                said = self._change_live(run.config, changed)
            else:
                said = None if old is None or self.steps == 0 else _reset_reason(old, run.config, same_data)
                self.config = run.config
                if run.csv_text is not None:
                    self.csv_text = run.csv_text
                # the points as drawn; the network's inputs add the engineered features (if any)
                self.points_train, self.points_test = run.X_train, run.X_test
                features = run.config["features"]
                self.X_train, self.y_train = add_features(run.X_train, features), run.y_train
                self.X_test, self.y_test = add_features(run.X_test, features), run.y_test
                self.n_classes, self.class_names, self.domain = run.n_classes, run.class_names, run.domain
                self.standardize, self.task = run.standardize, run.task
                # a regression's colour scale: the training values' range, rounded out
                self.value_range = (
                    (float(np.min(run.y_train)), float(np.max(run.y_train)))
                    if run.task == "regression"
                    else None
                )
                self.grid = add_features(grid_points(self.domain, GRID), features)
                self.neuron_grid = add_features(grid_points(self.domain, NEURON_GRID), features)
                self.warp_lines = add_features(warp_lines(self.domain), features)
                self.reset()
        if was_playing:
            self.play(self.steps_per_frame)  # at the speed it had
        return said

    def _change_live(self, config: dict, changed: list[str]) -> str | None:
        """Give the training network new settings (under ``self.lock``, the fit ended): the next fit of the
        same Trainer takes them; the curves get a mark and copy-as-Python a phase."""
        if not changed:
            return None
        old, self.config = self.config, config
        apply_changes(self.trainer, config, changed, len(self.X_train))
        self.schedule = self.trainer.schedule
        self.phases.append((config, self.steps))
        text = ", ".join(_describe(key, old, config) for key in changed)
        self.marks.append({"epoch": round(fractional_epoch(self), 4), "step": self.steps, "text": text})
        self.diverged, self.message = False, None  # a lower learning rate may go on after a divergence
        self._publish()
        return f"Changed while training, weights kept (no reset) at step {self.steps}: {text}."

    def reset(self) -> None:
        """The same initial weights (the seed's), step 0, empty curves."""
        self._end_fit()
        with self.lock:
            cfg = self.config
            self.net = build_network(cfg, self.n_classes)
            self.optimizer = build_optimizer(cfg)
            self.schedule = build_schedule(cfg, len(self.X_train))
            self.hooks = FitHooks(self)
            self.trainer = build_trainer(cfg, self.net, self.optimizer, self.schedule, [self.hooks])
            self.steps, self.epoch, self.order, self.position = 0, 0, None, 0
            self.curves = {k: [] for k in ("epoch", "train_loss", "test_loss", "train_acc", "test_acc", "lr")}
            self.rate_marks: list[tuple[float, int]] = []
            self.message, self.last_batch, self.diverged = None, None, False
            self.phases: list[tuple[dict, int]] = [(cfg, 0)]  # (settings, the step they applied from)
            self.marks: list[dict] = []  # the changes while training, for the curves
            self.lesson.clear()
            self.added = 0  # training points added by clicks since the data was made
            self._publish()

    def gradcheck(self) -> dict:
        """``glassnet.gradcheck.gradcheck_network`` on the last batch (or the next one) at the current weights."""
        from glassnet.playground.explain import gradcheck_json

        with self.lock:
            if self.net.n_params > GRADCHECK_PARAMS:
                raise SessionError(
                    f"The network has {self.net.n_params:,} parameters; the gradient check runs up to "
                    f"{GRADCHECK_PARAMS:,} (two forward passes each). Use a smaller network."
                )
            rows = self.last_batch
            if rows is None:
                rows = np.arange(min(self.config["batch_size"], len(self.X_train)))
            return gradcheck_json(
                self.net, self.X_train[rows], self.y_train[rows], self.config["alpha"], len(self.X_train)
            )

    # --- frames ------------------------------------------------------------------------------------------

    def _publish(self) -> None:
        """Draw a frame of the current state and hand it to the readers (under ``self.lock``)."""
        was_training = self.net.training  # a frame drawn mid-epoch must not leave the fit in eval mode
        try:
            frame = draw_frame(self)
            text = json.dumps(frame, separators=(",", ":"), allow_nan=False)
            self.lesson.record(frame)
        finally:
            self.net.train(was_training)
        with self._frame_ready:
            self.frame, self.version = text, self.version + 1
            self._frame_ready.notify_all()

    def set_warp(self, layer, units) -> None:
        """Which hidden layer (0-based) and which two of its units the "hidden space" view plots."""
        problem = check_warp([spec["units"] for spec in self.config["layers"]], layer, units)
        if problem is not None:
            raise SessionError(problem)
        with self.lock:
            self.warp_layer, self.warp_units = layer, tuple(units)
            self._publish()

    def wait_frame(self, after_version: int, timeout: float) -> tuple[str | None, int]:
        """The newest frame once its version is above ``after_version`` (``None`` after ``timeout``)."""
        with self._frame_ready:
            if self.version <= after_version and not self.closed:
                self._frame_ready.wait(timeout)
            if self.version <= after_version:
                return None, after_version
            return self.frame, self.version

    def state(self) -> dict:
        """What the page needs besides frames: settings, the points, the network's layout."""
        with self.lock:
            return session_state(self)

    def python(self) -> str:
        with self.lock:
            ends = [phase[1] for phase in self.phases[1:]] + [self.steps]
            phases = [
                (cfg, end - start, *edit) for (cfg, start, *edit), end in zip(self.phases, ends, strict=True)
            ]
            return python_script(phases, self.n_classes)

    def lesson_html(self, note: str = "") -> str:
        """The run so far as a lesson: one HTML file that replays it (:mod:`glassnet.playground.lesson`)."""
        with self.lock:
            return lesson_html(self, note)

    def model_bytes(self) -> bytes:
        """The current network as a glassnet model file (``glassnet.io.save_model``)."""
        with self.lock:
            return model_file(self)

    def close(self) -> None:
        self.closed = True
        self._end_fit()
        with self._frame_ready:
            self._frame_ready.notify_all()


class SessionManager:
    """The sessions of a server: one per tab, freed after ``idle_timeout`` seconds without a request."""

    def __init__(self, max_sessions: int = 16, idle_timeout: float = 600.0) -> None:
        self.max_sessions, self.idle_timeout = max_sessions, idle_timeout
        self.sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, config: dict | None = None, csv_text: str | None = None) -> Session:
        self.reap()
        with self._lock:
            if len(self.sessions) >= self.max_sessions:
                raise SessionError(
                    f"The server already runs {self.max_sessions} playground sessions (its limit); close "
                    "another tab or wait for an idle one to be freed."
                )
        session = Session(secrets.token_hex(8), config, csv_text)
        with self._lock:
            self.sessions[session.id] = session
        return session

    def get(self, session_id: str) -> Session:
        with self._lock:
            session = self.sessions.get(session_id)
        if session is None:
            raise KeyError(session_id)
        session.last_seen = time.monotonic()
        return session

    def close(self, session_id: str) -> None:
        """Free one session now (its tab was closed)."""
        with self._lock:
            session = self.sessions.pop(session_id, None)
        if session is not None:
            session.close()

    def reap(self) -> list[str]:
        """Close and forget sessions idle for longer than ``idle_timeout``; returns their ids."""
        now = time.monotonic()
        with self._lock:
            idle = [s for s in self.sessions.values() if now - s.last_seen > self.idle_timeout]
            for session in idle:
                del self.sessions[session.id]
        for session in idle:
            session.close()
        return [s.id for s in idle]

    def close_all(self) -> None:
        with self._lock:
            sessions, self.sessions = list(self.sessions.values()), {}
        for session in sessions:
            session.close()
