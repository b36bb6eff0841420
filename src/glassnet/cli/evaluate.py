"""``glassnet evaluate MODEL``: accuracy, per-class precision and recall, and a confusion-matrix picture."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from glassnet.cli import _model
from glassnet.cli._common import add_data_options, positive_float


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "evaluate",
        help="score a model file on a data set's test split",
        description="Print the accuracy and per-class precision and recall (scikit-learn's "
        "classification_report) of a model on a data set's test split and draw its confusion matrix.",
    )
    p.add_argument("model", help="model file written by `glassnet train`")
    add_data_options(p, default="")
    p.set_defaults(dataset=None)
    p.add_argument(
        "--split", choices=("test", "train", "all"), default="test", help="rows to score (default test)"
    )
    p.add_argument("--scale", type=positive_float, help="divide your .npz/.csv features by this")
    p.add_argument(
        "--out", default="glassnet-evaluate", help="folder for confusion.png (default glassnet-evaluate)"
    )
    p.add_argument("--force", action="store_true", help="evaluate even on another data set than the model's")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    return p


def run(args) -> int:
    from sklearn.metrics import classification_report, confusion_matrix

    from glassnet.data import load_dataset
    from glassnet.report import plot_confusion_matrix

    model = _model.load(args.model)
    name = args.dataset or model.preprocessing.get("dataset") or "digits"
    data = load_dataset(
        name, data_dir=args.data_dir, test_size=args.test_size, seed=args.seed,
        label_column=args.label_column, scale=args.scale,
    )  # fmt: skip
    lookup = _model.map_labels(model, data, force=args.force)
    parts = {"test": [(data.X_test, data.y_test)], "train": [(data.X_train, data.y_train)]}
    parts["all"] = parts["train"] + parts["test"]
    X = np.concatenate([x for x, _ in parts[args.split]])
    y = lookup[np.concatenate([t for _, t in parts[args.split]])]
    y_pred = model.network.predict(X)
    names = model.class_names
    labels = np.arange(len(names))
    accuracy = float(np.mean(y_pred == y))
    cm = confusion_matrix(y, y_pred, labels=labels)
    out = Path(args.out)
    picture = plot_confusion_matrix(
        cm, names, out / "confusion.png", title=f"{Path(args.model).name} on {data.name}"
    )
    if args.json:
        report = classification_report(
            y, y_pred, labels=labels, target_names=names, output_dict=True, zero_division=0
        )
        result = {"model": args.model, "dataset": data.name, "split": args.split, "n": int(len(y)),
                  "accuracy": accuracy, "classification_report": report, "confusion_matrix": cm.tolist(),
                  "confusion_png": str(picture)}  # fmt: skip
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"{Path(args.model).name} on {data.name} ({args.split} split, {len(y)} rows): accuracy {accuracy:.4f}"
    )
    print(classification_report(y, y_pred, labels=labels, target_names=names, digits=4, zero_division=0))
    print(f"confusion matrix: {picture}")
    return 0
