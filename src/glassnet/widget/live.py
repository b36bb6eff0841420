r"""``LiveFit``: a callback that shows a fit live in a notebook cell (JupyterLab, VS Code, Colab).

It draws what a student wants to watch while a network learns: the epoch, the loss and score curves, the
decision map when the inputs are 2-D, and the first layer's weights as pictures when the inputs are images.

Epochs, not batches. LiveFit has no ``on_batch_end``: a callback that hooks batches makes the Trainer run its
Python loop instead of the compiled epoch (:mod:`glassnet.training.compiled`), which for a small network is
about three times slower; watching must not change how the fit runs.

Throttling. After each epoch the callback returns at once (one clock read) unless an update is due. An update
costs time :math:`c` (the map is one forward pass over ``R * R`` grid points; sending is a few kilobytes),
and the next one is due after

.. math:: \Delta t = \max\left(\frac{1}{\text{max_rate}}, \frac{c}{\text{budget}}\right),

so there are at most ``max_rate`` updates a second and they take at most about ``budget`` of the fit's time
(1 % by default) however slow the network or the machine, plus the first and the last update, which are
always sent. ``benchmarks/widget_overhead.py`` measures it in a Jupyter kernel: 1.3 to 1.8 % of a fit inside
LiveFit's hooks, 2 to 6 % more CPU time for the kernel, on a busy 2-core machine.
"""

from __future__ import annotations

import math
import time

import numpy as np

from glassnet.training.callbacks import Callback
from glassnet.widget.payload import DecisionMap, curve, first_dense_weights, image_shape_for, weight_tiles
from glassnet.widget.view import FitWidget

#: History records that are not curves worth watching
_NOT_CURVES = ("lr", "time", "grad_norm")


class LiveFit(Callback):
    """Show a fit live in a notebook: epoch, loss and score curves, decision map, first-layer weights.

    Pass it like any callback; it shows itself in the cell's output when the first fit begins::

        from glassnet.widget import LiveFit
        MLPClassifier(hidden_layer_sizes=(16, 16)).fit(X, y, callbacks=[LiveFit()])
        Trainer(net, Adam(0.01), callbacks=[LiveFit(data=(X, y))]).fit(X, y, epochs=50)

    Its curves continue across fits (``partial_fit`` calls, ``warm_start``): make a new ``LiveFit`` for a new
    picture. Outside a notebook it computes its updates and they go nowhere (no error, little time).

    Parameters
    ----------
    data : (X, y) or None
        Points for the decision map (2-D inputs), and the range it covers. Default: during an estimator's
        ``fit``, its validation rows (``eval_set`` or ``early_stopping``'s split); with a plain Trainer, its
        ``validation_data``; without any, the map is not drawn and the widget says how to get it.
    image_shape : 'auto', None or (height, width)
        When the first layer's weights are drawn as pictures: ``'auto'``, for square inputs of 8 x 8 or more
        (scikit-learn's digits, MNIST); a shape, for those images; ``None``, never.
    max_rate : float
        Updates a second at most (> 0; ``math.inf``: after every epoch, for tests).
    budget : float
        The fraction of the fit's time that updates may take, in (0, 1] (see the module docstring).
    map_resolution : int
        Cells along each side of the decision map (8 to 200).
    max_units : int
        First-layer units drawn as pictures (1 to 64).
    display : 'auto' or bool
        Show the widget when a fit begins, if it has not been shown: ``'auto'`` does in a notebook only.

    Attributes
    ----------
    widget : FitWidget
        The anywidget the browser draws; display it in another cell to watch from there too.
    updates : int
        Updates sent so far.
    """

    def __init__(
        self,
        data=None,
        *,
        image_shape="auto",
        max_rate: float = 10.0,
        budget: float = 0.01,
        map_resolution: int = 40,
        max_units: int = 16,
        display="auto",
    ) -> None:
        if data is not None and (not isinstance(data, tuple) or len(data) != 2):
            raise ValueError(f"data must be a tuple (X, y) or None; got {type(data).__name__}.")
        _check_number("max_rate", max_rate, low=0.0, high=math.inf, high_ok=True)
        _check_number("budget", budget, low=0.0, high=1.0, high_ok=True)
        _check_int("map_resolution", map_resolution, 8, 200)
        _check_int("max_units", max_units, 1, 64)
        if display not in ("auto", True, False):
            raise ValueError(f"display must be 'auto', True or False; got {display!r}.")
        if image_shape is not None and not isinstance(image_shape, (str, tuple, list)):
            raise ValueError(f"image_shape must be 'auto', None or (height, width); got {image_shape!r}.")
        self.data, self.image_shape = data, image_shape
        self.max_rate, self.budget = float(max_rate), float(budget)
        self.map_resolution, self.max_units, self.display = int(map_resolution), int(max_units), display
        self.widget = FitWidget()
        self.updates = 0
        self.records: dict[str, list[float]] = {}  # every epoch's logs, across fits
        self._shown = False
        self._map: DecisionMap | None = None
        self._image: tuple[int, int] | None = None
        self._epoch = 0
        self._next = 0.0  # perf_counter() time when the next update is due

    # --- the hooks the Trainer calls -----------------------------------------------------------------------

    def on_train_begin(self, trainer) -> None:
        net = trainer.net
        n_features = net.n_features_in
        self._image = None if n_features is None else image_shape_for(n_features, self.image_shape)
        self._map, note = None, ""
        if n_features == 2:
            X, y = self._map_data(trainer)
            if X is None:
                note = "Pass LiveFit(data=(X, y)) to see the decision map."
            else:
                self._map = DecisionMap(X, y, net.loss.task, self.map_resolution)
        widget = self.widget
        with widget.hold_sync():
            widget.title = _title(trainer)
            widget.status = "training"
            widget.note = note
            widget.map_title = (
                "output (blue low, orange high)" if net.loss.task == "regression" else "decision map"
            )
            widget.map_size = self.map_resolution if self._map is not None else 0
            widget.map_extent = self._map.extent if self._map is not None else [0.0, 1.0, 0.0, 1.0]
            widget.map_points = self._map.points if self._map is not None else []
            if self._map is None:
                widget.map_rgb = b""
            if self._image is None:
                widget.weights, widget.weights_shape = b"", [0, 0, 0]
        self._show()
        self._send(trainer)

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        self._epoch += 1
        for key, value in logs.items():
            if key not in _NOT_CURVES and isinstance(value, (int, float, np.floating, np.integer)):
                self.records.setdefault(key, []).append(float(value))
        if time.perf_counter() >= self._next:  # often not: one clock read an epoch
            self._send(trainer)

    def on_train_end(self, trainer, history) -> None:
        status = (
            "interrupted" if history.interrupted else "stopped early" if history.stopped_early else "done"
        )
        self._send(trainer, status=status)  # the final state, whatever the throttle says

    # --- updates ---------------------------------------------------------------------------------------------

    def _send(self, trainer, status: str | None = None) -> None:
        """Send the current state (and a new ``status``) to the browser in one message, and set when the next
        update is due."""
        start = time.perf_counter()
        net, widget = trainer.net, self.widget
        self.updates += 1
        with widget.hold_sync():
            if status is not None:
                widget.status = status  # with the final numbers: the page never shows "done" before them
            widget.epoch = self._epoch
            widget.curves = {name: curve(values) for name, values in self.records.items() if values}
            if self._map is not None:
                widget.map_rgb = self._map.render(net)
            W = first_dense_weights(net) if self._image is not None else None
            if W is not None:
                widget.weights = weight_tiles(W, self._image, self.max_units)
                widget.weights_shape = [min(len(W), self.max_units), *self._image]
            widget.updates = self.updates
        cost = time.perf_counter() - start
        self._next = start + max(1.0 / self.max_rate, cost / self.budget)

    def _map_data(self, trainer):
        """``(X, y)`` for the decision map: given, or the validation rows (an estimator's, or the Trainer's);
        ``(None, None)`` without any."""
        if self.data is not None:
            return self.data
        owner = getattr(trainer, "owner", None)  # an estimator's fit: glassnet.training.owner.TrainingOwner
        rows = None if owner is None else owner.validation_rows()
        if rows is not None:
            return rows[0], rows[2]  # (X_val, Y_val): the network's inputs and targets
        val = trainer.validation_data
        return (val[0], val[1]) if val is not None else (None, None)

    def _show(self) -> None:
        if self._shown or self.display is False:
            return
        if self.display == "auto" and not _in_notebook():
            return
        from IPython.display import display

        display(self.widget)
        self._shown = True

    def _repr_mimebundle_(self, **kwargs):
        """A LiveFit at the end of a cell shows its widget (and is not shown again when the fit begins)."""
        self._shown = True
        return self.widget._repr_mimebundle_(**kwargs)


# --- helpers -------------------------------------------------------------------------------------------------


def _title(trainer) -> str:
    """``MLPClassifier 2-16-16-3, softmax_cross_entropy`` (an estimator's fit) or ``network 2-16-16-3, ...`` (a
    plain Trainer): who is trained, the widths from input to output, and the loss."""
    net, owner = trainer.net, getattr(trainer, "owner", None)  # owner: glassnet.training.owner.TrainingOwner
    widths = [la.in_features for la in net.layers if getattr(la, "in_features", None) is not None]
    widths.append(net.n_outputs)
    shape = "-".join(str(w) for w in widths if w is not None)
    name = "network" if owner is None else type(owner.estimator()).__name__
    return f"{name} {shape}, {net.loss.name}"


def _in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (a notebook, VS Code, Colab), not a terminal or a script."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _check_number(name: str, value, low: float, high: float, high_ok: bool) -> None:
    ok = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
    if not ok or math.isnan(value) or not (low < value and (value <= high if high_ok else value < high)):
        bracket = "]" if high_ok else ")"
        raise ValueError(f"{name} must be a number in ({low}, {high}{bracket}; got {value!r}.")


def _check_int(name: str, value, low: int, high: int) -> None:
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not ok or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}]; got {value!r}.")
