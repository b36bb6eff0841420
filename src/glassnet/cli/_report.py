"""The pictures and ``report.html`` written by ``glassnet compare`` and ``glassnet train``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from glassnet.cli._training import ModelResult
from glassnet.data import Dataset
from glassnet.report import (
    Section,
    plot_confusion_matrix,
    plot_first_layer,
    plot_loss_curves,
    plot_misclassified,
    plot_prediction_grid,
    write_report,
)

__all__ = ["write_results_report"]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def write_results_report(
    out_dir: str | Path,
    data: Dataset,
    results: Sequence[ModelResult],
    *,
    title: str,
    intro: str,
    details: str = "",
    n_grid: int = 32,
    seed: int = 0,
) -> Path:
    """Draw every picture into ``out_dir`` and write ``out_dir/report.html`` (images embedded); return it."""
    from sklearn.metrics import confusion_matrix

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = data.class_names
    labels = np.arange(len(names))
    images = data.X_test.reshape((len(data.X_test), *data.image_shape)) if data.image_shape else None
    sections = [Section("Results", table=[r.row() for r in results], paragraphs=_notes(results))]
    loss = plot_loss_curves({r.name: r.loss_curve for r in results}, out / "loss_curves.png")
    sections.append(Section("Training loss", figures=[(loss, "Training loss per epoch, log-log scale.")]))

    cm_figs = []
    for r in results:
        cm = confusion_matrix(data.y_test, r.y_pred, labels=labels)
        path = plot_confusion_matrix(cm, names, out / f"confusion_{_slug(r.short)}.png", title=r.name)
        cm_figs.append((path, f"{r.name}: rows are the true classes, columns the predictions."))
    sections.append(Section("Confusion matrices", figures=cm_figs))

    if images is not None:
        rng = np.random.default_rng(seed)
        pick = np.sort(rng.choice(len(images), size=min(n_grid, len(images)), replace=False))
        grid = plot_prediction_grid(
            images[pick], data.y_test[pick], {r.short: r.y_pred[pick] for r in results}, names,
            out / "predictions.png",
        )  # fmt: skip
        legend = ", ".join(f"{r.short} = {r.name}" for r in results)
        sections.append(
            Section(
                "Random test images",
                paragraphs=[f"Each picture shows the truth and every model's prediction ({legend}); red titles "
                            "mark pictures at least one model got wrong."],
                figures=[(grid, f"{len(pick)} random test images.")],
            )
        )  # fmt: skip
        wrong_figs = []
        for r in results:
            path = plot_misclassified(
                images,
                data.y_test,
                r.y_pred,
                names,
                out / f"misclassified_{_slug(r.short)}.png",
                title=r.name,
            )
            wrong_figs.append((path, f"Test images {r.name} got wrong."))
        sections.append(Section("Misclassified test images", figures=wrong_figs))
        weight_figs = []
        for r in results:
            if r.first_layer is not None and r.first_layer.shape[1] == int(np.prod(data.image_shape)):
                path = plot_first_layer(
                    r.first_layer, data.image_shape, out / f"first_layer_{_slug(r.short)}.png",
                    title=f"{r.name}: first-layer weights",
                )  # fmt: skip
                weight_figs.append((path, f"What each hidden unit of {r.name} looks for (red +, blue -)."))
        if weight_figs:
            sections.append(Section("First-layer weights", figures=weight_figs))
    if details:
        sections.append(Section("Details", pre=details))
    return write_report(out / "report.html", title, sections, intro=intro)


def _notes(results: Sequence[ModelResult]) -> list[str]:
    return [f"{r.name}: {note}" for r in results for note in r.notes]
