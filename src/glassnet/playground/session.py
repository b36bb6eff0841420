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

import copy
import json
import secrets
import threading
import time

import numpy as np

from glassnet.exceptions import TrainingDivergedError
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
from glassnet.playground.lesson import LessonRecorder, lesson_html
from glassnet.playground.rundata import load_run_data
from glassnet.playground.stepping import ENDLESS, PausePoints
from glassnet.trace import trace_step

__all__ = ["Session", "SessionManager", "SessionError"]

MAX_ADDED = 1000  # training points a session may add by clicks
GRADCHECK_PARAMS = 5_000  # central differences take 2 forward passes per parameter


class SessionError(ValueError):
    """A request this session cannot serve (the message says why)."""


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


class _Stopped(Exception):
    """Raised at a pause point to end the session's fit (a reset, new settings, the tab closed)."""


class _SessionHooks(PausePoints):
    """The session's callback on its Trainer: after each step the counters, before each the wait."""

    def __init__(self, session: Session) -> None:
        super().__init__(len(session.X_train))
        self.session = session

    def after_step(self, trainer, logs: dict) -> None:
        self.session._after_step(logs)

    def pause_point(self, trainer) -> None:
        self.session._pause_point()


class Session:
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
                self.standardize = run.standardize
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
            self.hooks = _SessionHooks(self)
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

    # --- training: one Trainer.fit in a thread, held at pause points (glassnet.playground.stepping) ----------

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

    def set_weight(self, layer, row, col, value) -> str:
        """Set one weight by hand (the page's click on an edge): ``W[row, col]`` of the ``layer``-th Dense
        layer (0-based). Training goes on from it; the curves mark it and copy-as-Python repeats it."""
        dense = [i for i, lay in enumerate(self.net.layers) if type(lay).__name__ == "Dense"]
        if not (isinstance(layer, int) and 0 <= layer < len(dense)):
            raise SessionError(f"layer must be a Dense layer's number, 0 to {len(dense) - 1}; got {layer!r}.")
        W = self.net.layers[dense[layer]].params["W"]
        if not (
            isinstance(row, int) and isinstance(col, int) and 0 <= row < W.shape[0] and 0 <= col < W.shape[1]
        ):
            raise SessionError(
                f"That layer's W is {W.shape[0]}x{W.shape[1]}; got row {row!r}, column {col!r}."
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not abs(value) <= 100:
            raise SessionError(f"A weight must be a number in [-100, 100]; got {value!r}.")
        was_playing = self.playing
        self._end_fit()  # the next fit starts from the new weight, as the script's next fit_steps does
        with self.lock:
            W[row, col] = value
            self.phases.append((self.config, self.steps, ("weight", dense[layer], row, col, float(value))))
            text = f"W[{row}, {col}] of layers.{dense[layer]} set to {float(value):g}"
            self.marks.append({"epoch": round(fractional_epoch(self), 4), "step": self.steps, "text": text})
            self.diverged = False
            self._publish()
        if was_playing:
            self.play(self.steps_per_frame)
        return f"{text} at step {self.steps}: training goes on from it."

    def add_point(self, x, y, label) -> str:
        """Add a training point (the page's click on the plane), weights kept: the next fit trains on it; the
        curves mark it and copy-as-Python adds it too. A reset makes the data anew, without it."""
        for name, value in (("x", x), ("y", y)):
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not abs(value) <= self.domain
            ):
                raise SessionError(
                    f"{name} must be a number in [-{self.domain}, {self.domain}]; got {value!r}."
                )
        if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < self.n_classes:
            raise SessionError(f"label must be a class number, 0 to {self.n_classes - 1}; got {label!r}.")
        if self.added >= MAX_ADDED:
            raise SessionError(
                f"{MAX_ADDED} points added already: the limit. Reset to start from the data set again."
            )
        was_playing = self.playing
        self._end_fit()  # the next fit draws its batches from the data with the point
        with self.lock:
            point = np.array([[x, y]], dtype=self.X_train.dtype)
            self.points_train = np.vstack([self.points_train, point])  # (n, 2) + (1, 2) -> (n + 1, 2)
            self.X_train = np.vstack([self.X_train, add_features(point, self.config["features"])])
            self.y_train = np.append(self.y_train, np.asarray(label, dtype=self.y_train.dtype))
            self.hooks.n_rows, self.added = len(self.X_train), self.added + 1
            x32, y32 = (float(v) for v in point[0])
            self.phases.append((self.config, self.steps, ("point", x32, y32, int(label))))
            text = f"a point of class {self.class_names[label]} added at ({x32:.3g}, {y32:.3g})"
            self.marks.append({"epoch": round(fractional_epoch(self), 4), "step": self.steps, "text": text})
            self.diverged = False
            self._publish()
        if was_playing:
            self.play(self.steps_per_frame)
        return f"{text.capitalize()} at step {self.steps}; the network trains on from its weights."

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
