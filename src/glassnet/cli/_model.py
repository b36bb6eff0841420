"""Loading a model for ``evaluate`` and ``predict`` and checking that data fits it."""

from __future__ import annotations

import numpy as np

from glassnet.cli._common import CLIError

__all__ = [
    "load", "map_labels", "class_probabilities", "fit_standardization", "model_inputs", "network_probabilities",
    "scale_hint",
]  # fmt: skip


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


def class_probabilities(model, X: np.ndarray, name: str = "the model") -> np.ndarray:
    """``(n, n_classes)`` probabilities of a classifier's model file for rows ``X`` (already scaled).

    The standardisation the model was trained with is applied first (:func:`model_inputs`). A binary
    classifier saved by ``save_estimator`` has one logistic output, :math:`p = P(\text{classes}[1])`, as
    scikit-learn's; it is shown as the two columns :math:`(1 - p, p)`.

    Raises
    ------
    CLIError
        If the model has no classes, or its outputs do not match them.
    """
    if not model.classes:
        raise CLIError(f"{name} is not a classifier (it has no classes)")
    proba = network_probabilities(model.network, model.preprocessing, X)
    k = len(model.classes)
    if proba.ndim == 1:
        proba = proba[:, None]  # (n,) -> (n, 1)
    if proba.shape[1] == 1 and k == 2:
        proba = np.concatenate([1.0 - proba, proba], axis=1)  # (n, 1) -> (n, 2): P(classes[0]), P(classes[1])
    if proba.shape[1] != k:
        raise CLIError(
            f"{name} has {proba.shape[1]} outputs for {k} classes; predict and evaluate need one probability "
            "per class"
        )
    return proba


def network_probabilities(network, preprocessing: dict, X: np.ndarray) -> np.ndarray:
    """The network's ``predict_proba`` of rows ``X`` (already scaled) prepared by :func:`model_inputs`; with
    ``preprocessing["test_time_rotations"]`` (``glassnet train --test-time-rotations``), the mean over the
    images rotated by each of those angles (:func:`glassnet.training.augment.average_over_rotations`),
    rotated before they are standardised.

    Raises
    ------
    CLIError
        If the recorded angles are not a list of numbers (a damaged or hand-edited model file).
    """
    from glassnet.training.augment import average_over_rotations

    angles = preprocessing.get("test_time_rotations")
    if not angles:
        return network.predict_proba(model_inputs(preprocessing, X))
    ok = isinstance(angles, list) and all(
        isinstance(a, (int, float)) and not isinstance(a, bool) for a in angles
    )
    if not ok or not all(np.isfinite(angles)):
        raise CLIError(
            f"the model file's preprocessing.test_time_rotations is not a list of angles: {angles!r}"
        )
    shape = preprocessing.get("image_shape")
    try:
        return average_over_rotations(
            lambda view: network.predict_proba(model_inputs(preprocessing, view)),
            np.asarray(X), angles, tuple(shape[:2]) if shape else None,
        )  # fmt: skip
    except ValueError as exc:  # rows that are not images of the recorded shape
        raise CLIError(f"test-time rotations: {exc}") from None


def fit_standardization(X: np.ndarray) -> dict:
    r"""scikit-learn's ``StandardScaler`` fitted on ``X``, as the model file's ``preprocessing["standardize"]``.

    Each feature :math:`j` becomes :math:`(x_j - \mu_j) / \sigma_j`, with the training rows' mean
    :math:`\mu_j` and standard deviation :math:`\sigma_j` (1 for a constant feature, as scikit-learn does).
    """
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(np.asarray(X, dtype=np.float64))
    return {"mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist()}


def model_inputs(preprocessing: dict, X: np.ndarray) -> np.ndarray:
    """Rows as the network takes them: ``X`` (already divided by the model's scale) standardised if the
    model was trained with ``--standardize``; unchanged otherwise.

    Raises
    ------
    CLIError
        If the recorded standardisation does not fit the rows (a damaged or hand-edited model file).
    """
    spec = preprocessing.get("standardize")
    if not spec:
        return X
    X = np.asarray(X)
    try:
        mean = np.asarray(spec["mean"], dtype=np.float64)
        scale = np.asarray(spec["scale"], dtype=np.float64)
    except (KeyError, TypeError, ValueError):
        raise CLIError(
            "the model file's preprocessing.standardize is not {'mean': [...], 'scale': [...]}"
        ) from None
    if mean.shape != (X.shape[1],) or scale.shape != mean.shape or not np.all(np.isfinite(mean)):
        raise CLIError(
            f"the model file's standardisation is for {mean.size} features, the rows have {X.shape[1]}"
        )
    if not np.all(np.isfinite(scale) & (scale > 0)):
        raise CLIError("the model file's preprocessing.standardize.scale must hold positive numbers")
    # (N, D) - (D,) -> (N, D), feature by feature
    return ((X - mean) / scale).astype(X.dtype if X.dtype.kind == "f" else np.float32)


def scale_hint(X: np.ndarray) -> str:
    """A hint when the features are far from unit scale (so that ``--standardize`` would likely help), else "".

    Networks learn slowly, or settle worse, when features differ by orders of magnitude: one step size must
    fit every weight, and the large features dominate the first layer's sums.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) < 2:
        return ""
    std = X.std(axis=0)
    spread = std[std > 0]
    if spread.size == 0:
        return ""
    largest = max(float(spread.max()), float(np.abs(X.mean(axis=0)).max()))
    if largest <= 10.0 and spread.max() / spread.min() <= 100.0:
        return ""
    return (
        f"the features are far from unit scale (standard deviations from {spread.min():.3g} to "
        f"{spread.max():.3g}, means up to {np.abs(X.mean(axis=0)).max():.3g}); --standardize (mean 0, "
        "standard deviation 1 per feature) usually trains better"
    )
