r"""Huber loss with the identity link: squared error for small residuals, absolute error for large ones."""

from __future__ import annotations

import numpy as np

from glassnet.nn.losses.base import Loss, check_logits, normalized_weights


class HuberLoss(Loss):
    r"""Huber loss averaged over outputs, :math:`\ell = \frac1K \sum_k \rho_\delta(r_k)` with :math:`r = z - y`:

    .. math::
        \rho_\delta(r) = \begin{cases} \tfrac12 r^2 & |r| \le \delta \\
                                       \delta (|r| - \tfrac12 \delta) & |r| > \delta \end{cases}
        \qquad \rho_\delta'(r) = \mathrm{clip}(r, -\delta, \delta),

    quadratic (like :class:`~glassnet.nn.losses.SquaredError`) within :math:`\delta` of the target and linear
    (like :class:`~glassnet.nn.losses.AbsoluteError`, scaled by :math:`\delta`) beyond, with the two pieces and
    their slopes meeting at :math:`|r| = \delta`. Gradient :math:`w_n \,\mathrm{clip}(r_n, -\delta, \delta) /
    (K \sum w)`. The chance level is the loss of predicting each output's median.

    Parameters
    ----------
    delta : float, default 1.0
        :math:`\delta > 0`, the residual where the loss turns from quadratic to linear, in units of ``y``.

    Examples
    --------
    >>> HuberLoss(delta=1.0).forward(np.array([[0.5], [3.0]]), np.array([0.0, 0.0]))
    1.3125
    """

    name = "huber"
    task = "regression"

    def __init__(self, delta: float = 1.0) -> None:
        if (
            isinstance(delta, bool)
            or not isinstance(delta, (int, float, np.floating))
            or not 0 < delta < np.inf
        ):
            raise ValueError(f"delta must be a float in the range (0, inf); got {delta!r}.")
        self.delta = float(delta)

    def link(self, z: np.ndarray) -> np.ndarray:
        return z.copy()

    def _rho(self, r: np.ndarray) -> np.ndarray:
        d = self.delta
        a = np.abs(r)
        return np.where(a <= d, 0.5 * r * r, d * (a - 0.5 * d))

    def chance_loss(self, y, n_outputs: int) -> float:
        y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        return float(np.mean(self._rho(y - np.median(y, axis=0))))  # (N, K) - (K,)

    def forward(self, z: np.ndarray, y, sample_weight=None) -> float:
        check_logits(z)
        y = self.targets_like(z, y)
        w = normalized_weights(sample_weight, z.shape[0], z.dtype)  # (N, 1), sums to 1
        k = z.shape[1]
        r = z - y  # (N, K)
        self._dz = np.clip(r, -self.delta, self.delta) * (w / k)
        return float(np.sum(self._rho(r), axis=1) @ w[:, 0] / k)

    def get_config(self) -> dict:
        return {"delta": self.delta}
