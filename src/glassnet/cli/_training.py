"""Training with progress on stderr: a per-epoch tqdm bar for the engine, an elapsed-time bar for estimators."""

from __future__ import annotations

import contextlib
import threading
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

__all__ = ["ModelResult", "TqdmProgress", "elapsed_bar", "fit_engine", "fit_estimator"]


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

    def row(self) -> dict:
        """The table row."""
        return {
            "model": self.name,
            "test accuracy": float(self.accuracy),
            "time (s)": f"{self.seconds:.2f}",
            "epochs": self.epochs,
            "final loss": float(self.final_loss),
        }


class TqdmProgress:
    """An engine callback drawing a tqdm bar on stderr: epoch, loss and validation accuracy."""

    def __init__(self, epochs: int, desc: str, enabled: bool = True) -> None:
        self.epochs, self.desc, self.enabled = epochs, desc, enabled
        self.bar = None

    def on_train_begin(self, trainer) -> None:
        if self.enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.epochs, desc=self.desc, unit="epoch", leave=True, dynamic_ncols=True)

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        if self.bar is None:
            return
        postfix = {"loss": f"{logs['loss']:.4g}"}
        if "val_score" in logs:
            postfix["val_acc"] = f"{logs['val_score']:.4f}"
        self.bar.update(1)
        # set_postfix redraws; tqdm rate-limits the redraws, so thousands of tiny epochs stay cheap
        self.bar.set_postfix(postfix, refresh=False)

    def on_train_end(self, trainer, history) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@contextlib.contextmanager
def elapsed_bar(desc: str, enabled: bool = True):
    """Show ``desc`` with the elapsed seconds on stderr while the block runs (for fits without hooks)."""
    if not enabled:
        yield
        return
    from tqdm.auto import tqdm

    bar = tqdm(desc=desc, total=None, bar_format="{desc}: {elapsed} elapsed", leave=True)
    stop = threading.Event()

    def tick():
        while not stop.wait(0.5):
            bar.refresh()

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        bar.close()


def fit_engine(trainer, X, y, epochs: int, desc: str, progress: bool = True):
    """Run ``trainer.fit`` with a progress bar; return ``(history, seconds)``."""
    bar = TqdmProgress(epochs, desc, enabled=progress)
    trainer.callbacks.insert(0, bar)
    start = time.perf_counter()
    try:
        history = trainer.fit(X, y, epochs=epochs)
    finally:
        trainer.callbacks.remove(bar)
        bar.on_train_end(trainer, None)
    return history, time.perf_counter() - start


def fit_estimator(estimator, X, y, desc: str, progress: bool = True):
    """Fit a scikit-learn-style estimator with an elapsed-time bar; return ``(seconds, notes)``.

    Convergence warnings are caught and returned as notes (the table says "stopped at max_iter" instead
    of a warning in the middle of the progress bars).
    """
    notes = []
    start = time.perf_counter()
    with elapsed_bar(desc, enabled=progress), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.fit(X, y)
    seconds = time.perf_counter() - start
    for w in caught:
        if "Converge" in type(w.message).__name__ or "converge" in str(w.message).lower():
            notes.append(f"reached max_iter={estimator.max_iter} before converging")
        else:
            notes.append(f"{type(w.message).__name__}: {w.message}")
    return seconds, sorted(set(notes))
