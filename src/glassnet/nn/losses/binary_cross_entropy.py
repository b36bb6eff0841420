r"""Sigmoid binary cross-entropy on logits, for independent 0/1 outputs (binary and multi-label)."""

from __future__ import annotations

import numpy as np

from glassnet.nn.functional import log_sigmoid, sigmoid
from glassnet.nn.losses.base import Loss, check_logits, normalized_weights


class SigmoidBinaryCrossEntropy(Loss):
    r"""Independent sigmoid per output (binary and multi-label), fused with binary cross-entropy:
    :math:`\ell = \sum_k \mathrm{softplus}(z_k) - y_k z_k` with
    :math:`\mathrm{softplus}(z) = \max(z, 0) + \log(1 + e^{-|z|})`, finite for every finite ``z``.
    Gradient: :math:`w_n(\sigma(z_n) - y_n) / \sum w`.

    Decoding: ``predict`` is :math:`[z_k > 0]` (:math:`\sigma(z_k) > 1/2`), ``log_proba`` the log-sigmoid
    :math:`\log P(y_k = 1)`, and the chance level is :math:`K \log 2`, the loss of probabilities of one half.
    """

    name = "sigmoid_binary_cross_entropy"
    task = "multilabel"

    def link(self, z: np.ndarray) -> np.ndarray:
        return sigmoid(z)

    def predict(self, z: np.ndarray) -> np.ndarray:
        return (z > 0).astype(np.intp)  # (N, K) indicators

    def log_proba(self, z: np.ndarray) -> np.ndarray:
        return log_sigmoid(z)

    def chance_loss(self, y, n_outputs: int) -> float:
        return float(n_outputs * np.log(2.0))

    def forward(self, z: np.ndarray, y, sample_weight=None) -> float:
        check_logits(z)
        y = self.targets_like(z, y)
        w = normalized_weights(sample_weight, z.shape[0], z.dtype)
        softplus = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))
        per_sample = np.sum(softplus - y * z, axis=1)  # (N,)
        self._dz = (sigmoid(z) - y) * w
        return float(per_sample @ w[:, 0])
