r"""Losses computed from logits, each with its fused gradient.

All losses take the network's raw output ``z`` (logits) of shape ``(N, K)`` and average over samples,
weighted by ``sample_weight`` :math:`w` when given: :math:`L = \sum_n w_n \ell_n / \sum_n w_n`.

=====================================  =====================================================  =======================
loss                                   per-sample :math:`\ell_n`                              :math:`\partial \ell_n/\partial z_n`
=====================================  =====================================================  =======================
``SoftmaxCrossEntropy`` (multiclass)   :math:`-\sum_k y_k \log \mathrm{softmax}(z)_k`         :math:`\mathrm{softmax}(z) - y`
``SigmoidBinaryCrossEntropy``          :math:`\sum_k \mathrm{softplus}(z_k) - y_k z_k`        :math:`\sigma(z) - y`
``SquaredError``                       :math:`\tfrac{1}{2K} \sum_k (z_k - y_k)^2`             :math:`(z - y) / K`
``PoissonLoss`` (log link)             :math:`\tfrac1K \sum_k e^{z_k} - y_k z_k + y_k\log y_k - y_k`  :math:`(e^z - y) / K`
=====================================  =====================================================  =======================

``SquaredError`` averages over outputs as scikit-learn's reported loss does, and its gradient is that loss's
true gradient; scikit-learn's own gradient is :math:`K` times too large for :math:`K > 1` outputs (its issue
#8349). ``PoissonLoss`` is half the Poisson deviance, minimal (zero) at :math:`e^z = y`.

The L2 penalty (:meth:`glassnet.network.Sequential.loss_and_grad`) is kept apart from the data term: :math:`\frac{\alpha}{2 n} \sum \|W\|^2`
over weight matrices only (not biases), with :math:`n` the *training-set* size. scikit-learn divides by the
*batch* size instead, so its ``alpha`` regularises harder when batches are small; glassnet's does not depend
on the batch size.
"""

from __future__ import annotations

import numpy as np

from glassnet.functional import log_softmax, sigmoid


def _check_logits(z: np.ndarray) -> None:
    if z.ndim != 2:
        raise ValueError(f"Loss expects logits of shape (n_samples, n_outputs); got shape {z.shape}.")


def _check_finite(name: str, a: np.ndarray) -> None:
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values; clean or impute them before training.")


def _row_max(z: np.ndarray) -> np.ndarray:
    """The maximum of each row of ``z`` (N, K). NumPy reduces a short last axis row by row, which costs about
    0.1 us per row; for few classes, reducing the transposed copy along its first axis is ten times faster."""
    if z.shape[1] <= 32:
        return np.max(np.ascontiguousarray(z.T), axis=0)  # (K, N) -> (N,)
    return np.max(z, axis=1)


def _weights(sample_weight, n: int, dtype) -> np.ndarray:
    r"""Normalised weights :math:`w_n / \sum w` of shape ``(N, 1)`` (``1/N`` each when none are given)."""
    if sample_weight is None:
        return np.full((n, 1), 1.0 / n, dtype=dtype)
    w = np.asarray(sample_weight, dtype=dtype).reshape(-1)
    if w.shape != (n,):
        raise ValueError(f"sample_weight must have shape ({n},); got {np.shape(sample_weight)}.")
    _check_finite("sample_weight", w)
    if np.any(w < 0) or w.sum() <= 0:
        raise ValueError("sample_weight must be non-negative with a positive sum.")
    return (w / w.sum()).reshape(n, 1)


class Loss:
    """Base class: ``forward(z, y, sample_weight)`` returns the loss, ``backward()`` its gradient w.r.t. ``z``."""

    name = "loss"

    def link(self, z: np.ndarray) -> np.ndarray:
        """The output activation that turns logits into predictions (probabilities or values)."""
        raise NotImplementedError

    def forward(self, z: np.ndarray, y, sample_weight=None) -> float:
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        if getattr(self, "_dz", None) is None:
            raise RuntimeError(f"{type(self).__name__}.backward() called before forward().")
        return self._dz

    def get_config(self) -> dict:
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"

    def _targets_2d(self, z: np.ndarray, y) -> np.ndarray:
        y = np.asarray(y, dtype=z.dtype)
        if y.ndim == 1 and z.shape[1] == 1:
            y = y.reshape(-1, 1)
        if y.shape != z.shape:
            raise ValueError(
                f"{type(self).__name__}: targets of shape {y.shape} do not match outputs {z.shape}."
            )
        _check_finite("y", y)
        return y


class SoftmaxCrossEntropy(Loss):
    r"""Softmax followed by cross-entropy, fused: :math:`\ell = -\sum_k y_k \log\mathrm{softmax}(z)_k`,
    computed with a log-softmax so that it stays finite when a probability underflows.

    ``y`` is either integer class labels of shape ``(N,)`` in ``[0, K)`` or a one-hot / probability matrix of
    shape ``(N, K)``. With ``label_smoothing`` :math:`\varepsilon` the target becomes
    :math:`(1 - \varepsilon) y + \varepsilon / K`.

    Gradient (the canonical link/loss pairing: the softmax Jacobian cancels the :math:`1/p` of the log):
    :math:`\partial L / \partial z_n = w_n (\mathrm{softmax}(z_n) - y_n) / \sum w`.
    """

    name = "softmax_cross_entropy"

    def __init__(self, label_smoothing: float = 0.0) -> None:
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1); got {label_smoothing!r}.")
        self.label_smoothing = float(label_smoothing)

    def link(self, z: np.ndarray) -> np.ndarray:
        return np.exp(log_softmax(z))

    def forward(self, z: np.ndarray, y, sample_weight=None) -> float:
        _check_logits(z)
        n, k = z.shape
        y = np.asarray(y)
        if y.ndim == 1 and sample_weight is None and not self.label_smoothing:
            return self._forward_labels(z, self._check_labels(y, n, k))
        logp = log_softmax(z)  # (N, K), finite
        w = _weights(sample_weight, n, z.dtype)  # (N, 1), sums to 1
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
            t = self._targets_2d(z, y)
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
        if not np.issubdtype(y.dtype, np.integer):
            if (
                not np.issubdtype(y.dtype, np.floating)
                or not np.all(np.isfinite(y))
                or np.any(y != np.round(y))
            ):
                raise ValueError("Class labels must be integers in [0, n_classes) (or pass one-hot targets).")
            y = y.astype(np.intp)
        if y.size and (y.min() < 0 or y.max() >= k):
            raise ValueError(f"Class labels must be in [0, {k}); got values from {y.min()} to {y.max()}.")
        return y

    def get_config(self) -> dict:
        return {"label_smoothing": self.label_smoothing}


class SigmoidBinaryCrossEntropy(Loss):
    r"""Independent sigmoid per output (binary and multi-label), fused with binary cross-entropy:
    :math:`\ell = \sum_k \mathrm{softplus}(z_k) - y_k z_k` with
    :math:`\mathrm{softplus}(z) = \max(z, 0) + \log(1 + e^{-|z|})`, finite for every finite ``z``.
    Gradient: :math:`w_n(\sigma(z_n) - y_n) / \sum w`."""

    name = "sigmoid_binary_cross_entropy"

    def link(self, z: np.ndarray) -> np.ndarray:
        return sigmoid(z)

    def forward(self, z: np.ndarray, y, sample_weight=None) -> float:
        _check_logits(z)
        y = self._targets_2d(z, y)
        w = _weights(sample_weight, z.shape[0], z.dtype)
        softplus = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))
        per_sample = np.sum(softplus - y * z, axis=1)  # (N,)
        self._dz = (sigmoid(z) - y) * w
        return float(per_sample @ w[:, 0])


class SquaredError(Loss):
    r""":math:`\ell = \frac{1}{2K}\sum_k (z_k - y_k)^2` with the identity link; gradient
    :math:`w_n (z_n - y_n) / (K \sum w)`."""

    name = "squared_error"

    def link(self, z: np.ndarray) -> np.ndarray:
        return z.copy()

    def forward(self, z: np.ndarray, y, sample_weight=None) -> float:
        _check_logits(z)
        y = self._targets_2d(z, y)
        w = _weights(sample_weight, z.shape[0], z.dtype)
        k = z.shape[1]
        r = z - y  # (N, K)
        self._dz = r * (w / k)
        return float(np.sum(r * r, axis=1) @ w[:, 0] / (2 * k))


class PoissonLoss(Loss):
    r"""Half Poisson deviance with a log link, for counts :math:`y \ge 0`:
    :math:`\ell = \frac1K\sum_k e^{z_k} - y_k z_k + y_k \log y_k - y_k` (zero at :math:`e^z = y`);
    gradient :math:`w_n (e^{z_n} - y_n) / (K \sum w)`."""

    name = "poisson"

    def link(self, z: np.ndarray) -> np.ndarray:
        return np.exp(z)

    def forward(self, z: np.ndarray, y, sample_weight=None) -> float:
        _check_logits(z)
        y = self._targets_2d(z, y)
        if np.any(y < 0):
            raise ValueError("PoissonLoss needs non-negative targets.")
        w = _weights(sample_weight, z.shape[0], z.dtype)
        k = z.shape[1]
        mu = np.exp(z)
        ylogy = np.zeros_like(y)
        np.log(y, out=ylogy, where=y > 0)
        ylogy *= y
        per_sample = np.sum(mu - y * z + ylogy - y, axis=1) / k
        self._dz = (mu - y) * (w / k)
        return float(per_sample @ w[:, 0])


LOSSES: dict[str, type[Loss]] = {
    cls.name: cls for cls in (SoftmaxCrossEntropy, SigmoidBinaryCrossEntropy, SquaredError, PoissonLoss)
}


def get_loss(name: str, **kwargs) -> Loss:
    """A loss by name; unknown names raise a ``ValueError`` listing the valid ones."""
    if name not in LOSSES:
        raise ValueError(f"Unknown loss {name!r}; expected one of {sorted(LOSSES)}.")
    return LOSSES[name](**kwargs)
