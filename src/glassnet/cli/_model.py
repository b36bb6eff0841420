"""Loading a model for ``evaluate`` and ``predict`` and checking that data fits it."""

from __future__ import annotations

import numpy as np

from glassnet.cli._common import CLIError

__all__ = ["load", "map_labels"]


def load(path: str, argument: str = "the MODEL argument", hint: str = ""):
    """Load a model file (a network or an estimator's network) for use.

    ``argument`` names the command-line argument the path was given as, so that a file that is not a
    model (``glassnet predict img.jpg model.npz``, arguments swapped) is reported as that argument;
    ``hint`` is added to the message (a likely mix-up).

    Raises
    ------
    FileNotFoundError
        If the file does not exist (the message names the argument).
    CLIError
        If the file is not a readable glassnet model file; the message names the argument and what was
        expected.
    """
    from glassnet.files.model import ModelFileError, load_model

    try:
        return load_model(path)
    except FileNotFoundError:
        # still a FileNotFoundError (``--debug`` shows it as such); no filename, so the CLI prints this text
        raise FileNotFoundError(f"model file not found: {path} (given as {argument}){hint}") from None
    except ModelFileError as exc:
        raise CLIError(f"{exc}. It was given as {argument}{hint}") from None


def map_labels(model, data, force: bool = False) -> np.ndarray:
    """Check that ``data`` is what ``model`` was trained on; return its test labels as the model's indices.

    Raises
    ------
    CLIError
        If the number of features differs, the data set's name differs (unless ``force``), or the data has
        classes the model does not know.
    """
    pre = model.preprocessing
    trained_on = pre.get("dataset", "unknown data")
    n_in = model.network.n_features_in
    if n_in is not None and data.n_features != n_in:
        raise CLIError(
            f"the model expects {n_in} features (trained on {trained_on}), but {data.name} has "
            f"{data.n_features}; evaluate it on the data it was trained on"
        )
    if not force and pre.get("dataset") and pre["dataset"] != data.name:
        raise CLIError(
            f"the model was trained on {trained_on}, not on {data.name}; pass --force to evaluate it anyway"
        )
    if not force and pre.get("scale") and float(pre["scale"]) != float(data.scale):
        raise CLIError(
            f"the model was trained on features divided by {pre['scale']:g}, this data is divided by "
            f"{data.scale:g}; pass --scale or --force"
        )
    model_classes = [str(c) for c in model.classes]
    index = {c: i for i, c in enumerate(model_classes)}
    unknown = sorted({str(c) for c in data.classes} - set(index))
    if unknown:
        raise CLIError(
            f"the data has classes the model does not know: {unknown[:10]} (model: {model_classes[:10]})"
        )
    lookup = np.array([index[str(c)] for c in data.classes])
    return lookup
