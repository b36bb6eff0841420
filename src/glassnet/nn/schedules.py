r"""Learning-rate schedules.

A schedule holds the current rate in ``lr``; the training loop tells it about progress through
``on_batch_end(batch_size)`` and ``on_epoch_end(epoch, loss)`` and copies ``lr`` into the optimizer.

==================  ===========================================================================================
``ConstantLR``      :math:`\eta_t = \eta_0`
``InvScalingLR``    :math:`\eta = \eta_0 / (t + 1)^{p}`, :math:`t` = samples seen, updated at each epoch's end
                    (scikit-learn's ``invscaling``)
``AdaptiveLR``      divide by 5 whenever ``patience`` epochs pass without the loss improving by ``tol``;
                    ``done`` once :math:`\eta \le 10^{-6}` (scikit-learn's ``adaptive``)
``StepLR``          :math:`\eta = \eta_0 \gamma^{\lfloor e / s \rfloor}` after epoch :math:`e`
``CosineLR``        linear warm-up over :math:`w` steps, then
                    :math:`\eta_{min} + \tfrac12(\eta_0 - \eta_{min})(1 + \cos(\pi (t - w) / (T - w)))`
                    per batch step :math:`t` up to :math:`T`
==================  ===========================================================================================

Each schedule declares its ``name``, and :func:`register_schedule` makes it known by it in :data:`SCHEDULES`,
which the estimators' ``learning_rate``, ``glassnet train --schedule`` and the playground read. The estimators
build it with the settings its constructor names (``lr``, ``power_t``, ``total_steps``, ``warmup_steps``,
``samples_seen``: :func:`glassnet.config.build.make_schedule`); other arguments keep their defaults.
"""

from __future__ import annotations

import math

from glassnet.nn.improvement import Improvement


class Schedule:
    """Base class: a constant rate; subclasses change ``lr`` in the hooks and declare their ``name`` (and
    ``formula``, the rate in plain text, for menus)."""

    name: str | None = None
    formula: str = ""
    done = False

    def __init__(self, lr: float) -> None:
        if not (isinstance(lr, (int, float)) and not isinstance(lr, bool) and math.isfinite(lr) and lr > 0):
            raise ValueError(f"The learning rate must be a float in the range (0, inf); got {lr!r}.")
        self.lr0 = self.lr = float(lr)

    def on_batch_end(self, batch_size: int) -> None:
        pass

    def on_epoch_end(self, epoch: int, loss: float) -> None:
        pass

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr!r})"


class ConstantLR(Schedule):
    """The rate never changes."""

    name = "constant"
    formula = "η = η₀"


class InvScalingLR(Schedule):
    r"""scikit-learn's ``invscaling``: :math:`\eta = \eta_0 / (t+1)^{p}` with :math:`t` counting samples.

    ``samples_seen`` starts the count where earlier fits left it (scikit-learn's ``t_``).
    """

    name = "invscaling"
    formula = "η = η₀ / (t + 1)^p, t = samples seen"

    def __init__(self, lr: float, power_t: float = 0.5, samples_seen: int = 0) -> None:
        super().__init__(lr)
        self.power_t = float(power_t)
        self.t = int(samples_seen)

    def on_batch_end(self, batch_size: int) -> None:
        self.t += batch_size

    def on_epoch_end(self, epoch: int, loss: float) -> None:
        self.lr = self.lr0 / (self.t + 1) ** self.power_t


class AdaptiveLR(Schedule):
    """scikit-learn's ``adaptive``: divide by ``1 / factor`` (5) after ``patience`` epochs in which the loss has
    not fallen by ``tol``; ``done`` once the rate reaches ``min_lr``.

    A fall is judged by the plateau rule of the stopping callbacks, :class:`~glassnet.nn.improvement.Improvement`,
    with scikit-learn's inclusive comparison (a fall of exactly ``tol`` counts); a non-finite loss never counts.
    """

    name = "adaptive"
    formula = "η ← η / 5 after `patience` epochs without improvement"

    def __init__(
        self, lr: float, patience: int = 10, tol: float = 1e-4, factor: float = 0.2, min_lr: float = 1e-6
    ) -> None:
        super().__init__(lr)
        self.patience, self.tol, self.factor, self.min_lr = int(patience), float(tol), float(factor), min_lr
        # the rule's state as plain numbers, which a checkpoint saves and restores: the best loss, and the
        # epochs since the loss last fell by tol
        self.best = math.inf
        self.bad_epochs = 0

    def on_epoch_end(self, epoch: int, loss: float) -> None:
        rule = Improvement(-1.0, self.tol, inclusive=True)  # -1: a loss, lower is better
        rule.load_state_dict({"best": -self.best, "wait": self.bad_epochs})
        rule.step(loss)
        self.best, self.bad_epochs = -rule.best, rule.wait
        if self.bad_epochs >= self.patience:
            self.lr *= self.factor
            self.bad_epochs = 0  # count the next plateau afresh
        self.done = self.lr <= self.min_lr


class StepLR(Schedule):
    r""":math:`\eta = \eta_0 \gamma^{\lfloor e / s \rfloor}`: multiply by ``gamma`` every ``step_size`` epochs."""

    name = "step"
    formula = "η = η₀ γ^⌊e / s⌋ after epoch e"

    def __init__(self, lr: float, step_size: int = 30, gamma: float = 0.1) -> None:
        super().__init__(lr)
        if step_size < 1:
            raise ValueError(f"step_size must be a positive integer; got {step_size!r}.")
        self.step_size, self.gamma = int(step_size), float(gamma)

    def on_epoch_end(self, epoch: int, loss: float) -> None:
        self.lr = self.lr0 * self.gamma ** ((epoch + 1) // self.step_size)


class CosineLR(Schedule):
    """Linear warm-up for ``warmup_steps`` batches, then cosine decay to ``min_lr`` at ``total_steps``."""

    name = "cosine"
    formula = "linear warm-up, then η = η_min + ½(η₀ − η_min)(1 + cos(π t / T))"

    def __init__(self, lr: float, total_steps: int, warmup_steps: int = 0, min_lr: float = 0.0) -> None:
        super().__init__(lr)
        if total_steps < 1 or not 0 <= warmup_steps < total_steps:
            raise ValueError(
                f"Need total_steps >= 1 and 0 <= warmup_steps < total_steps; got {total_steps}, {warmup_steps}."
            )
        self.total_steps, self.warmup_steps, self.min_lr = int(total_steps), int(warmup_steps), float(min_lr)
        self.t = 0
        self.lr = self._rate(0)

    def _rate(self, t: int) -> float:
        if t < self.warmup_steps:
            return self.lr0 * (t + 1) / self.warmup_steps
        progress = min(1.0, (t - self.warmup_steps) / max(1, self.total_steps - self.warmup_steps))
        return self.min_lr + 0.5 * (self.lr0 - self.min_lr) * (1.0 + math.cos(math.pi * progress))

    def on_batch_end(self, batch_size: int) -> None:
        self.t += 1
        self.lr = self._rate(self.t)


# --- the registry ---------------------------------------------------------------------------------------------

#: schedule name (and alias) -> class: what ``get_schedule``, the estimators' ``learning_rate``, ``glassnet
#: train`` and the playground look up
SCHEDULES: dict[str, type[Schedule]] = {}


def register_schedule(cls: type[Schedule], *aliases: str) -> type[Schedule]:
    """Make a schedule class known by its ``name`` (and any ``aliases``); usable as a class decorator. The class
    must subclass :class:`Schedule`, declare a ``name`` and take the initial rate ``lr`` first."""
    if not isinstance(cls, type) or not issubclass(cls, Schedule):
        raise TypeError(
            f"register_schedule expects a subclass of glassnet.nn.schedules.Schedule; got {cls!r}."
        )
    if not isinstance(cls.name, str) or not cls.name:
        raise ValueError(f"{cls.__name__} must declare its name (a non-empty string); got {cls.name!r}.")
    for key in (cls.name, *aliases):
        SCHEDULES[key] = cls
    return cls


def unregister_schedule(name: str) -> None:
    """Forget a registered schedule, its name and its aliases."""
    cls = schedule_class(name)
    for key in [key for key, value in SCHEDULES.items() if value is cls]:
        del SCHEDULES[key]


for _cls in (ConstantLR, InvScalingLR, AdaptiveLR, StepLR, CosineLR):
    register_schedule(_cls)
del _cls


def schedule_class(name: str) -> type[Schedule]:
    """The schedule class registered under ``name``; unknown names raise a ``ValueError`` listing the valid ones."""
    if not isinstance(name, str) or name not in SCHEDULES:
        raise ValueError(f"Unknown learning-rate schedule {name!r}; expected one of {sorted(SCHEDULES)}.")
    return SCHEDULES[name]


def get_schedule(name: str, lr: float, **kwargs) -> Schedule:
    """A schedule by name; unknown names raise a ``ValueError`` listing the valid ones."""
    return schedule_class(name)(lr, **kwargs)
