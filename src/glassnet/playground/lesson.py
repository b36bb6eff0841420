"""A lesson a teacher can hand out: one self-contained HTML file that replays a session's real run.

While a session trains, :class:`LessonRecorder` keeps a bounded film of its frames (the decision map, each
neuron's map, the weights, the scores; at most :data:`MAX_FRAMES`, thinned evenly as the run grows) and the
step-through of the steps the student traced (at most :data:`MAX_TRACES`). :func:`lesson_html` writes them,
with the settings, the run's curves and marks, the copy-as-Python script and the teacher's note, into one
HTML page: the film zlib-compressed and base64-encoded in the page, its viewer
(``static/lesson.js``, ``static/lesson.css``) inlined. The page needs no server, no network and no library:
it opens from ``file://`` or any static host, on a phone too (the browser's own ``DecompressionStream``
unpacks the film). A lesson of a few hundred epochs of a 2-8-8-2 network is about 300 KB.
"""

from __future__ import annotations

import base64
import datetime
import html
import json
import zlib
from importlib import resources

import numpy as np

__all__ = ["LessonRecorder", "MAX_FRAMES", "MAX_TRACES", "lesson_html"]

MAX_FRAMES = 120  # frames in a lesson's film: every other one goes when it is full, so the film spans the run
LEVELS = 16  # shades kept of each map's bytes: what a tile a few dozen pixels wide shows, and it packs well
MAX_TRACES = 5  # the last traced steps kept for the lesson's step-through
_FRAME_KEYS = ("step", "epoch", "lr", "train_loss", "test_loss", "train_acc", "test_acc", "grid", "neurons",
               "weights", "biases")  # fmt: skip
_TRACE_KEYS = ("step", "rows", "batch_size", "loss", "data_loss", "penalty", "lr", "loss_kind", "labels", "proba",
               "logits", "grad_logits", "loss_formula_html")  # fmt: skip


class LessonRecorder:
    """The film and the traced steps of one session's run (call under the session's lock)."""

    def __init__(self) -> None:
        self.frames: list[dict] = []
        self.traces: list[dict] = []
        self._every, self._seen = 1, 0  # keep one frame in ``_every`` of the ``_seen`` offered
        self._latest: dict | None = None

    def record(self, frame: dict) -> None:
        """Keep ``frame`` (a :func:`~glassnet.playground.frames.draw_frame` dict) if the run moved on since the
        last kept one and it falls on the film's current spacing."""
        if self.frames and frame["step"] == self.frames[-1]["step"]:
            return
        self._latest = frame
        index, self._seen = self._seen, self._seen + 1
        if index % self._every:  # the film keeps frames 0, every, 2 every, ... of those offered
            return
        self.frames.append(_compact(frame))
        if len(self.frames) > MAX_FRAMES:  # thin evenly: every other frame, and keep half as many from now on
            self.frames = self.frames[::2]
            self._every *= 2

    def film(self) -> list[dict]:
        """The kept frames, and the latest one offered if thinning passed it over: the film ends where the
        run is."""
        if self._latest is not None and (not self.frames or self.frames[-1]["step"] != self._latest["step"]):
            return [*self.frames, _compact(self._latest)]
        return list(self.frames)

    def record_trace(self, trace: dict) -> None:
        """Keep a traced step's numbers (the arrays and formulas, not the source code)."""
        layers = [
            {
                k: layer[k]
                for k in ("name", "kind", "input", "output", "grad_output", "grads", "params_before")
            }
            | {"summary_html": layer["formula"]["summary_html"]}
            for layer in trace["layers"]
        ]
        self.traces = [*self.traces, {k: trace.get(k) for k in _TRACE_KEYS} | {"layers": layers}][
            -MAX_TRACES:
        ]

    def clear(self) -> None:
        self.__init__()


def _compact(frame: dict) -> dict:
    """What the lesson keeps of a frame: maps in fewer shades, each neuron's at half the resolution."""
    kept = {key: frame[key] for key in _FRAME_KEYS}
    shade = "value" if "value" in frame["grid"] else "conf"  # a regression's values, or a class's confidence
    kept["grid"] = {**frame["grid"], shade: _coarse(frame["grid"][shade])}
    if frame["neurons"]:
        n = frame["neurons"]["n"]
        maps = [[_coarse(m, n) for m in layer] for layer in frame["neurons"]["maps"]]
        kept["neurons"] = {"n": n // 2, "maps": maps}
    return kept


def _coarse(b64: str, side: int | None = None) -> str:
    """Bytes (base64) in :data:`LEVELS` shades; with ``side``, a square map averaged over 2x2 cells."""
    values = np.frombuffer(base64.b64decode(b64), np.uint8).astype(np.float64)
    if side is not None:
        half = side // 2
        # (side, side) -> (half, 2, half, 2) -> mean over each 2x2 block -> (half, half)
        values = (
            values.reshape(side, side)[: 2 * half, : 2 * half].reshape(half, 2, half, 2).mean(axis=(1, 3))
        )
    step = 256 // LEVELS
    coarse = np.clip(np.round(values.ravel() / step) * step, 0, 255).astype(np.uint8)
    return base64.b64encode(coarse.tobytes()).decode()


def _static(name: str) -> str:
    return (resources.files("glassnet.playground") / "static" / name).read_text(encoding="utf-8")


def lesson_html(session, note: str = "") -> str:
    """The lesson of ``session``'s run as one HTML page (call under ``session.lock``)."""
    from glassnet import __version__
    from glassnet.playground.export import session_state

    state = session_state(session)
    data = {
        "note": note,
        "created": datetime.date.today().isoformat(),
        "version": __version__,
        "config": session.config,
        "class_names": session.class_names,
        "task": session.task,
        "value_range": session.value_range,
        "domain": session.domain,
        "train": state["train"],
        "test": state["test"],
        "layout": state["layout"],
        "layers": state["layers"],
        "frames": session.lesson.film(),
        "traces": session.lesson.traces,
        "curves": session.curves,
        "marks": session.marks,
        "python": session.python(),
    }
    packed = base64.b64encode(zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 9)).decode()
    title = f"glassnet lesson: {session.config['dataset']}, {len(data['frames'])} frames"
    page = _static("lesson.html")
    for marker, value in (
        ("/*LESSON_CSS*/", _static("lesson.css")),
        ("/*LESSON_JS*/", _static("lesson.js").replace("</", "<\\/")),
        ("LESSON_TITLE", html.escape(title)),
        ("LESSON_NOTE", html.escape(note) or "—"),
        ("LESSON_DATA", packed),  # base64: nothing in it can end the <script> element
    ):
        page = page.replace(marker, value, 1)
    return page
