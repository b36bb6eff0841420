r"""Weight averaging: train as usual, predict with an average of the weights the run passed through.

Late in training, stochastic gradient steps bounce around a minimum rather than settle in it. The average of
the weights they visit lies nearer the centre of that basin, which tends to generalise better than any single
visited point, for the cost of one extra copy of the parameters and one vector operation per update.

Two averages, as in PyTorch's ``torch.optim.swa_utils``:

- **EMA** (exponential moving average, Polyak averaging with forgetting), after every optimizer step:

  .. math:: \bar w \leftarrow \beta\, \bar w + (1 - \beta)\, w

  started from the weights of the first averaged step; ``decay`` :math:`\beta` sets the memory
  (about :math:`1 / (1 - \beta)` steps).

- **SWA** (stochastic weight averaging, Izmailov et al. 2018), at the end of every epoch:

  .. math:: \bar w \leftarrow \bar w + \frac{w - \bar w}{k + 1}

  the plain mean of the :math:`k + 1` end-of-epoch weights averaged so far.

Averaging starts at epoch ``start`` (0: from the first). When training ends the network's weights are replaced
by the average (``trainer.net.flat_params``); the optimizer's state is not touched. Batch normalisation's running
statistics are not averaged (they are not parameters): with ``batch_norm=True`` they stay those of the last
epoch. The average lives for one ``fit``: each call of ``partial_fit`` starts a new one.

>>> import numpy as np
>>> from glassnet.nn.network import build_mlp
>>> from glassnet.nn.optim import Adam
>>> from glassnet.training.trainer import Trainer
>>> X = np.random.default_rng(0).normal(size=(64, 4))
>>> y = (X[:, 0] > 0).astype(int)
>>> net = build_mlp([4, 8, 2], seed=0)
>>> swa = WeightAveraging("swa", start=2)
>>> history = Trainer(net, Adam(0.01), batch_size=16, seed=0, callbacks=[swa]).fit(X, y, epochs=4)
>>> swa.n_averaged
2
"""

from __future__ import annotations

import numpy as np

from glassnet.training.callbacks import Callback

__all__ = ["METHODS", "WeightAveraging"]

#: the averages :class:`WeightAveraging` knows
METHODS = ("ema", "swa")


class WeightAveraging(Callback):
    """Replace the trained weights by their exponential moving average (``"ema"``) or their mean over epochs
    (``"swa"``) when training ends.

    Parameters
    ----------
    method : {"ema", "swa"}
        ``"ema"`` updates the average after every optimizer step, ``"swa"`` at the end of every epoch.
    decay : float
        EMA's :math:`\\beta` in [0, 1); ignored by SWA.
    start : int
        The first epoch (counted from 0 within this fit) whose weights are averaged.

    Attributes
    ----------
    average : ndarray of shape (n_parameters,) or None
        The running average (``None`` before the first averaged update).
    n_averaged : int
        Updates folded into the average so far (steps for EMA, epochs for SWA).
    """

    def __init__(self, method: str = "ema", decay: float = 0.999, start: int = 0) -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}; got {method!r}.")
        if (
            isinstance(decay, bool)
            or not isinstance(decay, (int, float, np.number))
            or not 0.0 <= decay < 1.0
        ):
            raise ValueError(f"decay must be a float in [0, 1); got {decay!r}.")
        if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or start < 0:
            raise ValueError(f"start must be a non-negative int (an epoch); got {start!r}.")
        self.method, self.decay, self.start = method, float(decay), int(start)
        self.average: np.ndarray | None = None
        self.n_averaged = 0
        self._epoch = 0
        if method == "ema":
            # a per-step hook only where one is needed: the loop's compiled epoch (glassnet.training.compiled)
            # runs whole epochs without Python between steps unless a callback hooks the batches
            self.on_batch_end = self._ema_step

    def on_train_begin(self, trainer) -> None:
        self.average, self.n_averaged, self._epoch = None, 0, 0

    def _ema_step(self, trainer, batch: int, logs: dict) -> None:
        """EMA's ``on_batch_end``: fold this step's weights into the average."""
        if (
            self._epoch >= self.start
        ):  # epochs are counted within this fit (trainer.epoch goes on across fits)
            self._update(trainer.net.flat_params, 1.0 - self.decay)

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        if self.method == "swa" and self._epoch >= self.start:
            self._update(trainer.net.flat_params, 1.0 / (self.n_averaged + 1))
        self._epoch += 1

    def on_train_end(self, trainer, history) -> None:
        if self.average is not None:
            trainer.net.flat_params[...] = self.average  # predict with the averaged weights

    def _update(self, w: np.ndarray, rate: float) -> None:
        """``average += rate * (w - average)``: EMA with rate ``1 - decay``, SWA's running mean with ``1 / (k+1)``."""
        if self.average is None:
            self.average = w.copy()  # the first averaged weights start the average (no bias towards 0)
        else:
            self.average += rate * (w - self.average)
        self.n_averaged += 1

    def __repr__(self) -> str:
        return f"WeightAveraging(method={self.method!r}, decay={self.decay}, start={self.start})"
