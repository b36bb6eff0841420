"""The pictures and ``report.html`` written by ``glassnet compare`` and ``glassnet train``.

The page leads with what a reader wants first (the results table, then a few plain sentences), then each
model's settings, per-class precision and recall, the training curves and the pictures.
"""

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

#: ``glassnet train``'s recorded settings shown on its model's card, with their labels
_TRAIN_SETTINGS = {
    "activation": "activation", "solver": "optimizer", "lr": "learning rate",
    "schedule": "schedule", "batch_size": "batch size", "alpha": "L2 penalty (alpha)", "dropout": "dropout",
    "label_smoothing": "label smoothing", "batch_norm": "batch normalisation", "standardize": "standardised features", "augment_shift": "shift (pixels)",
    "recipe": "recipe", "validation_split": "validation rows held out", "epochs": "epochs", "seed": "seed",
}  # fmt: skip

#: the list of files a report wrote into its folder, so that the next report there removes those it does not
#: write again (a model that is gone, another data set's pictures) and never touches anything else
MANIFEST = ".glassnet-report.json"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _narrow(path: Path) -> Path:
    """Where a picture's phone version goes: ``loss_curves.png`` -> ``loss_curves-narrow.png``."""
    return path.with_name(f"{path.stem}-narrow{path.suffix}")


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
    warning: str = "",
) -> Path:
    """Draw every picture into ``out_dir`` and write ``out_dir/report.html`` (images embedded); return it.

    ``warning`` (e.g. a smoke test's "these numbers mean nothing") is shown in a box under the title.
    ``details`` holds ``key: value`` lines (``glassnet train``'s recorded settings): models without
    settings of their own take theirs from it, and the lines themselves are kept, folded, at the end.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    images = data.X_test.reshape((len(data.X_test), *data.image_shape)) if data.image_shape else None
    sections = [Section("Smoke test only", [warning], kind="notice")] if warning else []
    sections.append(_results(results, data, warning))
    sections.append(_models(results, details))
    sections.append(_per_class(results, data))
    sections.append(_curves(results, out))
    sections.append(_confusion(results, data, out))
    if images is not None:
        sections.extend(_picture_sections(results, data, images, out, n_grid, seed))
    if details:
        sections.append(Section("Everything recorded", pre=details, collapsed=True))
    report = write_report(out / "report.html", title, sections, intro=intro)
    written = {report.name} | {
        Path(p).name for s in sections for fig in s.figures for p in (fig[0], *fig[2:]) if p
    }
    _replace_manifest(out, written)
    return report


def _replace_manifest(out: Path, written: set[str]) -> None:
    """Remove the files the previous report in ``out`` listed and this one did not write; list this one's.

    Only names from glassnet's own list are removed, and only plain names of files in ``out`` (a list that
    names anything else, or is not glassnet's, removes nothing): a user's files in the folder stay.
    """
    import json

    from glassnet._files import write_atomic

    try:
        previous = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        listed = previous.get("files") if isinstance(previous, dict) else None
    except (OSError, ValueError):
        listed = None  # no list (a new folder, or a report from an older glassnet): nothing is removed
    for name in listed if isinstance(listed, list) else []:
        plain = isinstance(name, str) and name == Path(name).name and name not in ("", ".", "..", MANIFEST)
        if plain and name not in written and name.endswith((".png", ".html")) and (out / name).is_file():
            (out / name).unlink()
    text = json.dumps({"written_by": "glassnet", "files": sorted(written)}, indent=1)
    write_atomic(out / MANIFEST, lambda f: f.write(text.encode("utf-8")))


def _picture_sections(results, data: Dataset, images, out: Path, n_grid: int, seed: int) -> list[Section]:
    """The sections drawn from the test images: a random grid, each model's mistakes, first-layer weights."""
    names = data.class_names
    found: list[Section] = []
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(images), size=min(n_grid, len(images)), replace=False))
    shown = (images[pick], data.y_test[pick], {r.short: r.y_pred[pick] for r in results}, names)
    grid = plot_prediction_grid(*shown, out / "predictions.png")
    grid_narrow = plot_prediction_grid(
        *shown, _narrow(out / "predictions.png"), max_cols=3,
        title="Random test images: the truth above,\nthe models that got it wrong below",
    )  # fmt: skip
    legend = ", ".join(f"{r.short} = {r.name}" for r in results)
    found.append(
        Section(
            "Random test images",
            paragraphs=[f"Above each picture its true class; below it, in red, every model that got it "
                        f"wrong and its answer ({legend})."],
            figures=[(grid, f"{len(pick)} test images drawn at random.", grid_narrow)],
        )
    )  # fmt: skip
    wrong_figs = []
    for r in results:
        path = out / f"misclassified_{_slug(r.short)}.png"
        for where, cols in ((path, 12), (_narrow(path), 4)):  # the page's width, a phone's
            plot_misclassified(images, data.y_test, r.y_pred, names, where, title=f"{r.short} {r.name}",
                               max_images=24, max_cols=cols)  # fmt: skip
        wrong_figs.append(
            (path, f"The test images {r.name} got wrong: the truth above, its answer below.", _narrow(path))
        )
    found.append(Section("Misclassified test images", figures=wrong_figs))
    weight_figs = []
    for r in results:
        if r.first_layer is not None and r.first_layer.shape[1] == int(np.prod(data.image_shape)):
            path = out / f"first_layer_{_slug(r.short)}.png"
            for where, cols in ((path, 6), (_narrow(path), 4)):
                plot_first_layer(r.first_layer, data.image_shape, where, title=f"{r.short} {r.name}",
                                 max_units=30 if cols == 6 else 28, max_cols=cols, fontsize=13)  # fmt: skip
            weight_figs.append(
                (path, f"What each first-layer unit of {r.name} looks for in a picture.", _narrow(path))
            )
    if weight_figs:
        found.append(
            Section(
                "First-layer weights",
                paragraphs=["Each square is one hidden unit's weights over the pixels: a unit responds to "
                            "ink on its red pixels and is held back by ink on its blue ones."],
                figures=weight_figs, columns=2,
            )
        )  # fmt: skip
    return found


def _results(results: Sequence[ModelResult], data: Dataset, warning: str) -> Section:
    """The table, then a few plain sentences about it."""
    n = len(data.y_test)
    rows = []
    for r in results:
        wrong = int(np.sum(np.asarray(r.y_pred) != data.y_test))
        rows.append({
            "": r.short, "model": r.name, "test accuracy": float(r.accuracy), "wrong": f"{wrong} of {n}",
            "epochs": r.epochs, "time (s)": f"{r.seconds:.2f}", "final loss": float(r.final_loss),
        })  # fmt: skip
    notes = []
    best = max(results, key=lambda r: r.accuracy)
    wrong = int(np.sum(np.asarray(best.y_pred) != data.y_test))
    if len(results) > 1:
        notes.append(
            f"Most accurate: {best.short} {best.name}, {best.accuracy:.4f} ({wrong} of {n} test images wrong)."
        )
    else:
        notes.append(f"{wrong} of the {n} test images were classified wrongly.")
    chance = 1.0 / len(data.classes)
    for r in results:
        if r.accuracy < 2 * chance:
            notes.append(
                f"{r.short} {r.name} is no better than guessing ({r.accuracy:.3f}; a guess scores {chance:.2f})."
            )
    notes.append(
        f"Test accuracy is the share of the {n} test images, never seen in training, that a model classifies "
        "correctly; an epoch is one pass over the training images; the loss is what training minimises "
        "(lower is better)."
    )
    return Section("Results", table=rows, notes=notes, bars=("test accuracy",), stack=True)


def _models(results: Sequence[ModelResult], details: str) -> Section:
    """One card per model: architecture, training settings and the notes of its run."""
    recorded = _parse_details(details)
    cards = []
    for r in results:
        settings = r.settings or _recorded_settings(r, recorded)
        cards.append((f"{r.short} {r.name}", settings, list(r.notes)))
    return Section("Models", cards=cards)


def _recorded_settings(result: ModelResult, recorded: dict[str, str]) -> list[tuple[str, str]]:
    """``glassnet train``'s recorded settings in words: the layers drawn out, options left off skipped."""
    import ast

    rows = []
    if "hidden" in recorded and result.first_layer is not None and result.proba is not None:
        try:
            hidden = list(ast.literal_eval(recorded["hidden"]))
        except (ValueError, SyntaxError):
            hidden = [recorded["hidden"]]
        sizes = [result.first_layer.shape[1], *hidden, result.proba.shape[1]]
        rows.append(("layers", " → ".join(str(s) for s in sizes)))
    for key, label in _TRAIN_SETTINGS.items():
        value = recorded.get(key)
        off = value in ("None", "False", "0", "0.0") and key not in ("seed", "alpha")
        if value is None or off:
            continue
        rows.append((label, "yes" if value == "True" else value))
    return rows


def _parse_details(details: str) -> dict[str, str]:
    found = {}
    for line in details.splitlines():
        key, sep, value = line.partition(": ")
        if sep:
            found[key.strip()] = value.strip()
    return found


def _per_class(results: Sequence[ModelResult], data: Dataset) -> Section:
    """Precision and recall of every class for every model, weak cells tinted."""
    from sklearn.metrics import precision_recall_fscore_support

    labels = np.arange(len(data.class_names))
    columns = {}
    for r in results:
        p, rec, _, support = precision_recall_fscore_support(
            data.y_test, r.y_pred, labels=labels, zero_division=0
        )
        columns[r.short] = (p, rec)
    rows = []
    for k, name in enumerate(data.class_names):
        row = {"class": name, "test images": int(support[k])}
        for short, (p, rec) in columns.items():
            prefix = f"{short}|" if len(results) > 1 else ""
            row[f"{prefix}precision"] = float(p[k])
            row[f"{prefix}recall"] = float(rec[k])
        rows.append(row)
    return Section(
        "Per-class precision and recall",
        table=rows,
        shade=True,
        digits=2,
        short={"precision": "P", "recall": "R", "test images": "n"},
        notes=["Precision (P): of the images a model calls this class, the share that are. Recall (R): of the "
               "images of this class, the share the model finds; n: the class's test images. The redder the "
               "cell, the weaker."],
    )  # fmt: skip


def _curves(results: Sequence[ModelResult], out: Path) -> Section:
    """The training loss of every model, and the validation loss and accuracy where training computed them."""
    val_loss, val_acc = {}, {}
    for r in results:
        records = getattr(r.history, "records", {}) if r.history is not None else {}
        if records.get("val_loss"):
            val_loss[r.name] = list(records["val_loss"])
        if records.get("val_score"):
            val_acc[r.name] = list(records["val_score"])
    floors = {r.name: r.loss_floor for r in results if r.loss_floor}
    test_acc = {r.name: r.test_accuracy for r in results if r.test_accuracy}
    drawn = {"title": "Training loss", "validation_loss": val_loss, "validation_accuracy": val_acc,
             "floors": floors, "test_accuracy": test_acc}  # fmt: skip
    curves = {r.name: r.loss_curve for r in results}
    loss = plot_loss_curves(curves, out / "loss_curves.png", **drawn)
    loss_narrow = plot_loss_curves(curves, _narrow(out / "loss_curves.png"), narrow=True, **drawn)
    longest = max([len(r.loss_curve) for r in results] + [0])
    scale = "both axes are" if longest > 200 else "the loss axis is"
    if val_acc:
        caption = ("The loss on the training rows (solid) and on the validation rows held out of training "
                   "(dashed), and the accuracy on the validation rows, per epoch.")  # fmt: skip
        title = "Training and validation"
    elif test_acc:
        caption = (f"The loss on the training rows per epoch (lower is better; {scale} logarithmic), and the "
                   "accuracy on the test rows after each epoch (nothing was chosen by it: the last value is the "
                   "result).")  # fmt: skip
        title = "Training loss and test accuracy"
    else:
        caption = f"The loss on the training rows per epoch; lower is better ({scale} logarithmic)."
        title = "Training loss"
    for r in results:
        if r.loss_floor:
            caption += (f" {r.short} trains with label smoothing: its loss cannot fall below {r.loss_floor:.3f} "
                        "(dotted), the entropy of its softened targets, so its curve levels off higher without "
                        "fitting worse; compare the models by accuracy.")  # fmt: skip
    return Section(title, figures=[(loss, caption, loss_narrow)])


def _confusion(results: Sequence[ModelResult], data: Dataset, out: Path) -> Section:
    from sklearn.metrics import confusion_matrix

    labels = np.arange(len(data.class_names))
    figures = []
    for r in results:
        cm = confusion_matrix(data.y_test, r.y_pred, labels=labels)
        path = out / f"confusion_{_slug(r.short)}.png"
        plot_confusion_matrix(cm, data.class_names, path, title=f"{r.short} {r.name}")
        plot_confusion_matrix(cm, data.class_names, _narrow(path), title=f"{r.short} {r.name}", size=4.2)
        figures.append(
            (
                path,
                f"{r.name}: blue cells are right, red cells wrong, blank cells never happened.",
                _narrow(path),
            )
        )
    return Section(
        "Confusion matrices",
        paragraphs=["Each row is a true class, each column the class a model answered: the diagonal holds the "
                    "hits, every number off it is a mistake (which class was taken for which)."],
        figures=figures,
        columns=2,
    )  # fmt: skip
