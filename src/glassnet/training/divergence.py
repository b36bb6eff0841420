r"""When has a fit diverged? One rule for every entry point, judged on the current fit's own course.

The **reference** of a fit is the largest of its first batch loss, the loss of the best constant prediction of
its data (the chance level, :func:`best_constant_loss`) and that of all-zero outputs (the targets' scale, for
data whose chance level is near 0, such as a single row). It belongs to the current fit
only: a warm-started fit on other data is not compared with an earlier one. A fit has diverged when

1. a loss is not finite (at once: the weights are no longer usable), or
2. :data:`PATIENCE` epochs in a row end above ``factor`` times the reference (a single spike that training
   recovers from is not divergence), or
3. after such a spike, the loss settles at the chance level for :data:`PATIENCE` epochs: the units
   saturated and nothing more is learnt (the lab's summed-gradient step does this). Settled means at most
   1 % above the chance level and not below it: a network whose loss is below the best constant's still reads
   its inputs (on data without signal, a fit that overshot at first comes down to the chance level and then
   below it, as scikit-learn's does), or
4. after the last step, which no epoch loss has seen, the loss of the final weights on the last batch is not
   finite or is above ``factor`` times the larger of the reference and that batch's loss before the step;
   or the fit ends while above the limit.

The weights to fall back to are those from before the trouble: the start of the first epoch above the limit,
or of the epoch whose loss became non-finite.
"""

from __future__ import annotations

import copy

import numpy as np

from glassnet.nn.losses import Loss

__all__ = ["PATIENCE", "DivergenceRule", "best_constant_loss"]

#: epochs in a row above the limit (or settled at the chance level after a spike) that count as divergence
PATIENCE = 3


class DivergenceRule:
    """The rule of the module docstring, fed by the training loop; ``factor=None`` keeps only rule 1."""

    def __init__(self, factor: float | None = 3.0) -> None:
        self.factor = factor
        self.start()

    def start(self) -> None:
        """Forget the previous fit: each fit is judged by its own course."""
        self.reference = self.chance = None
        self.epochs_above = self.epochs_at_chance = 0
        self.fallback = None  # the weights from before the trouble
        self.last_batch = None  # (rows, loss before the step) of the last step

    def first_loss(self, loss: float, net, y) -> None:
        """Set the reference from the fit's first batch loss and its targets ``y``."""
        self.chance = best_constant_loss(net.loss, y, net.n_outputs)
        zeros = Loss.chance_loss(net.loss, y, net.n_outputs)  # the base class: the loss of all-zero outputs
        self.reference = max(loss, self.chance, zeros)

    def too_large(self, loss: float, reference: float | None = None) -> bool:
        """Non-finite, or above ``factor`` times the reference (or ``reference``, if larger)."""
        if not np.isfinite(loss):
            return True
        if self.factor is None or self.reference is None:
            return False
        return loss > self.factor * max(self.reference, reference or 0.0, 1e-12)

    def batch_diverged(self, loss: float, rows, epoch_start) -> bool:
        """After a step: rule 1; remembers the batch for rule 4."""
        self.last_batch = (rows, loss)
        if np.isfinite(loss):
            return False
        self.fallback = epoch_start if self.fallback is None else self.fallback
        return True

    def epoch_diverged(self, loss: float, epoch_start) -> bool:
        """After an epoch: rules 1 to 3."""
        above = self.too_large(loss)
        if above and self.fallback is None:
            self.fallback = epoch_start  # the weights from before the first spike
        self.epochs_above = self.epochs_above + 1 if above else 0
        settled = (
            self.fallback is not None and -1e-6 * self.chance <= loss - self.chance <= 0.01 * self.chance
        )
        self.epochs_at_chance = self.epochs_at_chance + 1 if settled else 0
        return not np.isfinite(loss) or PATIENCE in (self.epochs_above, self.epochs_at_chance)

    def final_loss(self, net, data) -> float | None:
        """Rule 4: the loss of the final weights on the last batch if it counts as divergence, else None."""
        if self.last_batch is None or self.reference is None:
            return None
        rows, loss_before = self.last_batch
        Xb, yb, wb = data.batch(rows, net.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            loss = float(net.loss.forward(net._forward(Xb), yb, wb))
        return loss if self.epochs_above or self.too_large(loss, reference=loss_before) else None

    def message(self, loss: float, lr: float, when: str) -> str:
        """What went wrong and what to do, for :class:`~glassnet.exceptions.TrainingDivergedError`."""
        if self.reference is None or not np.isfinite(self.reference):
            advice = (
                "No step had been taken yet, so the learning rate is not the cause: the inputs are probably on "
                "too large a scale; standardize them (e.g. with scikit-learn's StandardScaler). (scikit-learn "
                "says: Solver produced non-finite parameter weights. The input data may contain large values "
                "and need to be preprocessed.)"
            )
        else:
            advice = (
                f"The learning rate ({lr:.3g}) is probably too large; try a smaller one, e.g. {lr / 10:.3g}, "
                "or standardize the inputs (e.g. with scikit-learn's StandardScaler). The weights from before "
                "the trouble were kept."
            )
        reference = "" if self.reference is None else f" (this fit's reference: {self.reference:.4g})"
        return f"Training diverged {when}: the loss became {loss:.4g}{reference}. {advice}"


def best_constant_loss(loss: Loss, y, n_outputs: int) -> float:
    r"""The loss of the best constant output for the targets ``y``: the chance level.

    A regression loss knows its own (:meth:`~glassnet.nn.losses.Loss.chance_loss`: the mean's, the median's).
    For a classification head it is the loss of the class frequencies :math:`p`, the targets' entropy: logits
    :math:`\log p_k` for a softmax, :math:`\log(p_k / (1 - p_k))` for one sigmoid per label.
    """
    if loss.task == "regression":
        return loss.chance_loss(y, n_outputs)
    y = np.asarray(y)
    if y.ndim == 1 and loss.task == "multiclass":  # class indices
        p = np.bincount(y.astype(np.intp), minlength=n_outputs) / max(len(y), 1)
    else:  # one-hot rows or label indicators
        p = y.reshape(len(y), -1).astype(np.float64).mean(axis=0)
    if len(p) != n_outputs:  # targets that do not match the head (a softmax of one output): its own level
        return loss.chance_loss(y, n_outputs)
    p = np.clip(p, 1e-12, 1.0 - 1e-12)
    z = np.log(p) if loss.task == "multiclass" else np.log(p) - np.log1p(-p)  # (K,)
    constant = copy.copy(loss)  # a copy: this loss's cached gradient is left as it is
    total = 0.0
    for start in range(0, len(y), 4096):  # in chunks, to bound memory
        part = y[start : start + 4096]
        total += len(part) * float(constant.forward(np.tile(z, (len(part), 1)), part))
    return total / max(len(y), 1)
