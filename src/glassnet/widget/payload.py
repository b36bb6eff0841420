r"""What the notebook widget draws, computed from a network: small payloads, NumPy only.

Each function turns part of a fit into something a browser can draw cheaply, a few kilobytes at most:

=========================  ===========================================================================
:func:`curve`              a recorded curve, thinned to at most ``max_points`` points (every k-th, last kept)
:class:`DecisionMap`       the network's output on an ``R x R`` grid over 2-D inputs, as RGB bytes
:func:`weight_tiles`       the first Dense layer's weights of the first ``max_units`` units, as images
=========================  ===========================================================================

The colours are those of the playground (class ``k`` has ``PALETTE[k % 10]``). A decision map cell is the
colour :math:`\mathrm{rgb}_k` of its most probable class :math:`k`, mixed with white by the confidence :math:`c`:

.. math:: c = \frac{p_{\max} - 1/K}{1 - 1/K} \in [0, 1], \qquad
          \mathrm{cell} = \mathrm{white} + (\mathrm{rgb}_k - \mathrm{white})\,(0.1 + 0.45\,c),

pale where the classes tie and at most about half the colour where one class is certain, so that the data
points (drawn in full colour) show on it. A binary (sigmoid) head has :math:`K = 2` with
:math:`p = (1 - \sigma(z), \sigma(z))`; a regression head colours the output value on a blue-white-orange
scale (at 55 %), white at the middle of the range the map shows.
"""

from __future__ import annotations

import math

import numpy as np

#: the playground's class colours (static/app.js): class k is PALETTE[k % 10]
PALETTE = ("#2f74c0", "#e07b39", "#3a9d5d", "#8e5cc2", "#d1495b", "#b8860b", "#1f9e9e", "#c2185b", "#6d6d6d",
           "#7f5539")  # fmt: skip
_RGB = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in PALETTE], dtype=np.float64)  # (10, 3)
_WHITE = np.array([255.0, 255.0, 255.0])

#: the fraction of the data's range added on each side of a decision map
MARGIN = 0.1

#: a square input of at least this side (8 x 8, scikit-learn's digits) is taken for an image by "auto"
MIN_IMAGE_SIDE = 8


def curve(values, max_points: int = 400) -> dict:
    """``{"x": epochs (1-based), "y": values}`` thinned to at most ``max_points`` points; NaN and infinities
    become ``None`` (JSON has no NaN)."""
    n = len(values)
    step = max(1, math.ceil(n / max_points))
    index = list(range(0, n, step))
    if index and index[-1] != n - 1:
        index[-1] = n - 1  # the latest value is always shown
    y = [float(values[i]) for i in index]
    return {"x": [i + 1 for i in index], "y": [v if math.isfinite(v) else None for v in y]}


def image_shape_for(n_features: int, image_shape="auto") -> tuple[int, int] | None:
    """The (height, width) of input rows that are images, or None.

    ``"auto"``: a square of side at least :data:`MIN_IMAGE_SIDE` (64 features: 8 x 8, 784: 28 x 28);
    ``None``: never; a pair: that shape, which must hold ``n_features`` values.
    """
    if image_shape is None:
        return None
    if isinstance(image_shape, str):
        if image_shape != "auto":
            raise ValueError(f"image_shape must be 'auto', None or (height, width); got {image_shape!r}.")
        side = math.isqrt(int(n_features))
        return (side, side) if side * side == n_features and side >= MIN_IMAGE_SIDE else None
    shape = tuple(image_shape)
    ok = len(shape) == 2 and all(isinstance(s, (int, np.integer)) and s >= 1 for s in shape)
    if not ok or shape[0] * shape[1] != n_features:
        raise ValueError(
            f"image_shape must be (height, width) with height * width == {n_features} input features; "
            f"got {image_shape!r}."
        )
    return int(shape[0]), int(shape[1])


def first_dense_weights(net) -> np.ndarray | None:
    """``W`` of the network's first layer with a weight matrix, shape ``(out_features, in_features)``."""
    for layer in net.layers:
        W = layer.params.get("W") if isinstance(getattr(layer, "params", None), dict) else None
        if W is not None and W.ndim == 2:
            return W
    return None


def weight_tiles(W: np.ndarray, image_shape: tuple[int, int], max_units: int = 16) -> bytes:
    """The first ``max_units`` rows of ``W`` ``(units, H * W_img)`` as images, one byte a pixel.

    Each unit is scaled by its own largest magnitude ``m``: byte ``= round(127.5 + 127.5 w / m)``, so 128 is a
    zero weight, 255 the most positive and 0 the most negative. Returns ``units * H * W_img`` bytes, row-major
    (unit, row, column).
    """
    units = W[:max_units].astype(np.float64)  # (U, H*W)
    scale = np.max(np.abs(units), axis=1, keepdims=True)  # (U, 1)
    scale[scale == 0] = 1.0
    tiles = np.rint(127.5 + 127.5 * units / scale)  # (U, H*W) in [0, 255]
    return np.clip(tiles, 0, 255).astype(np.uint8).tobytes()


class DecisionMap:
    """The network's output over a grid covering 2-D inputs ``X``, coloured as in the module's docstring.

    Parameters
    ----------
    X : array of shape (N, 2)
        The inputs whose range (plus :data:`MARGIN` each side) the map covers.
    y : array of shape (N,) or (N, K), or None
        Their targets, to colour the points: class labels, one-hot rows, 0/1 indicators or values.
    task : {'multiclass', 'multilabel', 'regression'}
        The network's loss task (``net.loss.task``).
    resolution : int
        Cells along each side (``R``); the map is ``R * R * 3`` bytes.
    max_points : int
        At most this many points are drawn (every k-th row).
    """

    def __init__(self, X, y, task: str, resolution: int = 40, max_points: int = 300) -> None:
        X = np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float64)  # scipy.sparse too
        if X.ndim != 2 or X.shape[1] != 2 or len(X) == 0:
            raise ValueError(f"A decision map needs inputs of shape (N, 2); got {X.shape}.")
        if not np.all(np.isfinite(X)):
            raise ValueError(
                "The decision map's inputs contain NaN or infinite values; pass finite data=(X, y)."
            )
        self.task, self.resolution = task, int(resolution)
        lo, hi = X.min(axis=0), X.max(axis=0)  # (2,), (2,)
        pad = np.maximum(hi - lo, 1e-9) * MARGIN
        self.extent = [
            float(lo[0] - pad[0]),
            float(hi[0] + pad[0]),
            float(lo[1] - pad[1]),
            float(hi[1] + pad[1]),
        ]
        x0, x1, y0, y1 = self.extent
        r = self.resolution
        # cell centres, top row first (screen order): (R*R, 2)
        gx = x0 + (np.arange(r) + 0.5) * (x1 - x0) / r
        gy = y1 - (np.arange(r) + 0.5) * (y1 - y0) / r
        self.grid = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2)
        self.points = self._points(X, y, max(1, int(max_points)))

    def _points(self, X: np.ndarray, y, max_points: int) -> list:
        """``[[u, v, colour], ...]`` with ``u, v`` in [0, 1] (``v`` from the top), every k-th row."""
        step = max(1, math.ceil(len(X) / max_points))
        x0, x1, y0, y1 = self.extent
        u = (X[::step, 0] - x0) / (x1 - x0)
        v = (y1 - X[::step, 1]) / (y1 - y0)
        colours = [PALETTE[0]] * len(u) if y is None else self._point_colours(np.asarray(y)[::step])
        return [[round(float(a), 4), round(float(b), 4), c] for a, b, c in zip(u, v, colours, strict=True)]

    def _point_colours(self, y: np.ndarray) -> list[str]:
        if self.task == "regression":
            values = y.reshape(len(y), -1)[:, 0].astype(np.float64)
            lo, hi = float(values.min()), float(values.max())
            return [_hex(c) for c in _diverging((values - lo) / max(hi - lo, 1e-12))]
        if y.ndim == 2 and y.shape[1] > 1:
            labels = np.argmax(y, axis=1)  # one-hot rows
        else:
            labels = y.reshape(-1)
            if not np.issubdtype(labels.dtype, np.integer):
                labels = np.unique(labels, return_inverse=True)[1]  # any labels, as 0..K-1
        return [PALETTE[int(k) % len(PALETTE)] for k in labels]

    def render(self, net) -> bytes:
        """The map of ``net`` now: ``R * R * 3`` RGB bytes, top row first."""
        p = net.predict_proba(self.grid)  # (R*R, K): probabilities, or values for regression
        if self.task == "regression":
            values = p[:, 0].astype(np.float64)
            lo, hi = float(np.min(values)), float(np.max(values))
            rgb = _WHITE + (_diverging((values - lo) / max(hi - lo, 1e-12)) - _WHITE) * 0.55  # pale too
        else:
            if p.shape[1] == 1:  # a sigmoid head: p(class 1)
                p = np.concatenate([1.0 - p, p], axis=1)  # (R*R, 2)
            k = p.shape[1]
            best = np.argmax(p, axis=1)  # (R*R,)
            confidence = (np.max(p, axis=1) - 1.0 / k) / (1.0 - 1.0 / k)  # (R*R,) in [0, 1]
            confidence = np.clip(np.nan_to_num(confidence), 0.0, 1.0)[:, None]
            colour = _RGB[best % len(_RGB)]  # (R*R, 3)
            rgb = _WHITE + (colour - _WHITE) * (0.1 + 0.45 * confidence)  # pale, so that points show
        return np.clip(np.rint(rgb), 0, 255).astype(np.uint8).tobytes()


def _diverging(t: np.ndarray) -> np.ndarray:
    """Blue (t = 0) through white (0.5) to orange (1): ``(N,)`` in [0, 1] to ``(N, 3)`` RGB."""
    t = np.clip(np.nan_to_num(np.asarray(t, dtype=np.float64), nan=0.5), 0.0, 1.0)[:, None]
    low, high = _RGB[0], _RGB[1]
    below = _WHITE + (low - _WHITE) * (1.0 - 2.0 * t)  # t in [0, 0.5]
    above = _WHITE + (high - _WHITE) * (2.0 * t - 1.0)  # t in [0.5, 1]
    return np.where(t < 0.5, below, above)


def _hex(rgb) -> str:
    r, g, b = (int(round(float(c))) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"
