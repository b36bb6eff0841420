"""The notebook widget itself: an anywidget model whose traits the browser draws (static/widget.js).

Python sets the traits; anywidget sends each change to every view of the widget (JupyterLab, VS Code, Colab);
with no frontend (a plain ``python`` process) the changes go nowhere. Binary traits (the decision map and the
weight images) travel as binary buffers, not JSON.
"""

from __future__ import annotations

from pathlib import Path

try:
    import anywidget
    import traitlets
except ImportError as exc:  # pragma: no cover - the message is tested by importing without the extra
    raise ImportError(
        f"glassnet.widget needs anywidget ({exc.name} is missing): pip install 'glassnet[widget]'."
    ) from None

STATIC = Path(__file__).parent / "static"


class FitWidget(anywidget.AnyWidget):
    """What the browser shows of a fit; :class:`~glassnet.widget.LiveFit` sets these traits.

    Traits
    ------
    title, status : str
        A heading (the model) and the state of the fit (``"training"``, ``"done"``, ``"stopped early"``, ...).
    epoch : int
        Epochs completed.
    curves : dict
        ``{name: {"x": epochs, "y": values}}``: the History's curves (``loss``, ``val_loss``, ``val_score``, ...).
    map_title : str
        The map's caption: ``"decision map"``, or for a regression, what its colours mean.
    map_rgb, map_size, map_extent, map_points : bytes, int, list, list
        The decision map (``map_size ** 2`` RGB cells, top row first), the input range it covers
        ``[x_min, x_max, y_min, y_max]`` and the data points ``[[u, v, colour], ...]`` (``u, v`` in [0, 1]).
    weights, weights_shape : bytes, list
        The first layer's weights as ``[units, height, width]`` one-byte images (128 is zero).
    note : str
        A hint shown under the plots (for example, how to get a decision map).
    updates : int
        How many updates were sent (the browser test waits on it).
    """

    _esm = STATIC / "widget.js"
    _css = STATIC / "widget.css"

    title = traitlets.Unicode("glassnet").tag(sync=True)
    status = traitlets.Unicode("waiting for fit").tag(sync=True)
    epoch = traitlets.Int(0).tag(sync=True)
    curves = traitlets.Dict().tag(sync=True)
    map_title = traitlets.Unicode("decision map").tag(sync=True)
    map_rgb = traitlets.Bytes(b"").tag(sync=True)
    map_size = traitlets.Int(0).tag(sync=True)
    map_extent = traitlets.List([0.0, 1.0, 0.0, 1.0]).tag(sync=True)
    map_points = traitlets.List().tag(sync=True)
    weights = traitlets.Bytes(b"").tag(sync=True)
    weights_shape = traitlets.List([0, 0, 0]).tag(sync=True)
    note = traitlets.Unicode("").tag(sync=True)
    updates = traitlets.Int(0).tag(sync=True)
