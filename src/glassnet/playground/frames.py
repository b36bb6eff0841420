"""A playground frame: what the page draws of a :class:`~glassnet.playground.session.Session` at one moment.

The decision regions (a regression: the predicted value) on a grid, each hidden neuron's output on a smaller grid, the "hidden space" view, the
weights, the loss and accuracy curves and the step counters, as one JSON-ready dict (:func:`draw_frame`).
The functions here read the session's network and data; only :func:`draw_frame` updates the session (its
curves and its steps-per-second marks), and the caller holds ``session.lock``.
"""

from __future__ import annotations

import base64
import math
import time

import numpy as np

from glassnet.nn.trace import hidden_activations

__all__ = ["draw_frame", "check_warp", "fractional_epoch", "grid_points", "stall_hint", "warp_lines"]

#: a run has stalled when its training loss fell by less than STALL_GAIN over the last STALL_EPOCHS epochs
STALL_EPOCHS, STALL_GAIN = 20, 0.01

GRID = 48  # cells per side of the decision-region heatmap
NEURON_GRID = 20  # cells per side of each neuron's small map
MAX_NEURON_MAPS = 160  # hidden units drawn as maps; larger networks show edges only
MAX_WEIGHTS = 20_000  # weights sent per frame; larger networks send none
WARP_LINES, WARP_POINTS = 13, 40  # the grid drawn in the hidden-space view
MAX_CURVE = 400  # points per curve; older points are thinned when it fills


def warp_lines(domain: float) -> np.ndarray:
    """``WARP_LINES`` horizontal then as many vertical lines across the plane, ``WARP_POINTS`` points each."""
    ticks = np.linspace(-domain, domain, WARP_LINES)
    along = np.linspace(-domain, domain, WARP_POINTS)
    horizontal = [np.column_stack([along, np.full(WARP_POINTS, t)]) for t in ticks]
    vertical = [np.column_stack([np.full(WARP_POINTS, t), along]) for t in ticks]
    return np.concatenate(horizontal + vertical).astype(np.float32)


def grid_points(domain: float, n: int) -> np.ndarray:
    """Cell centres of an ``n`` x ``n`` grid over ``[-domain, domain]^2``, row 0 at the top (largest x2)."""
    ticks = (np.arange(n) + 0.5) / n * 2 * domain - domain
    x1, x2 = np.meshgrid(ticks, ticks[::-1])
    return np.column_stack([x1.ravel(), x2.ravel()]).astype(np.float32)


def _b64(values: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype=np.uint8).tobytes()).decode("ascii")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _scores(net, X: np.ndarray, y: np.ndarray, task: str = "classification") -> tuple[float, float]:
    r"""Loss (NaN once the outputs are not finite) and score of ``net`` on ``(X, y)``: the accuracy, or for a
    regression :math:`R^2 = 1 - \sum_n (y_n - \hat y_n)^2 / \sum_n (y_n - \bar y)^2`."""
    with np.errstate(over="ignore", invalid="ignore"):
        z = net.forward(X)
        finite = bool(np.all(np.isfinite(z)))
        loss = float(net.loss.forward(z, y)) if finite else float("nan")
        if task != "regression":
            return loss, float(np.mean(np.argmax(z, axis=1) == y))
        if not finite:
            return loss, float("nan")
        y64 = y.astype(np.float64)
        residual = np.sum((y64 - z[:, 0]) ** 2)  # (N,) - (N,) -> a number
        total = np.sum((y64 - y64.mean()) ** 2)
    return loss, float(1.0 - residual / total) if total > 0 else float("nan")


def _steps_per_second(session) -> float:
    """Training steps per second over the last second (0 while paused); updates ``session.rate_marks``."""
    now = time.perf_counter()
    session.rate_marks = [(t, s) for t, s in session.rate_marks if now - t < 1.0] + [(now, session.steps)]
    t0, s0 = session.rate_marks[0]
    return (session.steps - s0) / (now - t0) if now - t0 > 0.05 and session.playing else 0.0


def fractional_epoch(session) -> float:
    """Epochs done, with the current epoch's share of the training points taken so far."""
    if session.order is None:
        return session.epoch
    n = len(session.X_train)
    return session.epoch + min(session.position, n) / n


def _add_curve_point(curves: dict, values: tuple) -> None:
    """Append one point per curve (5 significant digits, ``None`` if not finite) unless its epoch is
    already the last; halve every curve once it is longer than ``MAX_CURVE``."""
    epoch = values[0]
    if curves["epoch"] and curves["epoch"][-1] == epoch:
        return
    for key, value in zip(curves, values, strict=True):
        curves[key].append(float(f"{value:.5g}") if math.isfinite(value) else None)
    if len(curves["epoch"]) > MAX_CURVE:
        for key in curves:
            curves[key] = curves[key][::2]


def stall_hint(curves: dict, config: dict, score: str = "accuracy") -> str | None:
    """What to try when training has stalled short of the training points (``None`` while it still learns).

    Stalled: after :data:`STALL_EPOCHS` epochs at least, the best training loss of the last
    :data:`STALL_EPOCHS` epochs is within :data:`STALL_GAIN` (relative) of the best before them, and the
    training ``score`` (accuracy, or R² for a regression) is below 0.95."""
    epochs, losses, accuracy = curves["epoch"], curves["train_loss"], curves["train_acc"]
    if not epochs or epochs[-1] < 2 * STALL_EPOCHS or accuracy[-1] is None or accuracy[-1] >= 0.95:
        return None
    cut = next(i for i, e in enumerate(epochs) if e >= epochs[-1] - STALL_EPOCHS)
    before = [v for v in losses[:cut] if v is not None]
    recent = [v for v in losses[cut:] if v is not None]
    if not before or not recent or min(recent) < (1 - STALL_GAIN) * min(before):
        return None
    widths = [spec["units"] for spec in config["layers"]]
    tips = []
    if not widths or max(widths) < 16 or len(widths) < 2:
        tips.append("more units or another hidden layer (3-arm spirals need about two layers of 16)")
    if config["optimizer"] == "sgd" and config["lr"] < 0.3:
        tips.append("a larger learning rate, or Adam")
    elif config["lr"] < 0.01:
        tips.append("a larger learning rate")
    if any(spec["activation"] == "relu" for spec in config["layers"]):
        tips.append("tanh or leaky ReLU if many ReLU units are dead (flat in their maps)")
    if config["alpha"] > 0.01 or any(spec["dropout"] > 0.3 for spec in config["layers"]):
        tips.append("less L2 or dropout, which hold the network back")
    tips = tips or ["a wider network", "another learning rate", "another seed (new weights)"]
    return (
        f"Training has stalled: the training loss has not fallen by {STALL_GAIN:.0%} in the last {STALL_EPOCHS} "
        f"epochs, at training {score} {accuracy[-1]:.2f}. Try {'; '.join(tips)}."
    )


def _decision_grid(net, grid: np.ndarray, n_classes: int) -> dict:
    """Each grid cell's predicted class and its confidence (0 at chance, 255 at certainty), base64 bytes."""
    with np.errstate(over="ignore", invalid="ignore"):
        proba = net.predict_proba(grid)
    finite = np.all(np.isfinite(proba), axis=1)
    proba = np.where(finite[:, None], proba, 1.0 / n_classes)
    k = n_classes
    confidence = (np.max(proba, axis=1) - 1.0 / k) / (1.0 - 1.0 / k)
    return {
        "n": GRID,
        "cls": _b64(np.argmax(proba, axis=1)),
        "conf": _b64(np.clip(confidence * 255.0 + 0.5, 0, 255)),
    }


def _value_grid(net, grid: np.ndarray, low: float, high: float) -> dict:
    """Each grid cell's predicted value as a byte: 0 at ``low``, 255 at ``high`` (the training values'
    range, so that the map and the points share one colour scale), clipped beyond them."""
    with np.errstate(over="ignore", invalid="ignore"):
        value = net.forward(grid)[:, 0].astype(np.float64)  # (G*G, 1) -> (G*G,)
    value = np.where(np.isfinite(value), value, (low + high) / 2)
    scaled = (value - low) / (high - low) if high > low else np.full_like(value, 0.5)
    return {"n": GRID, "value": _b64(np.clip(scaled * 255.0 + 0.5, 0, 255)), "low": low, "high": high}


def _hidden_widths(session) -> list[int]:
    return [spec["units"] for spec in session.config["layers"]]


def _neuron_maps(session) -> dict | None:
    """Each hidden unit's output on the small grid, scaled per unit to bytes; ``None`` for wide networks."""
    widths = _hidden_widths(session)
    if not widths or sum(widths) > MAX_NEURON_MAPS:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        layers = hidden_activations(session.net, session.neuron_grid)
    maps = []
    for a in layers:
        a = np.where(np.isfinite(a), a, 0.0)
        scale = np.maximum(np.max(np.abs(a), axis=0), 1e-6)  # per neuron, so each map uses the colours
        maps.append([_b64(np.clip(a[:, j] / scale[j] * 127.5 + 128.0, 0, 255)) for j in range(a.shape[1])])
    return {"n": NEURON_GRID, "maps": maps}


def check_warp(widths: list[int], layer, units) -> str | None:
    """Why ``layer`` (0-based) and ``units`` cannot be plotted in the "hidden space" view, or ``None`` when
    ``layer`` is a hidden layer of at least 2 units and ``units`` two different units of it."""
    if not isinstance(layer, int) or not 0 <= layer < len(widths) or widths[layer] < 2:
        return f"Hidden layer {layer!r} cannot be plotted: choose a hidden layer of at least 2 units."
    if (not isinstance(units, list) or len(units) != 2 or units[0] == units[1]
            or not all(isinstance(u, int) and 0 <= u < widths[layer] for u in units)):  # fmt: skip
        return f"Choose two different units of hidden layer {layer + 1} (1..{widths[layer]})."
    return None


def _warp(session) -> dict | None:
    """The plane as one hidden layer sees it: a grid of lines and the training points, mapped through
    the network to two of that layer's units (ConvNetJS's hidden-space view)."""
    widths = _hidden_widths(session)
    candidates = [i for i, w in enumerate(widths) if w >= 2]
    if not candidates or sum(widths) > MAX_NEURON_MAPS:
        return None
    layer = session.warp_layer if session.warp_layer in candidates else candidates[-1]
    units = list(session.warp_units) if max(session.warp_units) < widths[layer] else [0, 1]
    X = np.concatenate([session.warp_lines, session.X_train])
    with np.errstate(over="ignore", invalid="ignore"):
        a = hidden_activations(session.net, X)[layer][:, units].astype(np.float64)
    a = np.where(np.isfinite(a), a, 0.0)
    n = len(session.warp_lines)
    return {"layer": layer, "units": units, "lines": np.round(a[:n], 4).tolist(),
            "points_per_line": WARP_POINTS, "points": np.round(a[n:], 4).tolist()}  # fmt: skip


def _weights(net, name: str) -> list | None:
    """Every Dense layer's ``W`` (or ``b``), rounded for the page; ``None`` for large networks."""
    dense = [layer for layer in net.layers if "W" in layer.params]
    if sum(layer.params["W"].size for layer in dense) > MAX_WEIGHTS:
        return None
    out = []
    for layer in dense:
        value = np.nan_to_num(layer.params[name], nan=0.0, posinf=0.0, neginf=0.0)
        out.append(np.round(value.astype(np.float64), 4).tolist())
    return out


def draw_frame(session) -> dict:
    """The frame of the session's current state as a JSON-ready dict (call under ``session.lock``).

    Puts the network in eval mode, adds a point to ``session.curves`` when the epoch moved on, and
    updates ``session.rate_marks``."""
    net = session.net
    net.eval()
    rate = _steps_per_second(session)
    train_loss, train_acc = _scores(net, session.X_train, session.y_train, session.task)
    test_loss, test_acc = _scores(net, session.X_test, session.y_test, session.task)
    epoch = fractional_epoch(session)
    values = (epoch, train_loss, test_loss, train_acc, test_acc, session.schedule.lr)
    _add_curve_point(session.curves, values)
    if session.task == "regression":
        grid = _value_grid(net, session.grid, *session.value_range)
    else:
        grid = _decision_grid(net, session.grid, session.n_classes)
    return {
        "type": "frame",
        "step": session.steps,
        "epoch": round(epoch, 4),
        "epochs_done": session.epoch,
        "steps_per_s": round(rate, 1),
        "lr": session.schedule.lr,
        "playing": session.playing,
        "message": session.message,
        "hint": stall_hint(
            session.curves, session.config, "R²" if session.task == "regression" else "accuracy"
        ),
        "train_loss": _finite(train_loss),
        "test_loss": _finite(test_loss),
        "train_acc": _finite(train_acc),  # the accuracy, or R² for a regression
        "test_acc": _finite(test_acc),
        "curves": session.curves,
        "marks": session.marks,  # settings changed while training: where on the curves, and what
        "grid": grid,
        "neurons": _neuron_maps(session),
        "warp": _warp(session),
        "weights": _weights(net, "W"),
        "biases": _weights(net, "b"),
    }
