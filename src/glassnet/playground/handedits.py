"""Changes a student makes by hand while the network trains: a weight set by a click on its edge, a training
point added by a click on the plane (TensorFlow Playground's habits).

Each ends the fit at its pause point, changes the network or the data, and lets the next fit go on from there:
the curves mark the change and copy-as-Python repeats it between its ``fit_steps`` calls, so the script
still ends with the same weights.
"""

from __future__ import annotations

import numpy as np

from glassnet.playground.datasets import add_features
from glassnet.playground.driving import SessionError
from glassnet.playground.frames import fractional_epoch

__all__ = ["MAX_ADDED", "HandEdits"]

MAX_ADDED = 1000  # training points a session may add by clicks


class HandEdits:
    """A mixin of :class:`~glassnet.playground.session.Session`: :meth:`set_weight` and :meth:`add_point`."""

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
        if self.task == "regression":
            raise SessionError(
                "Adding points by a click is for the classification problems (a click gives a class, not a "
                "value); choose one of them, or add rows to your CSV."
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
