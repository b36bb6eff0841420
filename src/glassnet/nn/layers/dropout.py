r"""Inverted dropout."""

from __future__ import annotations

import numpy as np

from glassnet.nn.initializers import as_generator
from glassnet.nn.layers.base import Layer


class Dropout(Layer):
    r"""Inverted dropout: in training mode each unit is kept with probability :math:`1 - p` and scaled by
    :math:`1 / (1 - p)`, so the expected activation is unchanged and evaluation mode is the identity.

    .. math:: y = x \odot m, \quad m_i = [u_i \ge p] / (1 - p), \quad u_i \sim U(0, 1);
              \qquad \partial L/\partial x = \partial L/\partial y \odot m.

    Parameters
    ----------
    rate : float
        Drop probability :math:`p \in [0, 1)`.
    rng : int, numpy.random.Generator or None
        Random source for the masks. Training mode with ``rate > 0`` and no ``rng`` is an error, never a silent
        global seed.

    Declarations: ``needs_rng = True``, so a network rebuilt by ``Sequential.from_config`` (and each process
    of a data-parallel fit) gives the layer its random generator; ``identity_in_eval = True``, so export
    leaves it out.
    """

    needs_rng = True
    identity_in_eval = True

    def __init__(self, rate: float, *, rng=None) -> None:
        super().__init__()
        if isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating)) or not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout rate must be a float in [0, 1); got {rate!r}.")
        self.rate = float(rate)
        self.rng = None if rng is None else as_generator(rng)
        self._mask = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training or self.rate == 0.0:
            self._mask = 1.0  # backward is the identity
            return x
        if self.rng is None:
            raise ValueError("Dropout in training mode needs a random generator: Dropout(rate, rng=seed).")
        keep = self.rng.random(x.shape, dtype=x.dtype if x.dtype in (np.float32, np.float64) else np.float64)
        self._mask = (keep >= self.rate).astype(x.dtype) * x.dtype.type(1.0 / (1.0 - self.rate))
        return x * self._mask

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * self._saved("_mask", dy)  # the (N, D) mask, or 1.0 in evaluation mode

    def get_config(self) -> dict:
        return {"rate": self.rate}
