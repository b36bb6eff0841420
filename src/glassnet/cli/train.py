"""``glassnet train``: train a network on a data set, save the model file and write a report."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from glassnet.cli import _model, _resume
from glassnet.cli._common import (
    CLIError,
    add_data_options,
    angle_list,
    eprint,
    format_table,
    fraction,
    int_list,
    positive_float,
    positive_int,
)
from glassnet.cli._report import write_results_report
from glassnet.cli._training import ModelResult, fit_engine
from glassnet.config import MLPConfig
from glassnet.config.params import ACTIVATION
from glassnet.nn.optim import OPTIMIZERS

RECIPE_KEYS = ("digits", "fashion-mnist")

#: this command's training settings when neither the command line nor a recipe sets them, in the shared
#: vocabulary (glassnet.config); it runs every epoch asked for (no loss-plateau stop) unless --early-stopping
TRAIN_DEFAULTS = MLPConfig(
    hidden_layer_sizes=(256, 128), activation="relu", solver="adam", max_iter=30, batch_size=64,
    learning_rate_init=1e-3, learning_rate="constant", warmup_fraction=0.05, alpha=1e-4, momentum=0.9,
    nesterovs_momentum=False, n_iter_no_change=np.inf, n_jobs=None,
)  # fmt: skip

#: option -> (MLPConfig field, how to read it, help); the default shown is TRAIN_DEFAULTS's
OPTIONS = {
    "--hidden": ("hidden_layer_sizes", {"type": int_list}, "hidden layer sizes"),
    "--activation": ("activation", {"choices": ACTIVATION.constraints[0]}, "hidden activation"),
    "--solver": ("solver", {"choices": OPTIMIZERS}, "optimizer"),  # the registries, read when parsing
    "--epochs": ("max_iter", {"type": positive_int}, "maximum epochs"),
    "--batch-size": ("batch_size", {"type": int}, "rows per step; 0 = full batch"),
    "--lr": ("learning_rate_init", {"type": positive_float}, "learning rate"),
    "--schedule": (
        "learning_rate", {"choices": ("constant", "cosine")},
        "learning-rate schedule; cosine decays to 0 after a linear warm-up",
    ),
    "--warmup": ("warmup_fraction", {"type": fraction}, "cosine warm-up as a fraction of all steps"),
    "--momentum": ("momentum", {"type": fraction}, "SGD momentum"),
    "--alpha": ("alpha", {"type": float}, "L2 penalty"),
    "--dropout": ("dropout", {"type": fraction}, "dropout after each hidden layer"),
    "--label-smoothing": ("label_smoothing", {"type": fraction}, "label smoothing of the targets"),
    "--batch-norm": ("batch_norm", {"action": "store_true"}, "batch normalisation before each activation"),
    "--augment-shift": (
        "augment_shift", {"type": int, "metavar": "PIXELS"},
        "shift each training image by up to PIXELS in each direction; 0 = off",
    ),
    "--augment-rotation": (
        "augment_rotation", {"type": float, "metavar": "DEGREES"},
        "rotate each training image by a random angle of up to DEGREES (bilinear); 0 = off",
    ),
    "--augment-scale": (
        "augment_scale", {"type": fraction}, "zoom each training image by a random factor in [1 - S, 1 + S]; 0 = off",
    ),
    "--augment-translation": (
        "augment_translation", {"type": float, "metavar": "PIXELS"},
        "move each training image by up to PIXELS along each axis, fractions of a pixel read bilinearly; 0 = off",
    ),
    "--augment-elastic": (
        "augment_elastic", {"type": float, "metavar": "PIXELS"},
        "distort each training image by a smooth random field of PIXELS (rms); 0 = off",
    ),
    "--augment-flip": ("augment_flip", {"action": "store_true"}, "mirror half the training images left to right"),
    "--augment-noise": ("augment_noise", {"type": float, "metavar": "STD"}, "Gaussian input noise; 0 = off"),
    "--test-time-rotations": (
        "test_time_rotations", {"type": angle_list, "metavar": "DEGREES"},
        "score and predict with the mean over each test image rotated by these angles, written with '=' "
        "(--test-time-rotations=-10,-5,0,5,10); recorded in the model file, so predict and evaluate use it",
    ),
    "--weight-averaging": (
        "weight_averaging", {"choices": ("ema", "swa")},
        "keep an average of the weights: ema after every step, swa at the end of every epoch",
    ),
    "--averaging-start": ("averaging_start", {"type": fraction}, "fraction of the epochs before averaging starts"),
    "--averaging-decay": ("averaging_decay", {"type": fraction}, "decay of the ema average"),
    "--jobs": (
        "n_jobs", {"type": int, "metavar": "N"}, "processes sharing each training step (data parallel; 1 = this process only, -1 = every core; "
        "default: chosen for the work and the idle cores, see glassnet.training.workplan)",
    ),
}  # fmt: skip


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def build_config(args) -> MLPConfig:
    """The training settings: :data:`TRAIN_DEFAULTS`, then ``--recipe``'s, then the options given."""
    config = TRAIN_DEFAULTS
    if args.recipe:
        from glassnet.recipes import RECIPES

        config = config.replace(**RECIPES[args.recipe].params)
    given = {field: getattr(args, _dest(flag)) for flag, (field, _, _) in OPTIONS.items()}
    config = config.replace(**{field: value for field, value in given.items() if value is not None})
    if config.solver == "adamw":
        config = config.replace(solver="adam", weight_decay=config.weight_decay or 0.01)
    if args.early_stopping:
        config = config.replace(early_stopping=True, n_iter_no_change=args.early_stopping)
    if config.augment_shift < 0:
        raise CLIError(f"--augment-shift must be >= 0, got {config.augment_shift}", code=2)
    if not 0 <= config.augment_rotation <= 180:
        raise CLIError(f"--augment-rotation must be in [0, 180], got {config.augment_rotation}", code=2)
    if not config.augment_translation >= 0:
        raise CLIError(f"--augment-translation must be >= 0, got {config.augment_translation}", code=2)
    if not config.augment_elastic >= 0:
        raise CLIError(f"--augment-elastic must be >= 0, got {config.augment_elastic}", code=2)
    if not config.augment_noise >= 0:
        raise CLIError(f"--augment-noise must be >= 0, got {config.augment_noise}", code=2)
    if config.batch_size != "auto" and config.batch_size < 0:
        raise CLIError(f"--batch-size must be >= 0 (0 = full batch), got {config.batch_size}", code=2)
    if config.n_jobs == 0:
        raise CLIError("--jobs must be a positive number of processes, or -1 for every core; got 0", code=2)
    return config


def _add_training_options(p: argparse.ArgumentParser) -> None:
    """The options of :data:`OPTIONS`, each unset (``None``) unless given, with its default in the help."""
    for flag, (field, how, text) in OPTIONS.items():
        default = getattr(TRAIN_DEFAULTS, field)
        if isinstance(default, tuple):
            default = ",".join(map(str, default))
        shown = "off" if default is False else default
        text = text if default is None else f"{text} (default {shown})"
        p.add_argument(flag, dest=_dest(flag), default=None, help=text, **how)


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "train",
        help="train a network and save it as a model file",
        description="Train a multilayer perceptron on a data set, save the model file and write a report. "
        "Ctrl-C stops training and saves the model trained so far.",
    )
    add_data_options(p, resumable=True)
    p.add_argument(
        "--recipe", choices=sorted(RECIPE_KEYS), default=None,
        help="start from one of glassnet's recommended recipes (glassnet.recipes; one network, no ensemble); "
        "options given explicitly override it",
    )  # fmt: skip
    _add_training_options(p)
    p.add_argument(
        "--threads", type=positive_int, default=None, metavar="N",
        help="BLAS threads per process (default: chosen for the work: 1 for small networks, whose matrix "
        "products gain nothing from threads and stall on a busy machine)",
    )  # fmt: skip
    _add_data_options(p)
    _add_output_options(p)
    return p


def _add_data_options(p: argparse.ArgumentParser) -> None:
    """How the training rows are split off, cut down and scaled, and the compute type."""
    # options left unset (None) unless given, so that --resume can tell a changed setting from an omitted one;
    # their defaults are _resume.DATA_OPTIONS
    p.add_argument(
        "--validation-split", type=fraction, default=None,
        help="validation fraction of the training data; 0 = none (default 0.1; with --recipe 0: a recipe trains "
        "on every training row, as its estimator and `glassnet compare` do)",
    )  # fmt: skip
    p.add_argument(
        "--early-stopping", type=int, default=None, metavar="PATIENCE",
        help="stop after PATIENCE epochs without validation improvement and keep the best (default 0 = off)",
    )  # fmt: skip
    p.add_argument("--limit-train", type=positive_int, help="use only this many random training rows")
    p.add_argument("--scale", type=positive_float, help="divide your .npz/.csv features by this")
    p.add_argument(
        "--standardize", action="store_true", default=None,
        help="standardise every feature to mean 0 and standard deviation 1 (scikit-learn's StandardScaler, "
        "fitted on the training rows); the model file stores it and predict and evaluate apply it",
    )  # fmt: skip
    p.add_argument(
        "--dtype",
        choices=("float32", "float64"),
        default=None,
        help="compute type (default float32, or --recipe's)",
    )


def _add_output_options(p: argparse.ArgumentParser) -> None:
    """What the run writes (model file, report, progress bar, checkpoints) and ``--resume``."""
    p.add_argument(
        "-o", "--output", default="glassnet-model.npz", help="model file (default glassnet-model.npz)"
    )
    p.add_argument(
        "--report", default="glassnet-train-report", help="report folder (default glassnet-train-report)"
    )
    p.add_argument("--no-report", action="store_true", help="do not write the report")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--checkpoint", metavar="DIR", default=None,
        help="write a resumable checkpoint (glassnet.checkpoint) into DIR after every epoch, keeping the "
        "last 3 and best.npz (the lowest validation loss)",
    )  # fmt: skip
    p.add_argument(
        "--resume", metavar="DIR", default=None,
        help="continue the run checkpointed in DIR from its latest checkpoint with its recorded data, split and "
        "options; --lr and --epochs may change (applied from there on and recorded in the model file), other "
        "changed options are refused (--epochs counts all epochs, those done included)",
    )  # fmt: skip


def run(args) -> int:
    from glassnet._files import check_writable
    from glassnet.exceptions import TrainingDivergedError
    from glassnet.files.model import save_model

    check_writable(args.output)  # a read-only, full or non-file target is reported now, not after training
    resumed = _resume.load(args, RESUMABLE) if args.resume else None
    recipe_rows = _fill_unset_options(args)
    config = build_config(args)
    options = effective_options(args)
    data = _load_data(args, recipe_rows)
    preprocessing = _preprocessing(args, data)
    try:
        net, history, seconds = train_network(config, data, args, resumed, options, preprocessing)
    except TrainingDivergedError as exc:
        raise CLIError(f"{exc} Nothing was saved.") from None
    notes = _notes(history)
    # recorded with the preprocessing, so that predict and evaluate average over the same rotations
    if config.test_time_rotations:
        preprocessing["test_time_rotations"] = [float(a) for a in config.test_time_rotations]
    proba = _model.network_probabilities(net, preprocessing, data.X_test)
    y_pred = proba.argmax(1)
    accuracy = float(np.mean(y_pred == data.y_test))
    info = model_info(config, data, args, history, accuracy, seconds)
    if resumed is not None and resumed.resumed:
        info["resumed"] = resumed.resumed
    path = save_model(
        args.output, net, preprocessing=preprocessing, classes=data.classes, class_names=data.class_names,
        info=info,
    )  # fmt: skip
    sizes = [data.n_features, *config.hidden_layer_sizes, len(data.classes)]
    result = ModelResult(
        f"glassnet {'-'.join(map(str, sizes))} {config.activation} {args.solver or config.solver}", "M", accuracy,
        seconds, history.epochs, float(history["loss"][-1]) if history.epochs else float("nan"),
        list(history["loss"]), y_pred, proba, net.parameters()["layers.0.W"].copy(), notes, history=history,
    )  # fmt: skip
    _show(result, notes, path, args, data, info)
    return 130 if history.interrupted else 0


def _show(result: ModelResult, notes: list[str], path, args, data, info: dict) -> None:
    """The result's table row, its notes and the model file's path on stdout; the report unless ``--no-report``."""
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


def _fill_unset_options(args) -> bool:
    """Give the data options left unset their defaults (:data:`_resume.DATA_OPTIONS`), once ``--resume`` has
    compared them; with ``--recipe`` and no ``--validation-split``, no validation rows: a recipe trains on
    every training row; with ``--recipe`` and no ``--dtype``, the recipe's ``dtype``. Returns whether the
    recipe's rule for rows applied."""
    recipe_rows = bool(args.recipe and args.validation_split is None)
    if recipe_rows:
        args.validation_split = 0.0
    if args.recipe and args.dtype is None:  # the recipe's compute type, as its estimator trains
        from glassnet.recipes import RECIPES

        dtype = RECIPES[args.recipe].params.get("dtype")
        args.dtype = None if dtype is None else np.dtype(dtype).name
    for dest, default in _resume.DATA_OPTIONS.items():
        if getattr(args, dest) is None:
            setattr(args, dest, default)
    return recipe_rows


def _load_data(args, recipe_rows: bool):
    """The data set split into training and test rows (``--limit-train`` of the training rows), announced on
    stderr."""
    from glassnet.data import load_dataset

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
    if recipe_rows:
        eprint(
            f"recipe {args.recipe}: training on all {len(data.X_train)} training rows, as the recipe's estimator "
            "and `glassnet compare` do (--validation-split 0.1 holds some out for validation curves)"
        )
    return data


def _preprocessing(args, data) -> dict:
    """The data set's preprocessing, with ``--standardize``'s statistics of the training rows; hints on stderr
    when features that are not pictures differ widely in scale and nothing standardises them."""
    preprocessing = data.preprocessing
    if args.standardize:
        preprocessing["standardize"] = _model.fit_standardization(data.X_train)
    hint = "" if args.standardize or data.image_shape else _model.scale_hint(data.X_train)
    if hint:  # pictures are scaled alike pixel by pixel; other features may differ by orders of magnitude
        eprint(f"hint: {hint}")
    return preprocessing


def train_network(config: MLPConfig, data, args, resumed=None, options=None, preprocessing=None):
    """Build the network and its training from ``config`` exactly as the estimators do (the same builders,
    the same seeded generator, the same loop); returns ``(net, history, seconds)``.

    The head is always a softmax over the data set's classes (the model file's ``predict_proba`` gives one
    column per class); for several classes that is also the estimators' head.
    """
    from glassnet.config.build import build_network, make_loss, make_trainer
    from glassnet.nn.initializers import as_generator

    X = np.asarray(_model.model_inputs(preprocessing or {}, data.X_train), dtype=args.dtype)
    if config.batch_size == 0:
        config = config.replace(batch_size=len(X))  # full batch
    rng = as_generator(args.seed)
    loss = make_loss(config, "multiclass")
    net = build_network(config, data.n_features, len(data.classes), loss, X.dtype, rng)
    split = args.validation_split or None
    trainer = make_trainer(
        config, net, len(X) - int(round(len(X) * (split or 0.0))), rng,
        validation_fraction=split,
        early_stopping=bool(config.early_stopping and split),
        patience=int(config.n_iter_no_change) if config.early_stopping else 10,
        tol=float(config.tol),
        threads=args.threads,
    )  # fmt: skip
    y, done = data.y_train, 0
    if args.checkpoint or args.resume:
        X, y, done = _checkpointing(trainer, X, y, split, config, data, args, resumed, options)
    history, seconds = fit_engine(trainer, X, y, int(config.max_iter) - done, "train", not args.no_progress)
    return net, history, seconds


def _checkpointing(trainer, X, y, split, config: MLPConfig, data, args, resumed, options):
    """``--checkpoint`` and ``--resume``: returns the training rows and the epochs already done.

    The validation split that ``fit`` would draw first is drawn here, from the same generator at the same
    point (so the training is the same as without these options), and handed to the Trainer as its
    validation data: a resumed run, whose generator continues from the checkpoint, keeps the original split.
    Every checkpoint records the command's settings and the digests of the test and validation rows
    (:class:`glassnet.cli._resume.RunSettings`); a resumed run checks them and applies a new ``--lr`` or
    ``--epochs`` (:meth:`glassnet.cli._resume.Resumed.apply`).
    """
    from glassnet.files.checkpoint import CheckpointError, ModelCheckpoint, resume
    from glassnet.training.data import prepare
    from glassnet.training.metrics import train_validation_split

    held_out = None
    if split:
        prepared = prepare(trainer.net, X, y)
        rows, held_out = train_validation_split(prepared.X, prepared.y, split, trainer.rng)
        trainer.validation_fraction, trainer.validation_data = None, (X[held_out], y[held_out])
        X, y = X[rows], y[rows]
    held_digest = None if held_out is None else _resume.held_out_digest(held_out)
    if resumed is not None:
        resumed.check_data(data, held_digest)
    if args.checkpoint:
        trainer.callbacks.append(ModelCheckpoint(args.checkpoint))
    if resumed is not None:
        try:
            ckpt = resume(trainer, resumed.checkpoint)
        except CheckpointError as exc:
            raise CLIError(f"{resumed.where}: {exc}", code=2) from None
        if ckpt.epoch >= config.max_iter:
            raise CLIError(
                f"{resumed.where}: the checkpoint has already trained {ckpt.epoch} epochs; --epochs counts "
                f"all epochs, so give more than {ckpt.epoch} to train on",
                code=2,
            )
        batch = min(trainer.batch_size or len(X), len(X))
        resumed.apply(trainer, config, n_batches=-(-len(X) // batch))
    if args.checkpoint:  # after resume(), which restores the checkpointed callbacks' states
        digests = {"test": data.test_digest(), "validation": held_digest}
        trainer.callbacks.append(_resume.RunSettings(options, digests, resumed.resumed if resumed else []))
    return X, y, 0 if resumed is None else ckpt.epoch


#: the options a checkpoint records and ``--resume`` compares: the data options and the training options
RESUMABLE = (*_resume.DATA_OPTIONS, *(_dest(flag) for flag in OPTIONS))


def effective_options(args) -> dict:
    """Every option of :data:`RESUMABLE` as it applies to this run: given, from ``--recipe``, or the default."""
    base = TRAIN_DEFAULTS
    if args.recipe:
        from glassnet.recipes import RECIPES

        base = base.replace(**RECIPES[args.recipe].params)
    found = {dest: _resume._plain(getattr(args, dest)) for dest in _resume.DATA_OPTIONS}
    for flag, (field, _, _) in OPTIONS.items():
        value = getattr(args, _dest(flag))
        found[_dest(flag)] = _resume._plain(getattr(base, field) if value is None else value)
    return found


def _notes(history) -> list[str]:
    notes = []
    if history.interrupted:
        notes.append(f"interrupted by Ctrl-C after {history.epochs} epochs; saved the model trained so far")
        eprint(f"interrupted: saving the model trained so far ({history.epochs} epochs)")
    if history.stopped_early:
        notes.append(f"early stopping; kept the weights of epoch {history.best_epoch + 1}")
    return notes


def model_info(config: MLPConfig, data, args, history, accuracy: float, seconds: float) -> dict:
    """What the model file records about its training (shown by the report, read by ``glassnet evaluate``)."""
    val = history["val_score"]
    return {
        "dataset": data.name,
        "hidden": list(config.hidden_layer_sizes),
        "activation": config.activation,
        "solver": args.solver or config.solver,
        "lr": config.learning_rate_init,
        "batch_size": config.batch_size,
        "alpha": config.alpha,
        "dropout": config.dropout,
        "label_smoothing": config.label_smoothing,
        "batch_norm": bool(config.batch_norm),
        "standardize": bool(args.standardize),
        "validation_split": args.validation_split,
        "augment_shift": config.augment_shift,
        "augment_rotation": config.augment_rotation,
        "augment_scale": config.augment_scale,
        "augment_translation": config.augment_translation,
        "augment_elastic": config.augment_elastic,
        "augment_flip": bool(config.augment_flip),
        "augment_noise": config.augment_noise,
        "weight_averaging": config.weight_averaging,
        "test_time_rotations": list(config.test_time_rotations or []),
        "schedule": config.learning_rate,
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
