r"""Pinball (quantile) loss with the identity link: regression of a conditional quantile."""

from __future__ import annotations

import numpy as np

from glassnet.nn.losses.base import Loss, check_logits, normalized_weights


class PinballLoss(Loss):
    r"""Pinball loss of the quantile :math:`q`, averaged over outputs, with :math:`u = y - z`:

    .. math::
        \ell = \frac1K \sum_k \max(q u_k, (q - 1) u_k), \qquad
        \frac{\partial \ell}{\partial z_k} = \frac1K \begin{cases} -q & z_k < y_k \\
                                                          1 - q & z_k > y_k \\
                                                          0 & z_k = y_k \end{cases}

    A prediction below the target costs :math:`q` per unit and one above it :math:`1 - q`, so the minimiser is
    the :math:`q`-quantile of ``y`` (the median for :math:`q = 1/2`, where the loss is half the absolute
    error). At the kink :math:`z = y` the subgradient 0 is chosen. Gradient :math:`w_n \partial \ell_n /
    \partial z_n / \sum w`. The chance level is the loss of predicting each output's :math:`q`-quantile.

    Parameters
    ----------
    quantile : float, default 0.5
        :math:`q \in (0, 1)`, the quantile to predict.

    Examples
    --------
    >>> PinballLoss(quantile=0.9).forward(np.array([[0.0], [0.0]]), np.array([1.0, -1.0]))
    0.5
    """

    name = "pinball"
    task = "regression"

    def __init__(self, quantile: float = 0.5) -> None:
        if (
            isinstance(quantile, bool)
            or not isinstance(quantile, (int, float, np.floating))
            or not 0 < quantile < 1
        ):
            raise ValueError(f"quantile must be a float in the range (0, 1); got {quantile!r}.")
        self.quantile = float(quantile)

    def link(self, z: np.ndarray) -> np.ndarray:
        return z.copy()

    def _rho(self, u: np.ndarray) -> np.ndarray:
        q = self.quantile
        return np.maximum(q * u, (q - 1.0) * u)

    def chance_loss(self, y, n_outputs: int) -> float:
        y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        best = np.quantile(y, self.quantile, axis=0, method="inverted_cdf")  # (K,): a minimiser of the loss
        return float(np.mean(self._rho(y - best)))

    def forward(self, z: np.ndarray, y, sample_weight=None) -> float:
        check_logits(z)
        y = self.targets_like(z, y)
        w = normalized_weights(sample_weight, z.shape[0], z.dtype)  # (N, 1), sums to 1
        k = z.shape[1]
        q = self.quantile
        u = y - z  # (N, K)
        dz = np.where(u < 0, z.dtype.type(1.0 - q), z.dtype.type(-q))  # (N, K), in z's dtype
        dz[u == 0] = 0.0  # the kink
        self._dz = dz * (w / k)
        return float(np.sum(self._rho(u), axis=1) @ w[:, 0] / k)

    def get_config(self) -> dict:
        return {"quantile": self.quantile}
