"""Errors raised by the engine."""


class TrainingDivergedError(RuntimeError, ValueError):
    """Training produced a non-finite or exploding loss; the network keeps its last finite weights.

    Catchable as ``RuntimeError`` and as ``ValueError`` (what scikit-learn raises for non-finite weights).

    Attributes
    ----------
    epoch : int
        The (0-based) epoch in which the loss diverged.
    loss : float
        The offending loss value.
    """

    def __init__(self, message: str, epoch: int, loss: float) -> None:
        super().__init__(message)
        self.epoch, self.loss = epoch, loss
