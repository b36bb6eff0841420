r"""Fully connected (affine) layer."""

from __future__ import annotations

import numpy as np

from glassnet.fast.products import matmul
from glassnet.nn.initializers import as_generator, initialize
from glassnet.nn.layers.base import Layer


class Dense(Layer):
    r"""Affine map on the last axis: :math:`z = x W^T + b`.

    ``W`` has shape ``(out_features, in_features)`` as in the lab (and PyTorch's ``Linear``); scikit-learn's
    ``coefs_`` store its transpose. Features live on the **last** axis, so ``x`` may be ``(N, in)`` or
    ``(..., in)``; the lab's N-D example contracted axis 1 instead, glassnet follows the usual convention.

    Backward, with :math:`\delta = \partial L / \partial z` of shape ``(N, out)``:

    .. math::
        \frac{\partial L}{\partial W} = \delta^T x, \qquad
        \frac{\partial L}{\partial b} = \textstyle\sum_n \delta_n, \qquad
        \frac{\partial L}{\partial x} = \delta W.

    Parameters
    ----------
    in_features, out_features : int
        Input and output widths.
    rng : int, numpy.random.Generator or None
        Random source for the initial weights (required unless ``init='zeros'``).
    init : str
        One of :data:`glassnet.nn.initializers.INITIALIZERS`.
    dtype : numpy dtype
        float32 (default) or float64.

    The products are ``np.matmul``; in a fit of large products, :func:`glassnet.fast.products.matmul` shares
    each among a crew of threads by blocks of output columns, with the same bits.

    Declarations: ``decay = ("W",)`` (L2 and weight decay penalise the weights, not the bias), and
    ``in_features`` / ``out_features`` fix the widths.
    """

    decay = ("W",)

    def __init__(
        self, in_features: int, out_features: int, *, rng=None, init: str = "glorot_uniform", dtype=np.float32
    ) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}.")
        self.in_features, self.out_features, self.init = int(in_features), int(out_features), init
        rng = None if init == "zeros" else as_generator(rng) if rng is not None else None
        W, b = initialize(init, self.in_features, self.out_features, rng, dtype)
        self.params = {"W": W, "b": b}
        self.grads = {
            "W": np.zeros(W.shape, W.dtype),
            "b": np.zeros(b.shape, b.dtype),
        }  # untouched until used
        self._x = None
        self._ones_cache: np.ndarray | None = None

    @classmethod
    def from_config(cls, config: dict, *, dtype=np.float32, rng=None) -> Dense:
        """A layer of zero weights in ``dtype`` (the network loads the trained ones)."""
        return cls(**{**config, "init": "zeros", "dtype": dtype})

    @property
    def W(self) -> np.ndarray:
        return self.params["W"]

    @property
    def b(self) -> np.ndarray:
        return self.params["b"]

    def forward(self, x: np.ndarray) -> np.ndarray:
        if x.shape[-1] != self.in_features:
            raise ValueError(
                f"Dense expected inputs with {self.in_features} features on the last axis, "
                f"got shape {x.shape}."
            )
        self._x = x  # cached for backward: dW needs the input
        z = matmul(x, self.W.T)  # x @ W.T: (N, in) @ (in, out) -> (N, out)
        z += self.b  # in place: z is a fresh array
        return z

    def backward(self, dy: np.ndarray, x: np.ndarray | None = None) -> np.ndarray | None:
        """Store ``dW``, ``db`` and return ``dx`` (``None`` when ``input_grad`` is off).

        ``x``, if given, must be the input that ``forward`` saw (the lab's check); another array raises.
        """
        x_seen = self._saved("_x", dy)  # (..., in); dy must be (..., out)
        if x is not None and x is not x_seen and not np.array_equal(x, x_seen):
            raise ValueError("Dense.backward() was given a different input than the one forward() saw.")
        x2 = x_seen.reshape(-1, self.in_features)  # (..., in) -> (N, in)
        dy2 = dy.reshape(-1, self.out_features)  # (..., out) -> (N, out)
        matmul(dy2.T, x2, out=self.grads["W"])  # dy.T @ x: (out, N) @ (N, in) -> (out, in)
        np.matmul(self._ones(len(dy2), dy2.dtype), dy2, out=self.grads["b"])  # (N,) @ (N, out) -> (out,)
        if not self.input_grad:
            return None
        return matmul(dy, self.W)  # dy @ W: (N, out) @ (out, in) -> (N, in)

    def _ones(self, n: int, dtype) -> np.ndarray:
        """A cached vector of ``n`` ones: ``db`` as the product ``ones @ dy`` (one BLAS call) is several times
        faster than NumPy's ``sum`` over the first axis."""
        ones = self._ones_cache
        if ones is None or ones.shape[0] != n or ones.dtype != dtype:
            ones = self._ones_cache = np.ones(n, dtype=dtype)
        return ones

    def get_config(self) -> dict:
        return {"in_features": self.in_features, "out_features": self.out_features}
