"""Pictures of trained models: loss curves, confusion matrices, predictions, first-layer weights.

Every function draws one figure with matplotlib's non-interactive Agg backend, writes it as a PNG and
returns the path. The inputs are plain arrays, so the functions work for any model, glassnet's or
scikit-learn's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "plot_loss_curves",
    "plot_confusion_matrix",
    "plot_prediction_grid",
    "plot_misclassified",
    "plot_first_layer",
]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)  # never open a window, works without a display
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | os.PathLike) -> Path:
    plt = _pyplot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def _grid(n: int, max_cols: int) -> tuple[int, int]:
    cols = max(1, min(n, max_cols))
    rows = max(1, int(np.ceil(n / cols)))
    return rows, cols


def plot_loss_curves(
    curves: Mapping[str, Sequence[float]],
    path: str | os.PathLike,
    title: str = "Training loss",
    xlabel: str = "epoch",
) -> Path:
    """Draw one training-loss curve per model on a log scale.

    Parameters
    ----------
    curves : mapping
        Model name -> loss per epoch (empty sequences are skipped).
    path : str or path-like
        Where to write the PNG.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, losses in curves.items():
        losses = np.asarray(losses, dtype=float)
        if losses.size == 0:
            continue
        ax.plot(np.arange(1, losses.size + 1), losses, label=f"{name} ({losses.size} epochs)")
    ax.set_yscale("log")
    ax.set_xscale("log")
    ax.set_xlabel(f"{xlabel} (log scale)")
    ax.set_ylabel("loss (log scale)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=8)
    return _save(fig, path)


def plot_confusion_matrix(
    cm: np.ndarray,
    class_names: Sequence[str],
    path: str | os.PathLike,
    title: str = "Confusion matrix",
) -> Path:
    """Draw a confusion matrix ``cm[true, predicted]`` with the counts written in the cells."""
    plt = _pyplot()
    cm = np.asarray(cm)
    k = cm.shape[0]
    size = max(4.0, 0.45 * k + 2.0)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(cm, cmap="Blues")
    threshold = cm.max() / 2.0 if cm.size else 0
    if k <= 30:
        for i in range(k):
            for j in range(k):
                color = "white" if cm[i, j] > threshold else "black"
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", color=color, fontsize=8)
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xticklabels(class_names, rotation=45, ha="right", fontsize=8)
    ax.set_yticklabels(class_names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    accuracy = np.trace(cm) / cm.sum() if cm.sum() else float("nan")
    ax.set_title(f"{title}\naccuracy {accuracy:.4f}", fontsize=10)
    return _save(fig, path)


def _show(ax, image: np.ndarray) -> None:
    # high values are the ink: draw them dark on white paper, like the lab's gray_r pictures
    ax.imshow(image, cmap="gray_r", interpolation="nearest", vmin=0.0, vmax=max(1.0, float(image.max())))
    ax.set_xticks([])
    ax.set_yticks([])


def plot_prediction_grid(
    images: np.ndarray,
    truth: Sequence[int],
    predictions: Mapping[str, Sequence[int]],
    class_names: Sequence[str],
    path: str | os.PathLike,
    title: str = "Random test images: truth and each model's prediction",
    max_cols: int = 8,
) -> Path:
    """Draw test images with the true label and every model's prediction (wrong ones in red).

    Parameters
    ----------
    images : numpy.ndarray
        ``(n, height, width)`` images, high values = ink.
    truth : sequence of int
        ``(n,)`` true class indices.
    predictions : mapping
        Short model name -> ``(n,)`` predicted class indices.
    """
    plt = _pyplot()
    n = len(images)
    rows, cols = _grid(n, max_cols)
    n_models = len(predictions)
    fig, axes = plt.subplots(rows, cols, figsize=(1.7 * cols, (1.6 + 0.22 * n_models) * rows), squeeze=False)
    for idx, ax in enumerate(axes.flat):
        if idx >= n:
            ax.axis("off")
            continue
        _show(ax, images[idx])
        lines = [f"true: {class_names[truth[idx]]}"]
        wrong = False
        for name, pred in predictions.items():
            lines.append(f"{name}: {class_names[pred[idx]]}")
            wrong |= pred[idx] != truth[idx]
        ax.set_title("\n".join(lines), fontsize=7, color="crimson" if wrong else "black")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def plot_misclassified(
    images: np.ndarray,
    truth: Sequence[int],
    predicted: Sequence[int],
    class_names: Sequence[str],
    path: str | os.PathLike,
    title: str = "Misclassified test images",
    max_images: int = 48,
    max_cols: int = 8,
) -> Path:
    """Draw the test images a model got wrong, with the truth and the prediction (at most ``max_images``)."""
    plt = _pyplot()
    truth = np.asarray(truth)
    predicted = np.asarray(predicted)
    wrong = np.flatnonzero(truth != predicted)[:max_images]
    if wrong.size == 0:
        fig, ax = plt.subplots(figsize=(4, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, "no misclassified test images", ha="center", va="center")
        return _save(fig, path)
    rows, cols = _grid(wrong.size, max_cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.8 * rows), squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= wrong.size:
            ax.axis("off")
            continue
        i = wrong[k]
        _show(ax, images[i])
        ax.set_title(f"true {class_names[truth[i]]}\npred {class_names[predicted[i]]}", fontsize=7)
    n_wrong = int((truth != predicted).sum())
    fig.suptitle(f"{title} ({n_wrong} of {truth.size}, first {wrong.size} shown)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def plot_first_layer(
    W: np.ndarray,
    image_shape: tuple[int, int],
    path: str | os.PathLike,
    title: str = "First-layer weights",
    max_units: int = 80,
    max_cols: int = 10,
) -> Path:
    """Draw each hidden unit's incoming weights ``W[j]`` as an image (blue negative, red positive).

    Parameters
    ----------
    W : numpy.ndarray
        ``(n_hidden, n_features)`` weights of the first Dense layer (the lab's ``(out, in)`` convention).
    image_shape : tuple of int
        ``(height, width)`` with ``height * width == n_features``.
    """
    plt = _pyplot()
    W = np.asarray(W, dtype=float)
    h, w = image_shape
    if W.ndim != 2 or W.shape[1] != h * w:
        raise ValueError(f"W must have shape (n_hidden, {h * w}) for images {image_shape}, got {W.shape}")
    units = W[:max_units]
    rows, cols = _grid(len(units), max_cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.1 * cols, 1.1 * rows + 0.4), squeeze=False)
    for j, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if j >= len(units):
            ax.axis("off")
            continue
        limit = np.abs(units[j]).max() or 1.0
        ax.imshow(units[j].reshape(h, w), cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
    fig.suptitle(f"{title} ({len(units)} of {W.shape[0]} units, each {h}x{w})", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)
