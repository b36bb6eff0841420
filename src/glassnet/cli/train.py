"""``glassnet train``: train a network on a data set, save the model file and write a report."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from glassnet.cli._common import (
    CLIError,
    add_data_options,
    eprint,
    format_table,
    fraction,
    int_list,
    positive_float,
    positive_int,
)
from glassnet.cli._report import write_results_report
from glassnet.cli._training import ModelResult, fit_engine

ACTIVATIONS = ("relu", "logistic", "tanh", "leaky_relu", "gelu", "identity")
SOLVERS = ("adam", "adamw", "sgd")
RECIPE_KEYS = ("digits", "fashion-mnist")

#: training options when neither the command line nor a recipe sets them
DEFAULTS = {
    "hidden": (256, 128), "activation": "relu", "solver": "adam", "epochs": 30, "batch_size": 64, "lr": 1e-3,
    "schedule": "constant", "warmup": 0.05, "alpha": 1e-4, "dropout": 0.0, "label_smoothing": 0.0,
    "batch_norm": False, "augment_shift": 0,
}  # fmt: skip

#: glassnet.recipes' estimator parameter -> this command's option
_FROM_ESTIMATOR = {
    "hidden_layer_sizes": "hidden", "activation": "activation", "solver": "solver", "max_iter": "epochs",
    "batch_size": "batch_size", "learning_rate_init": "lr", "learning_rate": "schedule",
    "warmup_fraction": "warmup", "alpha": "alpha", "dropout": "dropout", "label_smoothing": "label_smoothing",
    "batch_norm": "batch_norm", "augment_shift": "augment_shift",
}  # fmt: skip


def resolve_options(args) -> None:
    """Fill every training option left unset: from ``--recipe`` when given, else from :data:`DEFAULTS`."""
    chosen = dict(DEFAULTS)
    if args.recipe:
        from glassnet.recipes import RECIPES

        for key, value in RECIPES[args.recipe].params.items():
            if key in _FROM_ESTIMATOR:
                chosen[_FROM_ESTIMATOR[key]] = tuple(value) if key == "hidden_layer_sizes" else value
    for name, value in chosen.items():
        if getattr(args, name, None) is None:
            setattr(args, name, value)
    if args.augment_shift < 0:
        raise CLIError(f"--augment-shift must be >= 0, got {args.augment_shift}", code=2)


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "train",
        help="train a network and save it as a model file",
        description="Train a multilayer perceptron on a data set, save the model file and write a report. "
        "Ctrl-C stops training and saves the model trained so far.",
    )
    add_data_options(p)
    p.add_argument(
        "--recipe", choices=sorted(RECIPE_KEYS), default=None,
        help="start from one of glassnet's recommended recipes (glassnet.recipes; one network, no ensemble); "
        "options given explicitly override it",
    )  # fmt: skip
    p.add_argument("--hidden", type=int_list, help="hidden layer sizes (default 256,128)")
    p.add_argument("--activation", choices=ACTIVATIONS, help="hidden activation (default relu)")
    p.add_argument("--solver", choices=SOLVERS, help="optimizer (default adam)")
    p.add_argument("--epochs", type=positive_int, help="maximum epochs (default 30)")
    p.add_argument("--batch-size", type=int, help="rows per step; 0 = full batch (default 64)")
    p.add_argument("--lr", type=positive_float, help="learning rate (default 0.001)")
    p.add_argument(
        "--schedule", choices=("constant", "cosine"),
        help="learning-rate schedule; cosine decays to 0 after a linear warm-up (default constant)",
    )  # fmt: skip
    p.add_argument("--warmup", type=fraction, help="cosine warm-up as a fraction of all steps (default 0.05)")
    p.add_argument("--momentum", type=fraction, default=0.9, help="SGD momentum (default 0.9)")
    p.add_argument("--alpha", type=float, help="L2 penalty (default 0.0001)")
    p.add_argument("--dropout", type=fraction, help="dropout after each hidden layer (default 0)")
    p.add_argument("--label-smoothing", type=fraction, help="label smoothing of the targets (default 0)")
    p.add_argument(
        "--batch-norm", action="store_true", default=None, help="batch normalisation before each activation"
    )
    p.add_argument(
        "--augment-shift", type=int, metavar="PIXELS",
        help="shift each training image by up to PIXELS in each direction (default 0 = off)",
    )  # fmt: skip
    p.add_argument(
        "--validation-split",
        type=fraction,
        default=0.1,
        help="validation fraction of the training data; 0 = none",
    )
    p.add_argument(
        "--early-stopping", type=int, default=0, metavar="PATIENCE",
        help="stop after PATIENCE epochs without validation improvement and keep the best (default 0 = off)",
    )  # fmt: skip
    p.add_argument("--limit-train", type=positive_int, help="use only this many random training rows")
    p.add_argument("--scale", type=positive_float, help="divide your .npz/.csv features by this")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32", help="compute type")
    p.add_argument(
        "--jobs", type=int, default=1, metavar="N",
        help="processes sharing each training step (data parallel; -1 = every core; default 1)",
    )  # fmt: skip
    p.add_argument(
        "-o", "--output", default="glassnet-model.npz", help="model file (default glassnet-model.npz)"
    )
    p.add_argument(
        "--report", default="glassnet-train-report", help="report folder (default glassnet-train-report)"
    )
    p.add_argument("--no-report", action="store_true", help="do not write the report")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def run(args) -> int:
    from glassnet._files import check_writable
    from glassnet.augment import RandomShift
    from glassnet.data import load_dataset
    from glassnet.exceptions import TrainingDivergedError
    from glassnet.io import save_model
    from glassnet.losses import SoftmaxCrossEntropy
    from glassnet.network import build_mlp
    from glassnet.optim import get_optimizer
    from glassnet.schedules import CosineLR
    from glassnet.training import Trainer

    check_writable(args.output)  # a read-only, full or non-file target is reported now, not after training
    resolve_options(args)
    if args.batch_size < 0:
        raise CLIError(f"--batch-size must be >= 0 (0 = full batch), got {args.batch_size}", code=2)
    data = load_dataset(
        args.dataset, data_dir=args.data_dir, test_size=args.test_size, seed=args.seed,
        label_column=args.label_column, scale=args.scale,
    )  # fmt: skip
    if args.limit_train:
        data = data.subsample(n_train=args.limit_train, seed=args.seed)
    eprint(
        f"{data.name}: {len(data.X_train)} training and {len(data.X_test)} test rows, "
        f"{data.n_features} features, {len(data.classes)} classes"
    )
    sizes = [data.n_features, *args.hidden, len(data.classes)]
    loss = SoftmaxCrossEntropy(label_smoothing=args.label_smoothing)
    net = build_mlp(
        sizes, activation=args.activation, loss=loss, dropout=args.dropout, seed=args.seed, dtype=args.dtype,
        batch_norm=args.batch_norm,
    )  # fmt: skip
    kwargs = {"lr": args.lr}
    if args.solver == "sgd":
        kwargs["momentum"] = args.momentum
    n_fit = len(data.X_train) - int(round(len(data.X_train) * (args.validation_split or 0.0)))
    steps = args.epochs * -(-n_fit // (args.batch_size or n_fit))  # ceil: batches per epoch
    schedule = None
    if args.schedule == "cosine":
        schedule = CosineLR(
            args.lr, total_steps=max(steps, 1), warmup_steps=min(int(args.warmup * steps), steps - 1)
        )
    augment = RandomShift(args.augment_shift, data.image_shape) if args.augment_shift else None
    trainer = Trainer(
        net, get_optimizer(args.solver, **kwargs),
        schedule=schedule,
        augment=augment,
        batch_size=args.batch_size or None,
        alpha=args.alpha,
        seed=args.seed,
        validation_fraction=args.validation_split or None,
        early_stopping=args.early_stopping > 0 and args.validation_split > 0,
        patience=max(args.early_stopping, 1),
        n_jobs=args.jobs,
    )  # fmt: skip
    notes = []
    try:
        history, seconds = fit_engine(
            trainer, data.X_train, data.y_train, args.epochs, "train", not args.no_progress
        )
    except TrainingDivergedError as exc:
        raise CLIError(f"{exc} Nothing was saved.") from None
    if history.interrupted:
        notes.append(f"interrupted by Ctrl-C after {history.epochs} epochs; saved the model trained so far")
        eprint(f"interrupted: saving the model trained so far ({history.epochs} epochs)")
    if history.stopped_early:
        notes.append(f"early stopping; kept the weights of epoch {history.best_epoch + 1}")
    proba = net.predict_proba(data.X_test)
    y_pred = proba.argmax(1)
    accuracy = float(np.mean(y_pred == data.y_test))
    val = history["val_score"]
    info = {
        "dataset": data.name,
        "hidden": list(args.hidden),
        "activation": args.activation,
        "solver": args.solver,
        "lr": args.lr,
        "batch_size": args.batch_size,
        "alpha": args.alpha,
        "dropout": args.dropout,
        "label_smoothing": args.label_smoothing,
        "batch_norm": bool(args.batch_norm),
        "augment_shift": args.augment_shift,
        "schedule": args.schedule,
        "recipe": args.recipe,
        "seed": args.seed,
        # how the data was split, so that `glassnet evaluate` scores exactly the rows held out here
        "split": {
            "dataset": args.dataset,
            "test_size": args.test_size,
            "seed": args.seed,
            "limit_train": args.limit_train,
            "n_test": len(data.y_test),
            "test_digest": data.test_digest(),
        },
        "epochs": history.epochs,
        "interrupted": bool(history.interrupted),
        "test_accuracy": accuracy,
        "validation_accuracy": float(val[-1]) if val else None,
        "train_seconds": round(seconds, 3),
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    path = save_model(
        args.output, net, preprocessing=data.preprocessing, classes=data.classes, class_names=data.class_names,
        info=info,
    )  # fmt: skip
    result = ModelResult(
        f"glassnet {'-'.join(map(str, sizes))} {args.activation} {args.solver}", "M", accuracy, seconds,
        history.epochs, float(history["loss"][-1]) if history.epochs else float("nan"), list(history["loss"]),
        y_pred, proba, net.parameters()["layers.0.W"].copy(), notes,
    )  # fmt: skip
    print(format_table([result.row()]))
    for note in notes:
        print(f"  {note}")
    print(f"model: {path}")
    if not args.no_report:
        report = write_results_report(
            Path(args.report), data, [result],
            title=f"glassnet train: {data.name}",
            intro=f"{data.name}: {len(data.X_train)} training and {len(data.X_test)} test rows. Model file: {path}.",
            details="\n".join(f"{k}: {v}" for k, v in info.items()),
            seed=args.seed,
        )  # fmt: skip
        print(f"report: {report}")
    return 130 if history.interrupted else 0
