r"""Squared error with the identity link (least-squares regression)."""

from __future__ import annotations

import numpy as np

from glassnet.nn.losses.base import Loss, check_logits, normalized_weights


class SquaredError(Loss):
    r""":math:`\ell = \frac{1}{2K}\sum_k (z_k - y_k)^2` with the identity link; gradient
    :math:`w_n (z_n - y_n) / (K \sum w)`.

    It averages over outputs as scikit-learn's reported loss does, and its gradient is that loss's true
    gradient; scikit-learn's own gradient is :math:`K` times too large for :math:`K > 1` outputs (its issue
    #8349). The chance level is the loss of predicting each output's mean: half the mean per-output variance.
    """

    name = "squared_error"
    task = "regression"

    def link(self, z: np.ndarray) -> np.ndarray:
        return z.copy()

    def chance_loss(self, y, n_outputs: int) -> float:
        y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        return float(0.5 * np.mean(np.var(y, axis=0)))

    def forward(self, z: np.ndarray, y, sample_weight=None) -> float:
        check_logits(z)
        y = self.targets_like(z, y)
        w = normalized_weights(sample_weight, z.shape[0], z.dtype)
        k = z.shape[1]
        r = z - y  # (N, K)
        self._dz = r * (w / k)
        return float(np.sum(r * r, axis=1) @ w[:, 0] / (2 * k))
