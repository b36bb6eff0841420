"""When has a monitored value stopped improving: one rule for every plateau test of glassnet.

The early-stopping and plateau callbacks (:mod:`glassnet.training.callbacks`), the ``adaptive`` learning rate
(:class:`glassnet.nn.schedules.AdaptiveLR`) and the estimators' ``best_loss_`` / ``best_validation_score_``
records all judge an epoch with :class:`Improvement`, so that scikit-learn's ``tol`` and ``n_iter_no_change``
mean the same thing wherever they appear.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["Improvement"]


class Improvement:
    r"""Whether an epoch's monitored value improves on the best so far: the one rule that
    :class:`~glassnet.training.callbacks.EarlyStopping`, :class:`~glassnet.training.callbacks.ReduceLROnPlateau`,
    the ``adaptive`` schedule (:class:`~glassnet.nn.schedules.AdaptiveLR`) and the estimators' records share.

    Values are compared as :math:`v = s \cdot x` with :math:`s = +1` when higher is better (a score) and
    :math:`-1` when lower is (a loss), so larger :math:`v` is always better. With the best so far :math:`b`:

    - an epoch **improves** when :math:`v > b + \mathrm{tol}` (``inclusive``: :math:`v \ge b + \mathrm{tol}`,
      scikit-learn's comparison);
    - with a ``tiebreak`` value :math:`t` (lower is better, e.g. the validation loss), an epoch also improves
      when :math:`v \ge b - \mathrm{tol}` and :math:`t < t_b - \mathrm{tol}`, :math:`t_b` the best epoch's;
      an improving epoch is then the new best (the best and the count move together);
    - without one, the best is the highest :math:`v` seen, improving by ``tol`` or not.

    A non-finite value never improves. ``wait`` counts the epochs since the last improvement.
    """

    def __init__(self, sign: float, tol: float, inclusive: bool = False, tiebreak: bool = False) -> None:
        if not tol >= 0:
            raise ValueError(f"tol must be >= 0; got {tol!r}.")
        self.sign, self.tol, self.inclusive, self.tiebreak = float(sign), float(tol), inclusive, tiebreak
        self.reset()

    def reset(self) -> None:
        self.best, self.best_tiebreak, self.wait = -math.inf, math.inf, 0

    def step(self, value: float, tiebreak: float | None = None) -> tuple[bool, bool]:
        """Judge one epoch: ``(improved, new best)``; updates ``best`` and ``wait``."""
        v = self.sign * float(value)
        if not np.isfinite(v):
            self.wait += 1
            return False, False
        improved = v >= self.best + self.tol if self.inclusive else v > self.best + self.tol
        if self.tiebreak and not improved:
            improved = v >= self.best - self.tol and float(tiebreak) < self.best_tiebreak - self.tol
        better = improved if self.tiebreak else v > self.best
        if better:
            self.best = v
            self.best_tiebreak = math.inf if tiebreak is None else float(tiebreak)
        self.wait = 0 if improved else self.wait + 1
        return improved, better

    def state_dict(self) -> dict:
        return {"best": self.best, "best_tiebreak": self.best_tiebreak, "wait": self.wait}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.wait = float(state["best"]), int(state["wait"])
        self.best_tiebreak = float(state.get("best_tiebreak", math.inf))
