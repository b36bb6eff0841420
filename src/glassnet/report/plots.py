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


def _save(fig, path: str | os.PathLike, tight: bool = True) -> Path:
    """Write ``fig`` as a PNG at 100 dpi; ``tight`` crops it to what is drawn (off: the figure's own size, so
    that pictures of one kind keep one scale however much each holds)."""
    plt = _pyplot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight" if tight else None)
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
    validation_loss: Mapping[str, Sequence[float]] | None = None,
    validation_accuracy: Mapping[str, Sequence[float]] | None = None,
    floors: Mapping[str, float] | None = None,
    test_accuracy: Mapping[str, Sequence[float]] | None = None,
    narrow: bool = False,
) -> Path:
    """Draw each model's training loss per epoch, with its validation loss and accuracy where given.

    Parameters
    ----------
    curves : mapping
        Model name -> training loss per epoch (empty sequences are skipped).
    path : str or path-like
        Where to write the PNG.
    validation_loss, validation_accuracy : mapping, optional
        Model name -> the loss and the accuracy on the validation rows per epoch. The validation loss is
        drawn dashed in its model's colour; the accuracy gets a panel of its own on the right.
    floors : mapping, optional
        Model name -> the lowest loss it can reach (label smoothing's floor, the smoothed targets'
        entropy), drawn dotted in its colour: a curve that levels off above another model's is not
        necessarily a worse fit.
    test_accuracy : mapping, optional
        Model name -> the accuracy on the test rows after each epoch, drawn in the right-hand panel (when
        no validation accuracy is given).
    narrow : bool
        Draw the panels one above the other, for a phone's width.

    The loss axis is logarithmic, and so is the epoch axis when a run is longer than 200 epochs (the
    lab's 5,000 epochs would otherwise squeeze the other models' few into the left edge).
    """
    plt = _pyplot()
    validation_loss = {k: v for k, v in (validation_loss or {}).items() if len(v)}
    validation_accuracy = {k: v for k, v in (validation_accuracy or {}).items() if len(v)}
    test_accuracy = {k: v for k, v in (test_accuracy or {}).items() if len(v)}
    accuracy, which = (validation_accuracy, "Validation") if validation_accuracy else (test_accuracy, "Test")
    fig, axes, legends = _loss_figure(plt, 2 if accuracy else 1, narrow)
    ax = axes[0, 0]
    colours = _draw_losses(ax, curves, validation_loss, floors or {})
    log_x = max([len(c) for c in curves.values()] + [1]) > 200
    _format_loss_axis(ax, xlabel, log_x)
    ax.set_title(title if not validation_loss else f"{title} (solid) and validation loss (dashed)")
    if ax.lines:
        _legend(ax, legends[0] if legends else None)
    if accuracy:
        _plot_accuracy(axes[0, 1], accuracy, colours, xlabel, which, log_x=log_x,
                       strip=legends[1] if legends else None)  # fmt: skip
    fig.tight_layout()
    return _save(fig, path)


def _loss_figure(plt, panels: int, narrow: bool):
    """The figure and its ``(1, panels)`` grid of axes, side by side; or (``narrow``, a phone's width) one
    above the other, each with a strip of its own below it for its legend. Returns ``(fig, axes, strips)``."""
    if not narrow:
        fig, axes = plt.subplots(1, panels, figsize=(9 if panels == 1 else 12, 4.2), squeeze=False)
        return fig, axes, []
    fig, grid = plt.subplots(2 * panels, 1, figsize=(4.4, 4.6 * panels), squeeze=False,
                             gridspec_kw={"height_ratios": [3, 1.3] * panels})  # fmt: skip
    strips = list(grid[1::2, 0])
    for strip in strips:
        strip.axis("off")
    return fig, grid[0::2].T, strips


def _draw_losses(
    ax, curves: Mapping[str, Sequence[float]], validation_loss: Mapping, floors: Mapping[str, float]
) -> dict:
    """Each model's training loss (solid), validation loss (dashed) and loss floor (dotted) in one colour;
    returns the colour of each model drawn, for the accuracy panel."""
    colours = {}
    alone = sum(1 for c in curves.values() if len(c)) == 1  # one model: name the lines by what they show
    for name, losses in curves.items():
        losses = np.asarray(losses, dtype=float)
        if losses.size == 0:
            continue
        label = "training loss" if alone else f"{name} ({losses.size} epochs)"
        (line,) = ax.plot(np.arange(1, losses.size + 1), losses, label=label)
        colours[name] = line.get_color()
        if name in validation_loss:
            val = np.asarray(validation_loss[name], dtype=float)
            label = "validation loss" if alone else f"{name}, validation"
            ax.plot(np.arange(1, val.size + 1), val, "--", color=line.get_color(), label=label)
        floor = floors.get(name)
        if floor is not None and floor > 0:
            ax.axhline(floor, linestyle=":", linewidth=1.5, color=line.get_color(),
                       label=f"{'its' if alone else name} floor: {floor:.3f} (label smoothing)")  # fmt: skip
    return colours


def _format_loss_axis(ax, xlabel: str, log_x: bool) -> None:
    """Logarithmic loss axis; the epochs in whole numbers, or on a log scale for a long run (``log_x``)."""
    from matplotlib.ticker import MaxNLocator

    ax.set_yscale("log")
    if log_x:
        ax.set_xscale("log")
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"{xlabel} (log scale)" if log_x else xlabel)
    ax.set_ylabel("loss (log scale)")
    ax.grid(True, which="both", alpha=0.3)


def _legend(ax, strip=None) -> None:
    """The panel's legend below it, where it covers no curve: under the axis label, or (a phone's picture) in
    the empty ``strip`` below the panel."""
    if strip is None:
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
    else:
        handles, labels = ax.get_legend_handles_labels()
        strip.legend(handles, labels, fontsize=8, loc="upper left", frameon=False)


def _plot_accuracy(
    ax,
    curves: Mapping[str, Sequence[float]],
    colours: dict,
    xlabel: str,
    which: str,
    log_x: bool = False,
    strip=None,
):
    """The accuracy panel: each model's validation (or test) accuracy per epoch, its best epoch marked."""
    from matplotlib.ticker import MaxNLocator

    for name, acc in curves.items():
        acc = np.asarray(acc, dtype=float)
        if which == "Test":  # nothing was chosen by the test rows: the last value is the one that counts
            label = f"{name if len(curves) > 1 else 'test'}: {acc[-1]:.4f} at the end"
            ax.plot(np.arange(1, acc.size + 1), acc, color=colours.get(name), label=label)
            continue
        ax.plot(np.arange(1, acc.size + 1), acc, color=colours.get(name), label=name)
        best = int(np.argmax(acc))
        ax.plot([best + 1], [acc[best]], "o", color=colours.get(name))
        ax.annotate(f"best {acc[best]:.4f} (epoch {best + 1})", (best + 1, acc[best]),
                    textcoords="offset points", xytext=(0, 7), fontsize=8,
                    ha="right" if best + 1 > 0.6 * acc.size else "left")  # fmt: skip
    ax.margins(y=0.15)  # room above the best point for its label
    if log_x:
        ax.set_xscale("log")
        ax.set_xlabel(f"{xlabel} (log scale)")
    else:
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("accuracy")
    ax.set_title(f"{which} accuracy")
    if which == "Test" and len(curves) > 1:
        _legend(ax, strip)
    ax.grid(True, alpha=0.3)


def plot_confusion_matrix(
    cm: np.ndarray,
    class_names: Sequence[str],
    path: str | os.PathLike,
    title: str = "Confusion matrix",
    size: float | None = None,
) -> Path:
    """Draw a confusion matrix ``cm[true, predicted]``: the errors in red, the hits in blue, zeros blank.

    ``size``: the figure's side in inches (default: from the number of classes); a smaller one with the
    same text suits a phone.

    Each correct cell is shaded by the fraction of its class found; each error by its count relative to
    the largest error, so that the few mistakes of a good model stand out instead of drowning in zeros.
    """
    plt = _pyplot()
    cm = np.asarray(cm)
    k = cm.shape[0]
    size = max(4.0, 0.42 * k + 1.8) if size is None else float(size)
    fig, ax = plt.subplots(figsize=(size, size))
    rgba = _confusion_colours(cm)
    ax.imshow(rgba, interpolation="nearest")
    if k <= 30:
        _write_counts(ax, cm, rgba)
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xticks(np.arange(-0.5, k), minor=True)
    ax.set_yticks(np.arange(-0.5, k), minor=True)
    ax.grid(which="minor", color="#dddddd", linewidth=0.6)
    ax.tick_params(which="minor", length=0)
    ax.set_xticklabels(class_names, rotation=45 if max(len(str(c)) for c in class_names) > 2 else 0,
                       ha="right" if max(len(str(c)) for c in class_names) > 2 else "center", fontsize=8)  # fmt: skip
    ax.set_yticklabels(class_names, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    n = int(cm.sum())
    wrong = int((cm * (1 - np.eye(k, dtype=int))).sum())  # off the diagonal
    accuracy = np.trace(cm) / n if n else float("nan")
    ax.set_title(f"{title}\naccuracy {accuracy:.4f}: {wrong} of {n} wrong", fontsize=10)
    return _save(fig, path)


def _confusion_colours(cm: np.ndarray) -> np.ndarray:
    """The ``(K, K, 4)`` RGBA picture of ``cm``: a hit shaded blue by the fraction of its class found, an
    error red by its count relative to the largest error, a zero white."""
    k = cm.shape[0]
    rgba = np.ones((k, k, 4))  # white
    totals = np.maximum(cm.sum(axis=1), 1)
    worst = max(int((cm * (1 - np.eye(k, dtype=int))).max()), 1)
    blue, red = np.array([0.16, 0.42, 0.72]), np.array([0.84, 0.19, 0.15])
    for i in range(k):
        for j in range(k):
            if cm[i, j] == 0:
                continue
            if i == j:
                strength = 0.15 + 0.75 * cm[i, i] / totals[i]
                rgba[i, j, :3] = 1 - strength * (1 - blue)
            else:
                strength = 0.25 + 0.75 * cm[i, j] / worst
                rgba[i, j, :3] = 1 - strength * (1 - red)
    return rgba


def _write_counts(ax, cm: np.ndarray, rgba: np.ndarray) -> None:
    """Each non-zero count in its cell, white on a dark cell; the errors in bold."""
    k = cm.shape[0]
    for i in range(k):
        for j in range(k):
            if cm[i, j] == 0:
                continue  # a blank cell: nothing to see there
            dark = (rgba[i, j, :3].mean()) < 0.55
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if dark else "black", fontweight="normal" if i == j else "bold")  # fmt: skip


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
    title: str = "Random test images: the truth above, the models that got it wrong below",
    max_cols: int = 8,
) -> Path:
    """Draw test images with the true label above and, below in red, each model that got it wrong.

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
    fig, axes = plt.subplots(
        rows, cols, figsize=(1.3 * cols, (1.45 + 0.16 * n_models) * rows + 0.4), squeeze=False,
        layout="constrained",
    )  # fmt: skip
    for idx, ax in enumerate(axes.flat):
        if idx >= n:
            ax.axis("off")
            continue
        _show(ax, images[idx])
        ax.set_title(f"true {class_names[truth[idx]]}", fontsize=8)
        wrong = [
            f"{name}: {class_names[pred[idx]]}"
            for name, pred in predictions.items()
            if pred[idx] != truth[idx]
        ]
        if wrong:
            ax.set_xlabel("\n".join(wrong), fontsize=7.5, color="crimson")
        else:
            ax.set_xlabel("all right", fontsize=7.5, color="#2e7d32")
    fig.suptitle(title, fontsize=10)
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
    """Draw the test images a model got wrong (at most ``max_images``): truth above, prediction below.

    The grid always has ``max_cols`` columns and the picture is not cropped, so every model's mistakes are
    drawn at one size, however many there are (a report shows them one above the other)."""
    plt = _pyplot()
    truth = np.asarray(truth)
    predicted = np.asarray(predicted)
    wrong = np.flatnonzero(truth != predicted)[:max_images]
    if wrong.size == 0:
        fig, ax = plt.subplots(figsize=(4, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, f"{title}: no misclassified test images", ha="center", va="center")
        return _save(fig, path)
    rows, cols = _grid(wrong.size, max_cols)
    cols = max_cols  # one thumbnail size for every model: empty cells rather than a narrower picture
    fig, axes = plt.subplots(
        rows, cols, figsize=(1.1 * cols, 1.55 * rows + 0.4), squeeze=False, layout="constrained"
    )
    for k, ax in enumerate(axes.flat):
        if k >= wrong.size:
            ax.axis("off")
            continue
        i = wrong[k]
        _show(ax, images[i])
        ax.set_title(f"true {class_names[truth[i]]}", fontsize=8)
        ax.set_xlabel(f"read as {class_names[predicted[i]]}", fontsize=8, color="crimson")
    n_wrong = int((truth != predicted).sum())
    shown = "all shown" if wrong.size == n_wrong else f"the first {wrong.size} shown"
    fig.suptitle(f"{title}\n{n_wrong} of {truth.size} test images wrong ({shown})", fontsize=10)
    return _save(fig, path, tight=False)


def plot_first_layer(
    W: np.ndarray,
    image_shape: tuple[int, int],
    path: str | os.PathLike,
    title: str = "First-layer weights",
    max_units: int = 80,
    max_cols: int = 10,
    fontsize: float = 10,
) -> Path:
    """Draw each hidden unit's incoming weights ``W[j]`` as an image on one colour scale (blue -, red +).

    Parameters
    ----------
    W : numpy.ndarray
        ``(n_hidden, n_features)`` weights of the first Dense layer (the lab's ``(out, in)`` convention).
    image_shape : tuple of int
        ``(height, width)`` with ``height * width == n_features``.
    fontsize : float
        Size of the title and the colour bar's text (larger for a picture shown small).

    Every unit shares the scale shown by the colour bar, symmetric around 0 and clipped at the 99th
    percentile of ``|W|`` so that a few large weights do not wash out the rest.
    """
    plt = _pyplot()
    W = np.asarray(W, dtype=float)
    h, w = image_shape
    if W.ndim != 2 or W.shape[1] != h * w:
        raise ValueError(f"W must have shape (n_hidden, {h * w}) for images {image_shape}, got {W.shape}")
    units = W[:max_units]
    limit = float(np.percentile(np.abs(units), 99)) if units.size else 1.0
    limit = limit or 1.0
    rows, cols = _grid(len(units), max_cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(1.05 * cols + 1.0, 1.05 * rows + 0.6), squeeze=False, layout="constrained"
    )
    picture = None
    for j, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if j >= len(units):
            ax.axis("off")
            continue
        picture = ax.imshow(units[j].reshape(h, w), cmap="RdBu_r", vmin=-limit, vmax=limit,
                            interpolation="nearest")  # fmt: skip
    if picture is not None:
        bar = fig.colorbar(picture, ax=axes, shrink=min(0.9, 0.3 + 0.15 * rows), pad=0.02)
        bar.set_label("weight", fontsize=fontsize)
        bar.ax.tick_params(labelsize=fontsize * 0.85)
    fig.suptitle(f"{title}\n{len(units)} of {W.shape[0]} units, each {h}x{w} pixels", fontsize=fontsize)
    return _save(fig, path)
