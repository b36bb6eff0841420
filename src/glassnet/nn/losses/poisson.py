r"""Half Poisson deviance with a log link, for counts."""

from __future__ import annotations

import numpy as np

from glassnet.nn.losses.base import Loss, check_logits, normalized_weights


class PoissonLoss(Loss):
    r"""Half Poisson deviance with a log link, for counts :math:`y \ge 0`:
    :math:`\ell = \frac1K\sum_k e^{z_k} - y_k z_k + y_k \log y_k - y_k` (zero at :math:`e^z = y`);
    gradient :math:`w_n (e^{z_n} - y_n) / (K \sum w)`.

    Predictions are :math:`e^z`. The chance level is the deviance of predicting each output's mean
    :math:`\bar y`: :math:`\frac{1}{NK}\sum_{n,k} y_{nk} \log(y_{nk} / \bar y_k)` (with :math:`0 \log 0 = 0`).
    """

    name = "poisson"
    task = "regression"

    def link(self, z: np.ndarray) -> np.ndarray:
        return np.exp(z)

    def chance_loss(self, y, n_outputs: int) -> float:
        y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        mu = np.mean(y, axis=0)  # (K,): the best constant rate
        ratio = np.divide(y, mu, out=np.ones_like(y), where=y > 0)  # y / mu, and 1 (log 1 = 0) where y = 0
        return float(np.mean(y * np.log(ratio) + mu - y))

    def forward(self, z: np.ndarray, y, sample_weight=None) -> float:
        check_logits(z)
        y = self.targets_like(z, y)
        if np.any(y < 0):
            raise ValueError("PoissonLoss needs non-negative targets.")
        w = normalized_weights(sample_weight, z.shape[0], z.dtype)
        k = z.shape[1]
        mu = np.exp(z)
        ylogy = np.zeros_like(y)
        np.log(y, out=ylogy, where=y > 0)
        ylogy *= y
        per_sample = np.sum(mu - y * z + ylogy - y, axis=1) / k
        self._dz = (mu - y) * (w / k)
        return float(per_sample @ w[:, 0])
