"""Training with progress on stderr: one tqdm bar of epochs per model, with the time left.

The engine's :class:`~glassnet.training.Trainer` draws it from a callback, glassnet's estimators with their
own :class:`~glassnet.estimators.EpochProgressBar` (scikit-learn's callback API) drawing on it, scikit-learn's
``MLPClassifier`` from its growing ``loss_curve_``.
"""

from __future__ import annotations

import contextlib
import threading
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from glassnet.estimators._callbacks import EpochProgressBar, epoch_postfix
from glassnet.training.threads import blas_threads

__all__ = [
    "ModelResult",
    "EpochBar",
    "TqdmProgress",
    "watch_epochs",
    "fit_engine",
    "fit_estimator",
]


@dataclass
class ModelResult:
    """One trained model's results, as shown in the table and the report."""

    name: str
    short: str
    accuracy: float
    seconds: float
    epochs: int
    final_loss: float
    loss_curve: list[float]
    y_pred: np.ndarray
    proba: np.ndarray | None = None
    first_layer: np.ndarray | None = None  # (n_hidden, n_features), the lab's (out, in) convention
    notes: list[str] = field(default_factory=list)
    history: object | None = None  # the engine's History: its validation loss and accuracy, if computed
    settings: list[tuple[str, str]] = field(default_factory=list)  # architecture and training, for the report
    loss_floor: float | None = None  # the lowest loss it can reach (label smoothing), drawn on the loss plot
    test_accuracy: list[float] = field(default_factory=list)  # the test rows' accuracy after each epoch

    def row(self) -> dict:
        """The table row."""
        return {
            "model": self.name,
            "test accuracy": float(self.accuracy),
            "time (s)": f"{self.seconds:.2f}",
            "epochs": self.epochs,
            "final loss": float(self.final_loss),
        }


def estimator_settings(estimator) -> list[tuple[str, str]]:
    """A fitted MLP estimator's architecture and training settings in words (glassnet's or scikit-learn's)."""
    params = estimator.get_params()
    sizes = [np.asarray(estimator.coefs_[0]).shape[0]] + [np.asarray(c).shape[1] for c in estimator.coefs_]
    rows = [
        ("layers", " → ".join(str(s) for s in sizes)),
        ("activation", f"{params['activation']} (hidden), {getattr(estimator, 'out_activation_', 'softmax')}"
                       " (output)"),
        ("optimizer", params["solver"]),
        ("learning rate", f"{params['learning_rate_init']:g}, {params.get('learning_rate', 'constant')}"
                          " schedule"),
        ("batch size", "auto: 200 rows, or all if fewer" if params["batch_size"] == "auto" else str(params["batch_size"])),
        ("L2 penalty (alpha)", f"{params['alpha']:g}"),
    ]  # fmt: skip
    for key, label in (("dropout", "dropout"), ("label_smoothing", "label smoothing")):
        if params.get(key):
            rows.append((label, f"{params[key]:g}"))
    rows.append(("epochs", f"{estimator.n_iter_} of at most {params['max_iter']}"))
    if params.get("early_stopping"):
        rows.append(("early stopping", f"on {params['validation_fraction']:.0%} of the training rows"))
    rows.append(("seed", str(params["random_state"])))
    return rows


class EpochBar:
    """A tqdm bar of epochs on stderr: ``done/total [elapsed<remaining]``; its last line says how it ended.

    Parameters
    ----------
    desc : str
        The model's name, shown first.
    total : int
        The epoch budget (``max_iter``).
    enabled : bool
        ``False`` draws nothing (``--no-progress``).
    """

    def __init__(self, desc: str, total: int, enabled: bool = True) -> None:
        self.desc, self.total, self.bar = desc, int(total), None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.total, desc=desc, unit="epoch", leave=True, dynamic_ncols=True)

    @property
    def n(self) -> int:
        """Epochs shown as done."""
        return 0 if self.bar is None else int(self.bar.n)

    def advance_to(self, n: int, postfix: dict | None = None) -> None:
        """Show ``n`` epochs done (and the loss etc. in ``postfix``)."""
        if self.bar is None:
            return
        if n > self.bar.n:
            self.bar.update(n - self.bar.n)
        if postfix:
            # set_postfix redraws; tqdm rate-limits the redraws, so thousands of tiny epochs stay cheap
            self.bar.set_postfix(postfix, refresh=False)

    def finish(self, message: str = "") -> None:
        """Close the bar, leaving its last line, with ``message`` (e.g. "stopped early") after it."""
        if self.bar is None:
            return
        if message:
            self.bar.set_postfix_str(message, refresh=False)
        self.bar.close()
        self.bar = None

    def abandon(self) -> None:
        """Close the bar and erase its line (a failed attempt; the caller prints what happened)."""
        if self.bar is None:
            return
        self.bar.leave = False
        self.bar.close()
        self.bar = None


class TqdmProgress:
    """An engine callback drawing an :class:`EpochBar`: epoch, loss and validation accuracy."""

    def __init__(self, epochs: int, desc: str, enabled: bool = True) -> None:
        self.epochs, self.desc, self.enabled = epochs, desc, enabled
        self.bar = None

    def on_train_begin(self, trainer) -> None:
        self.bar = EpochBar(self.desc, self.epochs, self.enabled)

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        if self.bar is None:
            return
        postfix = {"loss": f"{logs['loss']:.4g}"}
        if "val_score" in logs:
            postfix["val_acc"] = f"{logs['val_score']:.4f}"
        self.bar.advance_to(self.bar.n + 1, postfix)

    def on_train_end(self, trainer, history) -> None:
        if self.bar is not None:
            self.bar.finish()
            self.bar = None


@contextlib.contextmanager
def watch_epochs(estimator, bar: EpochBar, every: float = 0.2):
    """Advance ``bar`` while ``estimator.fit`` runs in the block by reading its ``loss_curve_``.

    For scikit-learn's ``MLPClassifier``, which has no callbacks: its ``sgd`` and ``adam`` solvers append
    one loss per epoch to ``loss_curve_`` during ``fit``. A thread reads the list's length a few times a
    second; nothing in the estimator is changed, so its results are the same with or without the bar.
    """
    if bar.bar is None:
        yield
        return
    stale = estimator.__dict__.get("loss_curve_")  # a curve from an earlier fit is not this one's
    stop = threading.Event()

    def tick():
        ticks = 0
        while not stop.wait(every):
            ticks += 1
            curve = estimator.__dict__.get("loss_curve_")
            if curve is not None and curve is not stale and len(curve) > bar.n:
                bar.advance_to(len(curve), {"loss": f"{curve[-1]:.4g}"})
            elif bar.bar is not None and ticks % max(1, round(1.0 / every)) == 0:
                bar.bar.refresh()  # once a second, so that the elapsed time moves on during a long epoch

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def fit_engine(trainer, X, y, epochs: int, desc: str, progress: bool = True):
    """Run ``trainer.fit`` with a progress bar; return ``(history, seconds)``.

    If training diverges, the bar's line is erased before the error propagates, so no dead bar is left
    behind; the caller says what happened.
    """
    from glassnet.exceptions import TrainingDivergedError

    bar = TqdmProgress(epochs, desc, enabled=progress)
    trainer.callbacks.insert(0, bar)
    start = time.perf_counter()
    try:
        history = trainer.fit(X, y, epochs=epochs)
    except TrainingDivergedError:
        if bar.bar is not None:
            bar.bar.abandon()
            bar.bar = None
        raise
    finally:
        trainer.callbacks.remove(bar)
        bar.on_train_end(trainer, None)
    return history, time.perf_counter() - start


def fit_estimator(
    estimator, X, y, desc: str, progress: bool = True, threads: int | None = 1, callbacks: list | None = None
):
    """Fit a scikit-learn-style estimator with an epoch bar; return ``(seconds, notes)``.

    ``threads``: BLAS threads during the fit (:func:`glassnet.training.threads.blas_threads`; ``None``: the caller's
    setting). One by default: the command line fits small networks, whose matrix products gain nothing from
    threads, and a BLAS thread pool stalls when another process has a core (scikit-learn included).

    glassnet's estimators advance the bar through their EpochProgressBar (scikit-learn's callback API), scikit-learn's
    ``MLPClassifier`` through :func:`watch_epochs`. The bar's total is ``max_iter``; a fit that stops
    sooner closes its bar saying so. Convergence warnings are caught and returned as notes (the table says
    "stopped at max_iter" instead of a warning in the middle of the progress bars). ``callbacks``: engine
    callbacks for a glassnet estimator's ``fit`` (``fit(X, y, callbacks=...)``).
    """
    notes = []
    max_iter = int(getattr(estimator, "max_iter", 0) or 0)
    bar = EpochBar(desc, max_iter, enabled=progress)
    fit_kwargs = {"callbacks": list(callbacks)} if callbacks else {}
    callbacks = hasattr(estimator, "set_callbacks") and type(estimator).__module__.startswith("glassnet")
    if callbacks:  # the estimator's own bar, drawing on this one (nothing when progress is off)
        estimator.set_callbacks(*([EpochProgressBar(bar=bar.bar, score_name="val_acc")] if bar.bar else []))
        watching = contextlib.nullcontext()
    else:
        watching = watch_epochs(estimator, bar)
    start = time.perf_counter()
    try:
        with blas_threads(threads), watching, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            estimator.fit(X, y, **fit_kwargs)
    except BaseException:
        bar.abandon()
        raise
    finally:
        if callbacks:
            estimator.set_callbacks()  # the estimator keeps no reference to the bar
    seconds = time.perf_counter() - start
    n_iter = int(getattr(estimator, "n_iter_", bar.n) or 0)
    bar.advance_to(n_iter, epoch_postfix(estimator, "val_acc"))
    bar.finish(_how_it_ended(estimator, n_iter, max_iter))
    for w in caught:
        if "Converge" in type(w.message).__name__ or "converge" in str(w.message).lower():
            notes.append(f"reached max_iter={estimator.max_iter} before converging")
        else:
            notes.append(f"{type(w.message).__name__}: {w.message}")
    return seconds, sorted(set(notes))


def _how_it_ended(estimator, n_iter: int, max_iter: int) -> str:
    """A few words closing an estimator's bar when it stopped before its epoch budget."""
    if not max_iter or n_iter >= max_iter:
        return ""
    if getattr(estimator, "early_stopping", False):
        return f"stopped early at epoch {n_iter}: validation accuracy stopped improving"
    return f"stopped at epoch {n_iter}: the loss stopped improving"
