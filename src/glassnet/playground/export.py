"""What a :class:`~glassnet.playground.session.Session` hands out besides frames: the page's state (settings,
points, the network's layout) and the current network as a glassnet model file."""

from __future__ import annotations

import numpy as np

from glassnet.playground.config import LIMITS

__all__ = ["model_file", "session_state"]


def _points(X: np.ndarray, y: np.ndarray) -> dict:
    values = np.round(y.astype(np.float64), 4) if y.dtype.kind == "f" else y  # a regression's values
    return {"x": np.round(X.astype(np.float64), 4).tolist(), "y": values.tolist()}


def session_state(session) -> dict:
    """The page's view of ``session`` besides frames, JSON-ready (call under ``session.lock``)."""
    from glassnet.playground.datasets import FEATURES

    names = ["x₁", "x₂", *(FEATURES[name][0] for name in session.config["features"])]
    layout = [{"units": len(names), "kind": "input", "names": names}]
    layout += [
        {"units": s["units"], "kind": "hidden", "activation": s["activation"]}
        for s in session.config["layers"]
    ]
    layout.append({"units": session.n_classes, "kind": "output", "loss": type(session.net.loss).__name__})
    return {
        "id": session.id,
        "config": session.config,
        "task": session.task,  # "classification" or "regression"
        "value_range": session.value_range,  # a regression's colour scale: the training values' range
        "n_classes": session.n_classes,
        "class_names": session.class_names,
        "domain": session.domain,
        "train": _points(session.points_train, session.y_train),
        "test": _points(session.points_test, session.y_test),
        "layout": layout,
        "layers": [type(layer).__name__ for layer in session.net.layers],
        "n_params": int(session.net.n_params),
        "limits": LIMITS,
        "playing": session.playing,
    }


def _labels(session) -> dict:
    """A classifier's file keeps its classes and their names; a regression's has none."""
    if session.task == "regression":
        return {}
    return {"classes": list(range(session.n_classes)), "class_names": session.class_names}


def model_file(session) -> bytes:
    """The session's network as the bytes of a glassnet model file (``glassnet.io.save_model``), with the
    playground settings and step count in its info (call under ``session.lock``)."""
    import os
    import tempfile

    from glassnet.files.model import save_model

    handle, name = tempfile.mkstemp(suffix=".npz")
    os.close(handle)
    try:
        save_model(
            name, session.net, **_labels(session),
            info={"source": "glassnet playground", "config": session.config, "steps": session.steps,
                  "inputs": ["x1", "x2", *session.config["features"]]},  # engineered inputs: add_features
            # a CSV's rows are standardised for the network: the file keeps how, for its raw rows
            preprocessing={"standardize": session.standardize} if session.standardize else None,
        )  # fmt: skip
        with open(name, "rb") as f:
            return f.read()
    finally:
        os.unlink(name)
