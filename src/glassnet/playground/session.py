"""One browser tab's run: its data, network, optimizer, the training thread, and the frames it publishes.

The training thread takes steps for one frame interval (1/30 s by default), then draws a frame: the decision
regions on a grid, each hidden neuron's output on a smaller grid, the weights, the loss and accuracy curves
(:mod:`glassnet.playground.frames`).
Only the newest frame is kept (a page that draws slowly skips frames instead of queueing them); readers wait
on :meth:`Session.wait_frame`. Every change of the network happens under ``Session.lock``, so a request (step,
reset, new settings) and the training thread never interleave.
"""

from __future__ import annotations

import json
import math
import secrets
import threading
import time

import numpy as np

from glassnet.playground.build import build_network, build_optimizer, build_schedule, python_script
from glassnet.playground.export import model_file, session_state
from glassnet.playground.frames import GRID, NEURON_GRID, check_warp, draw_frame, grid_points, warp_lines
from glassnet.playground.rundata import load_run_data
from glassnet.trace import trace_step

__all__ = ["Session", "SessionManager", "SessionError"]

GRADCHECK_PARAMS = 5_000  # central differences take 2 forward passes per parameter


class SessionError(ValueError):
    """A request this session cannot serve (the message says why)."""


class Session:
    """A playground run. Create through :class:`SessionManager`; every public method is thread-safe."""

    def __init__(self, session_id: str, config: dict | None = None, csv_text: str | None = None) -> None:
        self.id = session_id
        self.lock = threading.RLock()
        self._frame_ready = threading.Condition()
        self.frame, self.version = None, 0
        self.playing, self.closed = False, False
        self.thread: threading.Thread | None = None
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

    def configure(self, config: dict, csv_text: str | None = None) -> None:
        """Validate new settings (and an uploaded CSV), make the data and reset; nothing changes on error."""
        run = load_run_data(config, csv_text if csv_text is not None else self.csv_text)
        was_playing = self.playing
        self.pause()  # outside the lock: the training thread needs it to finish its frame
        with self.lock:
            self.config = run.config
            if run.csv_text is not None:
                self.csv_text = run.csv_text
            self.X_train, self.y_train = run.X_train, run.y_train
            self.X_test, self.y_test = run.X_test, run.y_test
            self.n_classes, self.class_names, self.domain = run.n_classes, run.class_names, run.domain
            self.grid = grid_points(self.domain, GRID)
            self.neuron_grid = grid_points(self.domain, NEURON_GRID)
            self.warp_lines = warp_lines(self.domain)
            self.reset()
        if was_playing:
            self.play()

    def reset(self) -> None:
        """The same initial weights (the seed's), step 0, empty curves."""
        with self.lock:
            cfg = self.config
            self.net = build_network(cfg, self.n_classes)
            self.optimizer = build_optimizer(cfg)
            self.schedule = build_schedule(cfg, len(self.X_train))
            self.batches = np.random.default_rng(cfg["seed"] + 1)
            self.steps, self.epoch, self.order, self.position, self.epoch_losses = 0, 0, None, 0, []
            self.curves = {k: [] for k in ("epoch", "train_loss", "test_loss", "train_acc", "test_acc", "lr")}
            self.rate_marks: list[tuple[float, int]] = []
            self.message, self.last_batch = None, None
            self._publish()

    # --- training ----------------------------------------------------------------------------------------

    def _next_rows(self) -> np.ndarray:
        n = len(self.X_train)
        if self.order is None:
            self.order, self.position = self.batches.permutation(n), 0
        rows = self.order[self.position : self.position + self.config["batch_size"]]
        self.position += self.config["batch_size"]
        return rows

    def _step(self, trace: bool = False):
        """One optimizer step on the next batch; the same calls as the "copy as Python" script."""
        n, rows = len(self.X_train), self._next_rows()
        X, y = self.X_train[rows], self.y_train[rows]
        self.net.train()
        self.optimizer.lr = self.schedule.lr
        result = None
        with np.errstate(over="ignore", invalid="ignore"):  # a divergence is reported below, not warned
            if trace:
                result = trace_step(self.net, X, y, self.optimizer, alpha=self.config["alpha"], n_samples=n)
                loss = result.loss
            else:
                loss = self.net.loss_and_grad(X, y, alpha=self.config["alpha"], n_samples=n)
                self.optimizer.step(self.net)
        self.net.eval()
        self.schedule.on_batch_end(len(rows))
        self.steps += 1
        self.epoch_losses.append(float(loss))
        self.last_batch = rows
        if not math.isfinite(loss) or not np.all(np.isfinite(self.net.flat_params)):
            self.playing = False
            self.message = f"Training diverged at step {self.steps} (loss {loss}): lower the learning rate and press reset."
        if self.position >= n - 1:  # the epoch's last batch (every batch has at least 2 points)
            self.schedule.on_epoch_end(self.epoch, float(np.mean(self.epoch_losses)))
            self.epoch, self.order, self.epoch_losses = self.epoch + 1, None, []
            if self.schedule.done:
                self.playing = False
                self.message = "The adaptive schedule reached its smallest learning rate: training stopped."
        return result

    def play(self, steps_per_frame: int | None = None) -> None:
        with self.lock:
            self.steps_per_frame = steps_per_frame
            if self.playing or self.closed or self.message and "diverged" in self.message:
                return
            self.playing = True
            self.thread = threading.Thread(target=self._run, name=f"playground-{self.id[:6]}", daemon=True)
            self.thread.start()

    def pause(self) -> None:
        thread = self.thread
        self.playing = False
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self.thread = None
        if not self.closed and hasattr(self, "net"):
            with self.lock:
                self._publish()

    def _run(self) -> None:
        """Train until the next frame is due (less the time a frame takes to draw), draw it, repeat.

        A frame that costs more than half the interval (a wide network, many points, a busy machine) gets
        as much training time as it takes itself, so training never stalls behind the drawing."""
        try:
            self._train_frames()
        except Exception as exc:  # shown on the page; the server and the session keep running
            self.playing = False
            self.message = f"Training stopped: {type(exc).__name__}: {exc}"
            with self.lock:
                self._publish()

    def _train_frames(self) -> None:
        interval, frame_cost = 1.0 / self.max_fps, 0.0
        while self.playing and not self.closed:
            with self.lock:
                taken = 0
                stop_at = time.perf_counter() + max(interval - frame_cost, frame_cost)
                while self.playing and (
                    taken < self.steps_per_frame
                    if self.steps_per_frame
                    else taken == 0 or time.perf_counter() < stop_at
                ):
                    self._step()
                    taken += 1
                started = time.perf_counter()
                self._publish()
                frame_cost = 0.5 * frame_cost + 0.5 * (time.perf_counter() - started)
            if self.steps_per_frame:  # the slow speeds: one frame per interval
                time.sleep(max(interval - frame_cost, 0.0005))
            else:
                time.sleep(0.0005)  # let requests take the lock between frames

    def step(self, trace: bool = True) -> dict | None:
        """One step while paused; with ``trace`` the step's numbers as JSON for the "one batch" view."""
        from glassnet.playground.explain import trace_to_json

        self.pause()
        with self.lock:
            if self.message and "diverged" in self.message:
                raise SessionError(self.message)
            result = self._step(trace=trace)
            self._publish()
            if result is None:
                return None
            return trace_to_json(result, self.net, self.last_batch, self.steps)

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
        text = json.dumps(draw_frame(self), separators=(",", ":"), allow_nan=False)
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
            return python_script(self.config, self.n_classes, self.steps)

    def model_bytes(self) -> bytes:
        """The current network as a glassnet model file (``glassnet.io.save_model``)."""
        with self.lock:
            return model_file(self)

    def close(self) -> None:
        self.closed = True
        self.pause()
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
