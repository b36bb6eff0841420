r"""Softmax cross-entropy on logits, for one label per sample (multiclass)."""

from __future__ import annotations

import numpy as np

from glassnet import fast
from glassnet.nn.functional import log_softmax
from glassnet.nn.losses.base import Loss, check_logits, normalized_weights


def _row_max(z: np.ndarray) -> np.ndarray:
    """The maximum of each row of ``z`` (N, K). NumPy reduces a short last axis row by row, which costs about
    0.1 us per row; for few classes, reducing the transposed copy along its first axis is ten times faster."""
    if z.shape[1] <= 32:
        return np.max(np.ascontiguousarray(z.T), axis=0)  # (K, N) -> (N,)
    return np.max(z, axis=1)


class SoftmaxCrossEntropy(Loss):
    r"""Softmax followed by cross-entropy, fused: :math:`\ell = -\sum_k y_k \log\mathrm{softmax}(z)_k`,
    computed with a log-softmax so that it stays finite when a probability underflows.

    ``y`` is either integer class labels of shape ``(N,)`` in ``[0, K)`` or a one-hot / probability matrix of
    shape ``(N, K)``. With ``label_smoothing`` :math:`\varepsilon` the target becomes
    :math:`(1 - \varepsilon) y + \varepsilon / K`.

    Gradient (the canonical link/loss pairing: the softmax Jacobian cancels the :math:`1/p` of the log):
    :math:`\partial L / \partial z_n = w_n (\mathrm{softmax}(z_n) - y_n) / \sum w`.

    Decoding: ``predict`` is :math:`\arg\max_k z_k` (softmax is monotonic), ``log_proba`` the log-softmax, and
    the chance level is :math:`\log K`, the loss of equal probabilities.
    """

    name = "softmax_cross_entropy"
    task = "multiclass"

    def __init__(self, label_smoothing: float = 0.0) -> None:
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1); got {label_smoothing!r}.")
        self.label_smoothing = float(label_smoothing)

    def link(self, z: np.ndarray) -> np.ndarray:
        return np.exp(log_softmax(z))

    def predict(self, z: np.ndarray) -> np.ndarray:
        return np.argmax(z, axis=1)  # (N, K) -> (N,)

    def log_proba(self, z: np.ndarray) -> np.ndarray:
        return log_softmax(z)

    def chance_loss(self, y, n_outputs: int) -> float:
        return float(np.log(max(n_outputs, 2)))  # a single output is read as two classes

    def prepare_targets(self, y, dtype) -> np.ndarray:
        """Integer labels ``(N,)`` stay integers (they index the classes); ``(N, K)`` targets become ``dtype``."""
        y = np.asarray(y)
        return y.astype(dtype, copy=False) if y.ndim == 2 else y

    def forward(self, z: np.ndarray, y, sample_weight=None) -> float:
        check_logits(z)
        n, k = z.shape
        y = np.asarray(y)
        if y.ndim == 1 and sample_weight is None and not self.label_smoothing:
            return self._forward_labels(z, self._check_labels(y, n, k))
        logp = log_softmax(z)  # (N, K), finite
        w = normalized_weights(sample_weight, n, z.dtype)  # (N, 1), sums to 1
        eps = self.label_smoothing
        if y.ndim == 1:  # integer labels: gather instead of building a one-hot matrix
            labels = self._check_labels(y, n, k)
            rows = np.arange(n)
            picked = logp[rows, labels]  # (N,)
            nll = -(1.0 - eps) * picked - (eps / k) * logp.sum(axis=1)
            dz = np.exp(logp)  # softmax(z), (N, K)
            dz[rows, labels] -= 1.0 - eps
            if eps:
                dz -= eps / k
        else:
            t = self.targets_like(z, y)
            if eps:
                t = (1.0 - eps) * t + eps / k
            nll = -np.sum(t * logp, axis=1)
            dz = np.exp(logp) - t
        dz *= w
        self._dz = dz
        return float(nll @ w[:, 0])

    def _forward_labels(self, z: np.ndarray, labels: np.ndarray) -> float:
        r"""The common case, integer labels without weights or smoothing, in half the array passes:
        :math:`\ell_n = \log \sum_k e^{z_{nk} - m_n} - (z_{n y_n} - m_n)` with :math:`m_n = \max_k z_{nk}`,
        and :math:`\partial L/\partial z = (\mathrm{softmax}(z) - \mathrm{onehot}(y)) / N`."""
        fused = fast.softmax_cross_entropy(z, labels)  # the same in one compiled pass, when glassnet.fast can
        if fused is not None:
            loss, self._dz = fused
            return loss
        n, k = z.shape
        rows = np.arange(n)
        shifted = z - _row_max(z)[:, None]  # (N, K), each row's largest entry is 0
        e = np.exp(shifted)  # (N, K) in (0, 1]: no overflow
        # (N, K) @ (K,) -> (N,): the row sums, >= 1, as one BLAS call (NumPy's sum over a short axis is slow)
        total = e @ np.ones(k, dtype=e.dtype)
        nll = np.log(total) - shifted[rows, labels]  # (N,)
        e /= total[:, None]  # softmax(z)
        e[rows, labels] -= 1.0
        e *= e.dtype.type(1.0 / n)
        self._dz = e
        return float(np.mean(nll, dtype=np.float64))

    @staticmethod
    def _check_labels(y: np.ndarray, n: int, k: int) -> np.ndarray:
        if y.shape != (n,):
            raise ValueError(f"Expected {n} labels; got an array of shape {y.shape}.")
        # dtype kinds ("iu": integers, "f": floats): a tenth of np.issubdtype's cost, on every batch
        if y.dtype.kind not in "iu":
            if y.dtype.kind != "f" or not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
                raise ValueError("Class labels must be integers in [0, n_classes) (or pass one-hot targets).")
            y = y.astype(np.intp)
        if y.size and (y.min() < 0 or y.max() >= k):
            raise ValueError(f"Class labels must be in [0, {k}); got values from {y.min()} to {y.max()}.")
        return y

    def get_config(self) -> dict:
        return {"label_smoothing": self.label_smoothing}
