"""``glassnet compare``: the lab's comparison on the 8x8 digits, four models, one table and a report."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from glassnet.cli import recipes
from glassnet.cli._common import CLIError, eprint, format_table, fraction, positive_float
from glassnet.cli._report import write_results_report
from glassnet.cli._training import ModelResult, estimator_settings, fit_engine, fit_estimator

MODELS = {
    "lab": "glassnet, lab recipe",
    "recommended": "glassnet, recommended",
    "sklearn-lab": "scikit-learn, lab settings",
    "sklearn-default": "scikit-learn, defaults",
}
SHORT = {"lab": "A", "recommended": "B", "sklearn-lab": "C", "sklearn-default": "D"}


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "compare",
        help="train the lab's network, glassnet's recommended one and two scikit-learn models on the digits",
        description=(
            "On scikit-learn's 8x8 digits (20% test split) train (A) glassnet with the lab's recipe "
            "(64-80-70-10 sigmoid, full-batch gradient descent, 5,000 epochs), (B) glassnet's recommended "
            "recipe, (C) scikit-learn's MLPClassifier with the lab's settings and (D) with its defaults. "
            "Prints a table and writes pictures and a self-contained report.html."
        ),
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the split and of every model (default 0)")
    p.add_argument("--test-size", type=fraction, default=0.2, help="test fraction (default 0.2)")
    p.add_argument("--out", default="glassnet-report", help="output folder (default ./glassnet-report)")
    p.add_argument(
        "--epochs-scale",
        type=positive_float,
        default=1.0,
        help="multiply every model's epoch budget (e.g. 0.02 for a quick look; default 1)",
    )
    p.add_argument("--quick", action="store_true", help="same as --epochs-scale 0.02")
    p.add_argument(
        "--lab-lr",
        type=positive_float,
        help="step of the lab recipe on the mean gradient (default: the lab's 0.01 on the summed gradient, "
        "i.e. 0.01 x n_train)",
    )
    p.add_argument(
        "--models",
        default=",".join(MODELS),
        help=f"comma-separated subset of {', '.join(MODELS)} (default: all)",
    )
    p.add_argument("--grid", type=int, default=32, help="number of random test images drawn (default 32)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def _lab(data, seed, scale, lr, progress) -> ModelResult:
    from glassnet.exceptions import TrainingDivergedError

    n_train = len(data.X_train)
    notes = []
    if lr is None:
        lr = recipes.lab_learning_rate(n_train)
        try:
            return _lab_run(data, seed, scale, lr, progress, notes)
        except TrainingDivergedError as exc:
            fallback = recipes.LAB.learning_rate_init
            eprint(
                f"{SHORT['lab']} {MODELS['lab']}: diverged in epoch {exc.epoch + 1} with the lab's step (0.01 on "
                f"the summed gradient = {lr:.4g} on the mean gradient); retrying with the mean-gradient step "
                f"{fallback:g}"
            )
            notes.append(
                f"the lab's step (0.01 on the summed gradient = {lr:.4g} on the mean gradient) diverged in "
                f"epoch {exc.epoch + 1}; glassnet noticed and reran with step {fallback:g} (choose with --lab-lr)"
            )
            lr = fallback
    try:
        return _lab_run(data, seed, scale, lr, progress, notes)
    except TrainingDivergedError as exc:
        raise CLIError(f"the lab recipe diverged with step {lr:g}: {exc}") from None


def _lab_run(data, seed, scale, lr, progress, notes) -> ModelResult:
    from glassnet.config.build import build_network, make_loss, make_trainer
    from glassnet.nn.initializers import as_generator

    n_train = len(data.X_train)
    epochs = max(1, round(recipes.LAB.max_iter * scale))
    config = recipes.LAB.replace(learning_rate_init=lr, batch_size=n_train, max_iter=epochs)  # full batch
    sizes = [data.n_features, *config.hidden_layer_sizes, len(data.classes)]
    rng = as_generator(seed)
    net = build_network(
        config, data.n_features, len(data.classes), make_loss(config, "multiclass"), np.float32, rng
    )
    trainer = make_trainer(config, net, n_train, rng, callbacks=[_test_scoring(data)])
    desc = f"{SHORT['lab']} {MODELS['lab']}"
    history, seconds = fit_engine(trainer, data.X_train, data.y_train, epochs, desc, progress)
    losses = list(history["loss"])
    notes = [
        *notes,
        f"step {lr:.4g} on the mean gradient over {n_train} samples = {lr / n_train:.4g} on the lab's summed "
        f"gradient; {epochs} full-batch epochs",
    ]
    proba = net.predict_proba(data.X_test)
    settings = [
        ("layers", " → ".join(str(s) for s in sizes)),
        ("activation", f"{recipes.LAB.activation} (sigmoid, hidden), softmax (output)"),
        ("optimizer", "gradient descent on the full batch (every training image in every step)"),
        ("learning rate", f"{lr:.4g} on the mean gradient (= {lr / n_train:.4g} on the summed gradient)"),
        ("L2 penalty", "none"),
        ("epochs", f"{len(losses)} of {epochs}"),
        ("seed", str(seed)),
    ]
    return ModelResult(
        MODELS["lab"], SHORT["lab"], float(np.mean(proba.argmax(1) == data.y_test)), seconds, len(losses),
        losses[-1] if losses else float("nan"), losses, proba.argmax(1), proba,
        net.parameters()["layers.0.W"].copy(), notes, history=history, settings=settings,
        test_accuracy=list(history.records.get("test_accuracy", [])),
    )  # fmt: skip


def _test_scoring(data):
    """The engine callback scoring the test rows after every epoch, recorded as ``test_accuracy`` (for the
    report's curves only: nothing is chosen by it)."""
    from glassnet.training.callbacks import EpochScoring

    return EpochScoring(["accuracy"], data=(data.X_test, data.y_test), prefix="test_")


def _scored_sklearn(estimator, data):
    """scikit-learn's ``MLPClassifier`` with ``estimator``'s parameters that also scores the test rows after
    every epoch (``test_accuracy_curve_``), for the report's curves.

    scikit-learn's estimator has no callbacks; its training loop ends every epoch by calling
    ``_update_no_improvement_count``, which this subclass extends with a ``predict`` on the test rows. Nothing
    it computes feeds back into training, so the fit is the same as the plain estimator's.
    """
    from sklearn.neural_network import MLPClassifier

    X_test, y_test = data.X_test, data.y_test

    class EpochScoredMLPClassifier(MLPClassifier):
        def _update_no_improvement_count(self, *args, **kwargs):
            super()._update_no_improvement_count(*args, **kwargs)
            curve = self.__dict__.setdefault("test_accuracy_curve_", [])
            curve.append(float(np.mean(self.predict(X_test) == y_test)))

    return EpochScoredMLPClassifier(**estimator.get_params())


def _estimator(key, estimator, data, progress) -> ModelResult:
    ours = type(estimator).__module__.startswith("glassnet")
    callbacks = [_test_scoring(data)] if ours else None
    if not ours:
        estimator = _scored_sklearn(estimator, data)
    seconds, notes = fit_estimator(
        estimator, data.X_train, data.y_train, f"{SHORT[key]} {MODELS[key]}", progress, callbacks=callbacks
    )
    if ours:
        test_accuracy = list(estimator.history_.records.get("test_accuracy", []))
    else:
        test_accuracy = list(estimator.__dict__.get("test_accuracy_curve_", []))
    proba = estimator.predict_proba(data.X_test)
    y_pred = np.searchsorted(estimator.classes_, estimator.classes_[proba.argmax(1)])
    losses = [float(v) for v in getattr(estimator, "loss_curve_", [])]
    eps, floor = float(getattr(estimator, "label_smoothing", 0.0) or 0.0), None
    if eps:
        k = len(estimator.classes_)
        hit, miss = 1.0 - eps + eps / k, eps / k  # the smoothed target's probabilities
        floor = -hit * np.log(hit) - (k - 1) * miss * np.log(miss)  # its entropy: the lowest reachable loss
        notes.append(
            f"label smoothing {eps:g}: its loss cannot fall below {floor:.3f}, the smoothed targets' entropy"
        )
    if getattr(estimator, "best_validation_score_", None) is not None and estimator.early_stopping:
        notes.append(f"early stopping on a 10% validation split, best validation accuracy "
                     f"{estimator.best_validation_score_:.4f}")  # fmt: skip
    return ModelResult(
        MODELS[key], SHORT[key], float(np.mean(y_pred == data.y_test)), seconds, int(estimator.n_iter_),
        losses[-1] if losses else float("nan"), losses, y_pred, proba,
        np.asarray(estimator.coefs_[0]).T.copy(),  # coefs_ are (in, out); the report draws (out, in)
        notes, settings=estimator_settings(estimator), loss_floor=None if floor is None else float(floor), test_accuracy=test_accuracy,
    )  # fmt: skip


#: an epoch budget at or below this fraction is a smoke test: the numbers show only that compare runs
SMOKE_SCALE = 0.1


def _budget_words(scale: float) -> str:
    """The epoch budget in words, for the header line."""
    if scale == 1.0:
        return "each model trains for its full number of epochs"
    words = f"each model trains for {scale:.1%} of its epochs".replace(".0%", "%")
    if scale <= SMOKE_SCALE:
        return f"{words}: a smoke test, the accuracies will mean nothing"
    return words if scale > 1.0 else f"{words}: the accuracies will be lower than with the full budget"


def smoke_test_warning(scale: float, results, n_classes: int) -> str:
    """The warning printed under the table and shown atop the report of a smoke-test run (else "")."""
    if scale > SMOKE_SCALE:
        return ""
    chance = 1.0 / n_classes
    weak = [f"{r.short} {r.accuracy:.3f}" for r in results if r.accuracy < 2 * chance]
    at_chance = f" ({', '.join(weak)}: guessing gives {chance:.2f})" if weak else ""
    return (
        f"every model trained for {scale:.1%} of its epochs".replace(".0%", "%")
        + " (--quick or a small --epochs-scale), so these numbers only show that the comparison runs; they "
        f"say nothing about the models{at_chance}. Run `glassnet compare` without --quick for the comparison."
    )


def run(args) -> int:
    from glassnet.data import load_digits

    scale = 0.02 if args.quick else args.epochs_scale
    chosen = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in chosen if m not in MODELS]
    if unknown or not chosen:
        raise CLIError(f"unknown model(s) {unknown} for --models; choose from {', '.join(MODELS)}", code=2)
    progress = not args.no_progress
    start = time.perf_counter()
    data = load_digits(test_size=args.test_size, seed=args.seed)
    eprint(
        f"digits: {len(data.X_train)} training and {len(data.X_test)} test images of 8x8 pixels, "
        f"seed {args.seed}; {_budget_words(scale)}"
    )
    results = []
    for key in chosen:
        if key == "lab":
            results.append(_lab(data, args.seed, scale, args.lab_lr, progress))
        elif key == "recommended":
            results.append(_estimator(key, recipes.recommended_estimator(args.seed, scale), data, progress))
        elif key == "sklearn-lab":
            results.append(_estimator(key, recipes.sklearn_lab_estimator(args.seed, scale), data, progress))
        else:
            results.append(
                _estimator(key, recipes.sklearn_default_estimator(args.seed, scale), data, progress)
            )
    table = format_table([r.row() for r in results])
    print(table)
    for r in results:
        for note in r.notes:
            print(f"  {r.short} ({r.name}): {note}")
    warning = smoke_test_warning(scale, results, len(data.classes))
    if warning:
        print(f"\nSMOKE TEST ONLY: {warning}")
    report = write_results_report(
        Path(args.out), data, results,
        title="glassnet compare: the lab's digits, four models",
        intro=(
            f"Each network learns to read handwritten digits (scikit-learn's 8x8 digits) from "
            f"{len(data.X_train)} training images and is tested on {len(data.X_test)} others (split with seed "
            f"{args.seed}). For reference, the lab reported 0.9472 for its own network (A) and 0.9667 for "
            "scikit-learn's with the lab's settings (C). To watch such a network learn, batch by batch, and "
            "draw digits for it to read, run \"glassnet playground\" in a terminal."
        ),
        n_grid=args.grid, seed=args.seed, warning=warning,
    )  # fmt: skip
    print(f"report: {report}  ({time.perf_counter() - start:.1f} s in all)")
    return 0
