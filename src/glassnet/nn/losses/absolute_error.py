r"""Absolute error with the identity link (median regression)."""

from __future__ import annotations

import numpy as np

from glassnet.nn.losses.base import Loss, check_logits, normalized_weights


class AbsoluteError(Loss):
    r"""Mean absolute error over outputs, :math:`\ell = \frac1K \sum_k |r_k|` with :math:`r = z - y` and the
    identity link; its minimiser is the conditional median, so outliers in ``y`` pull less than in squared error.

    Gradient (a subgradient: :math:`|r|` has a kink at 0, where :math:`\mathrm{sign}(0) = 0` is chosen):
    :math:`\partial L / \partial z_n = w_n \,\mathrm{sign}(r_n) / (K \sum w)`.

    The chance level is the loss of predicting each output's median: :math:`\frac{1}{NK} \sum |y - \tilde y|`.

    Examples
    --------
    >>> AbsoluteError().forward(np.array([[1.0], [2.0]]), np.array([0.0, 4.0]))
    1.5
    """

    name = "absolute_error"
    task = "regression"

    def link(self, z: np.ndarray) -> np.ndarray:
        return z.copy()

    def chance_loss(self, y, n_outputs: int) -> float:
        y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        return float(np.mean(np.abs(y - np.median(y, axis=0))))  # (N, K) - (K,)

    def forward(self, z: np.ndarray, y, sample_weight=None) -> float:
        check_logits(z)
        y = self.targets_like(z, y)
        w = normalized_weights(sample_weight, z.shape[0], z.dtype)  # (N, 1), sums to 1
        k = z.shape[1]
        r = z - y  # (N, K)
        self._dz = np.sign(r) * (w / k)
        return float(np.sum(np.abs(r), axis=1) @ w[:, 0] / k)
