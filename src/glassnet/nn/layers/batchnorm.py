r"""Batch normalisation over the batch axis (Ioffe & Szegedy, 2015).

In training mode each feature is standardised with the statistics of the current mini-batch and then scaled
and shifted by learned :math:`\gamma, \beta`:

.. math::
    \mu = \frac1N \sum_n x_n, \quad \sigma^2 = \frac1N \sum_n (x_n - \mu)^2, \quad
    \hat x_n = \frac{x_n - \mu}{\sqrt{\sigma^2 + \epsilon}}, \quad y_n = \gamma \hat x_n + \beta.

Backward (every sample's :math:`\hat x` depends on the whole batch through :math:`\mu, \sigma^2`), with
:math:`g_n = \gamma\, \partial L/\partial y_n`:

.. math::
    \frac{\partial L}{\partial \beta} = \sum_n \frac{\partial L}{\partial y_n}, \qquad
    \frac{\partial L}{\partial \gamma} = \sum_n \frac{\partial L}{\partial y_n} \hat x_n, \qquad
    \frac{\partial L}{\partial x_n} = \frac{1}{\sqrt{\sigma^2 + \epsilon}}
        \Big(g_n - \frac1N \sum_m g_m - \hat x_n \frac1N \sum_m g_m \hat x_m\Big).

Training also keeps running averages of the batch statistics,
:math:`\bar\mu \leftarrow (1 - m)\bar\mu + m\mu` and likewise :math:`\bar\sigma^2` with the unbiased batch
variance :math:`\tfrac{N}{N-1}\sigma^2`; evaluation mode normalises with them, so that a prediction does not
depend on the other rows of its batch. In evaluation mode the layer is a fixed affine map and its backward is
:math:`\partial L/\partial x = \gamma / \sqrt{\bar\sigma^2 + \epsilon} \, \partial L/\partial y`.

The running statistics are not trained: they live in ``buffers`` (float64, whatever the network's dtype),
which :meth:`glassnet.nn.network.Sequential.state_dict` saves next to the parameters as
``layers.<i>.running_mean`` and ``layers.<i>.running_var``.
"""

from __future__ import annotations

import numpy as np

from glassnet.nn.layers.base import Layer


class BatchNorm(Layer):
    r"""Batch normalisation of ``(N, num_features)`` inputs; see the module docstring for the formulas.

    Parameters
    ----------
    num_features : int
        Width of the input (and output).
    momentum : float
        Weight :math:`m \in (0, 1]` of the current batch in the running statistics.
    eps : float
        :math:`\epsilon > 0` added to the variance.
    dtype : numpy dtype
        dtype of :math:`\gamma` (``gamma``, initialised to 1) and :math:`\beta` (``beta``, initialised to 0).
        They are not "weights": L2 and weight decay leave them alone (``decay`` is empty).

    Declarations: ``uses_batch_stats = True`` (a row's output depends on its batch, so data parallelism
    refuses the layer), ``buffers`` hold the running statistics, and ``in_features = out_features =
    num_features``.

    Examples
    --------
    >>> bn = BatchNorm(2)
    >>> bn.training = True
    >>> y = bn.forward(np.array([[0.0, 1.0], [2.0, 5.0]]))
    >>> np.round(y, 3)
    array([[-1., -1.],
           [ 1.,  1.]])
    """

    uses_batch_stats = True

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5, dtype=np.float32) -> None:
        super().__init__()
        if (
            isinstance(num_features, bool)
            or not isinstance(num_features, (int, np.integer))
            or num_features < 1
        ):
            raise ValueError(f"num_features must be a positive integer; got {num_features!r}.")
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0.0 < momentum <= 1.0:
            raise ValueError(f"momentum must be a float in the range (0, 1]; got {momentum!r}.")
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps > 0:
            raise ValueError(f"eps must be a float in the range (0, inf); got {eps!r}.")
        self.num_features, self.momentum, self.eps = int(num_features), float(momentum), float(eps)
        self.params = {"gamma": np.ones(self.num_features, dtype), "beta": np.zeros(self.num_features, dtype)}
        self.grads = {k: np.zeros(v.shape, v.dtype) for k, v in self.params.items()}
        self.buffers = {
            "running_mean": np.zeros(self.num_features, np.float64),
            "running_var": np.ones(self.num_features, np.float64),
        }
        self._xhat = None

    @property
    def in_features(self) -> int:
        return self.num_features

    @property
    def out_features(self) -> int:
        return self.num_features

    def forward(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm expected inputs of shape (N, {self.num_features}); got {x.shape}.")
        gamma, beta = self.params["gamma"], self.params["beta"]
        if self.training:
            n = x.shape[0]
            if n < 2:
                raise ValueError("BatchNorm in training mode needs at least 2 samples per batch; got 1.")
            mean = x.mean(axis=0)  # (N, D) -> (D,)
            xc = x - mean
            var = np.mean(xc * xc, axis=0)  # biased: the variance the batch is normalised with
            m = self.momentum
            self.buffers["running_mean"] *= 1.0 - m
            self.buffers["running_mean"] += m * mean
            self.buffers["running_var"] *= 1.0 - m
            self.buffers["running_var"] += m * var * (n / (n - 1))  # unbiased estimate for inference
        else:
            xc = x - self.buffers["running_mean"].astype(x.dtype)
            var = self.buffers["running_var"].astype(x.dtype)
        self._inv_std = (1.0 / np.sqrt(var + x.dtype.type(self.eps))).astype(x.dtype)  # (D,)
        self._xhat = xc * self._inv_std  # cached for backward: (N, D)
        self._batch_stats = self.training  # which backward formula applies
        return self._xhat * gamma + beta

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        xhat = self._saved("_xhat", dy)  # (N, D)
        np.sum(dy, axis=0, out=self.grads["beta"])  # (N, D) -> (D,)
        np.sum(dy * xhat, axis=0, out=self.grads["gamma"])
        if not self.input_grad:
            return None
        g = dy * (self.params["gamma"] * self._inv_std)  # (N, D) * (D,)
        if not self._batch_stats:
            return g  # fixed statistics: an affine map
        # the batch mean and variance depend on every row: subtract their share of the gradient
        return g - g.mean(axis=0) - xhat * np.mean(g * xhat, axis=0)

    def get_config(self) -> dict:
        return {"num_features": self.num_features, "momentum": self.momentum, "eps": self.eps}
