"""A training callback that writes TensorBoard event files: every epoch's scalars and the weights' histograms.

TensorBoard reads a folder of *event files*, each a sequence of ``Event`` protocol buffers; an event holds
a step, a wall time and a ``Summary``, a list of tagged values. This callback writes two kinds:

- **scalars**: every entry of the epoch's ``logs`` (``loss``, ``val_loss``, ``val_score``, ``lr``, ``time``
  and whatever other callbacks add, such as :class:`~glassnet.callbacks.EpochScoring`'s scores), tagged by
  its name;
- **histograms** of every parameter and buffer by dotted name (``layers.0.W``, ``layers.1.running_mean``),
  every ``histogram_freq`` epochs: ``bins`` buckets between the array's minimum and maximum, with its count,
  sum and sum of squares (TensorBoard's ``HistogramProto``).

The step of an epoch is the number of epochs this callback has seen, counted across fits: pass the same
callback to each ``partial_fit`` (or warm-started ``fit``) and the curves continue. The event files are
written with TensorBoard's own writer (``tensorboard`` is the only package needed, not TensorFlow): ``pip
install 'glassnet[tensorboard]'``, then ``tensorboard --logdir runs``.

>>> from glassnet.integrations import TensorBoard                       # doctest: +SKIP
>>> MLPClassifier().fit(X, y, callbacks=[TensorBoard("runs/mlp")])      # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np

from glassnet.training.callbacks import Callback

__all__ = ["TensorBoard"]


def _require_tensorboard():
    """TensorBoard's writer and protocol buffers; a clear error if the package is missing."""
    try:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError:
        raise ImportError(
            "the TensorBoard callback needs the tensorboard package: pip install 'glassnet[tensorboard]'"
        ) from None
    return EventFileWriter, Event, Summary, HistogramProto


def histogram(values: np.ndarray, bins: int = 30) -> dict:
    r"""The fields of a TensorBoard histogram of ``values``.

    ``bucket[i]`` counts the values in ``(bucket_limit[i-1], bucket_limit[i]]`` (the first bucket starts at
    ``min``), as TensorBoard draws them; ``sum`` and ``sum_squares`` give the mean
    :math:`\bar x = \sum x / n` and the variance :math:`\sum x^2 / n - \bar x^2`. Non-finite values are
    left out of the buckets (a histogram of a diverged array stays drawable).
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    if x.size == 0:
        return {"min": 0.0, "max": 0.0, "num": 0.0, "sum": 0.0, "sum_squares": 0.0,
                "bucket_limit": [0.0], "bucket": [0.0]}  # fmt: skip
    lo, hi = float(x.min()), float(x.max())
    if lo == hi:  # a constant array (a fresh bias): one bucket
        counts, edges = np.array([x.size]), np.array([lo, hi])
    else:
        counts, edges = np.histogram(x, bins=bins, range=(lo, hi))
    return {
        "min": lo,
        "max": hi,
        "num": float(x.size),
        "sum": float(x.sum()),
        "sum_squares": float(np.dot(x, x)),
        "bucket_limit": [float(e) for e in edges[1:]],  # each bucket's right edge
        "bucket": [float(c) for c in counts],
    }


class TensorBoard(Callback):
    """Write each epoch's scalars and the weights' histograms as TensorBoard event files.

    Works with :class:`~glassnet.training.Trainer` (``Trainer(..., callbacks=[TensorBoard("runs/a")])``)
    and with the estimators (``MLPClassifier().fit(X, y, callbacks=[TensorBoard("runs/a")])``).

    Parameters
    ----------
    log_dir : str or path-like
        Folder for the event files (created if missing); point ``tensorboard --logdir`` at it or its parent.
    histogram_freq : int
        Write the histograms every this many epochs (and after the last); ``0``: never.
    bins : int
        Buckets per histogram.
    flush_secs : float
        How often the writer's background thread flushes to disk; the file is always flushed and closed
        when training ends.

    Attributes
    ----------
    step : int
        Epochs seen so far, across fits: the step of the last written epoch.
    """

    def __init__(self, log_dir, histogram_freq: int = 1, bins: int = 30, flush_secs: float = 10.0) -> None:
        if (
            isinstance(histogram_freq, bool)
            or not isinstance(histogram_freq, (int, np.integer))
            or histogram_freq < 0
        ):
            raise ValueError(f"histogram_freq must be a non-negative integer; got {histogram_freq!r}.")
        if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
            raise ValueError(f"bins must be a positive integer; got {bins!r}.")
        if not isinstance(flush_secs, (int, float)) or not math.isfinite(flush_secs) or flush_secs <= 0:
            raise ValueError(f"flush_secs must be a positive number of seconds; got {flush_secs!r}.")
        self._classes = _require_tensorboard()  # a missing package is reported now, before any training
        self.log_dir = Path(os.fspath(log_dir))
        self.histogram_freq, self.bins, self.flush_secs = int(histogram_freq), int(bins), float(flush_secs)
        self.step = 0
        self._writer = None
        self._histograms_at = None  # the step whose histograms were last written

    # --- the hooks -------------------------------------------------------------------------------------------

    def on_train_begin(self, trainer) -> None:
        EventFileWriter = self._classes[0]
        if self.log_dir.exists() and not self.log_dir.is_dir():
            raise NotADirectoryError(f"TensorBoard log_dir {self.log_dir} exists and is not a folder")
        self.log_dir.mkdir(parents=True, exist_ok=True)  # an unwritable folder is reported before training
        self._writer = EventFileWriter(str(self.log_dir), flush_secs=self.flush_secs)

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        self.step += 1
        self.write_scalars(logs, self.step)
        if self.histogram_freq and self.step % self.histogram_freq == 0:
            self.write_histograms(trainer.net, self.step)

    def on_train_end(self, trainer, history) -> None:
        if self._writer is None:
            return
        # the last epoch's weights, if the frequency skipped them (early stopping may have restored others:
        # those are the ones the fit returns, so they are the ones shown)
        if self.histogram_freq and self.step and self._histograms_at != self.step:
            self.write_histograms(trainer.net, self.step)
        self._writer.close()
        self._writer = None

    # --- writing ---------------------------------------------------------------------------------------------

    def _add(self, values: list, step: int) -> None:
        _, Event, Summary, _ = self._classes
        self._writer.add_event(Event(wall_time=time.time(), step=int(step), summary=Summary(value=values)))

    def write_scalars(self, logs: dict, step: int) -> None:
        """One event with a scalar per numeric entry of ``logs`` (others, such as strings, are skipped)."""
        Summary = self._classes[2]
        values = []
        for name, value in logs.items():
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
                continue
            values.append(Summary.Value(tag=str(name), simple_value=float(value)))
        if values:
            self._add(values, step)

    def write_histograms(self, net, step: int) -> None:
        """One event with a histogram of every parameter and buffer of ``net``, by dotted name."""
        Summary, HistogramProto = self._classes[2], self._classes[3]
        arrays = {**net.parameters(), **net.buffers()}
        values = [
            Summary.Value(tag=name, histo=HistogramProto(**histogram(array, self.bins)))
            for name, array in arrays.items()
        ]
        self._add(values, step)
        self._histograms_at = step
