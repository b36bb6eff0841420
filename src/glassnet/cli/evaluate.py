"""``glassnet evaluate MODEL``: accuracy, per-class precision and recall, and a confusion-matrix picture."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from glassnet.cli import _model
from glassnet.cli._common import CLIError, add_data_options, eprint, positive_float
from glassnet.data import SOURCES


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "evaluate",
        help="score a model file on a data set's test split",
        description="Print the accuracy and per-class precision and recall (scikit-learn's "
        "classification_report) of a model on a data set's test split and draw its confusion matrix. "
        "A model file written by `glassnet train` records how training split the data; evaluate splits "
        "the same way and checks that it scores exactly the rows training held out, or says that it cannot.",
    )
    p.add_argument("model", help="model file written by `glassnet train`")
    add_data_options(p, from_model=True)
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

    from glassnet.report import plot_confusion_matrix

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {out} is a file, not a folder; give a folder for confusion.png", code=2)
    model = _model.load(args.model)
    data, rows = _load_split(args, model)
    for note in rows.notes:
        eprint(f"note: {note}")
    lookup = _model.map_labels(model, data, force=args.force)
    parts = {"test": [(data.X_test, data.y_test)], "train": [(data.X_train, data.y_train)]}
    parts["all"] = parts["train"] + parts["test"]
    X = np.concatenate([x for x, _ in parts[args.split]])
    y = lookup[np.concatenate([t for _, t in parts[args.split]])]
    y_pred = _model.class_probabilities(model, X, args.model).argmax(axis=1)
    names = model.class_names
    labels = np.arange(len(names))
    accuracy = float(np.mean(y_pred == y))
    cm = confusion_matrix(y, y_pred, labels=labels)
    picture = plot_confusion_matrix(
        cm, names, out / "confusion.png", title=f"{Path(args.model).name} on {data.name}"
    )
    reported = model.info.get("test_accuracy") if rows.exact and args.split == "test" else None
    if args.json:
        report = classification_report(
            y, y_pred, labels=labels, target_names=names, output_dict=True, zero_division=0
        )
        result = {"model": args.model, "dataset": data.name, "split": args.split, "n": int(len(y)),
                  "rows": rows.describe(args.split, len(y)), "split_matches_training": rows.exact,
                  "notes": rows.notes, "accuracy": accuracy, "train_reported_accuracy": reported,
                  "classification_report": report, "confusion_matrix": cm.tolist(),
                  "confusion_png": str(picture)}  # fmt: skip
        print(json.dumps(result, indent=2))
        return 0
    also = f" (train reported {reported:.4f})" if reported is not None else ""
    which = rows.describe(args.split, len(y))
    print(f"{Path(args.model).name} on {data.name}, {which}: accuracy {accuracy:.4f}{also}")
    print(classification_report(y, y_pred, labels=labels, target_names=names, digits=4, zero_division=0))
    print(f"confusion matrix: {picture}")
    return 0


@dataclass
class SplitRows:
    """Which rows evaluate scores: whether they are exactly training's split, and what to tell the user."""

    exact: bool
    seed: int
    test_size: float
    official: bool  # the data set's own train/test split (fashion-mnist, mnist, a pre-split .npz)
    notes: list[str] = field(default_factory=list)

    def describe(self, split: str, n: int) -> str:
        """The rows in words, e.g. ``"the 360 test rows training held out (seed 5, test size 0.2)"``."""
        if split == "all":
            return f"all {n} rows (train and test)"
        how = "the official split" if self.official else f"seed {self.seed}, test size {self.test_size:g}"
        if self.exact:
            which = "test rows training held out" if split == "test" else "rows training learnt from"
            return f"the {n} {which} ({how})"
        return f"the {n} {split} rows of a split with {how} (not known to be training's: see the note)"


def _load_split(args, model) -> tuple:
    """Load the data as training split it (recorded in the model file); return ``(data, SplitRows)``."""
    from glassnet.data import DataNotFoundError, load_dataset

    info = model.info
    recorded = info.get("split") or {}
    name = args.dataset or recorded.get("dataset") or model.preprocessing.get("dataset") or "digits"
    test_size = args.test_size if args.test_size is not None else recorded.get("test_size", 0.2)
    seed = args.seed if args.seed is not None else recorded.get("seed", info.get("seed", 0))
    try:
        data = load_dataset(
            name, data_dir=args.data_dir, test_size=test_size, seed=seed, label_column=args.label_column,
            scale=args.scale,
        )  # fmt: skip
    except DataNotFoundError as exc:
        if args.dataset or name in SOURCES:
            raise
        raise CLIError(
            f"{exc}; the model was trained on {name}: pass --dataset with its path from here"
        ) from None
    official = data.name in SOURCES or _presplit(data, name)
    rows = SplitRows(exact=False, seed=int(seed), test_size=float(test_size), official=official)
    if not recorded:
        rows.notes.append(
            f"{Path(args.model).name} does not record how training split the data (written by an older "
            f"glassnet or by the Python API); scoring the {args.split} rows of {data.name} split with "
            + ("its official split" if official else f"seed {seed} and test size {test_size:g}")
            + ", which may include rows the model was trained on"
        )
        return data, rows
    changed = [f"--{key.replace('_', '-')} {mine:g} (training used {recorded[key]:g})"
               for key, mine in (("seed", seed), ("test_size", test_size))
               if not official and recorded.get(key) is not None and mine != recorded[key]]  # fmt: skip
    if changed:
        rows.notes.append(
            f"{' and '.join(changed)}: these are not the rows training held out, they may include rows the "
            "model was trained on"
        )
    elif recorded.get("test_digest") and recorded["test_digest"] != data.test_digest():
        rows.notes.append(
            f"the test rows of {data.name} differ from those training held out (the data changed since, or "
            "it is another file of the same name); the scores may include rows the model was trained on"
        )
    elif recorded.get("test_digest"):
        rows.exact = True
        if recorded.get("limit_train"):  # training used a random subset of its rows: the same one
            data = data.subsample(n_train=int(recorded["limit_train"]), seed=int(recorded.get("seed", seed)))
    return data, rows


def _presplit(data, name: str) -> bool:
    """True for a user's .npz holding its own X_train/X_test (no seed involved)."""
    if not name.lower().endswith(".npz"):
        return False
    with np.load(name, allow_pickle=False) as npz:
        return "X_test" in npz.files
