"""Floor 2, the loop: :class:`Trainer` and what hangs off it.

=====================  ====================================================================================
:mod:`.trainer`        :class:`Trainer`, the one training loop (forward, loss, backward, update; callbacks)
:mod:`.data`           the training data as the loop sees it (dense or sparse rows, targets, sample weights)
:mod:`.callbacks`      the callback hooks, :class:`~glassnet.training.callbacks.History`, early stopping, ...
:mod:`.owner`          :class:`~glassnet.training.owner.TrainingOwner`: what the loop may ask an estimator
:mod:`.divergence`     when a fit has diverged
:mod:`.metrics`        scores and the validation split
:mod:`.augment`        random shifts of image rows
:mod:`.parallel`       data parallelism: a step's batch cut into shards computed by processes
:mod:`.workplan`       what ``n_jobs=None`` chooses: shards for the work, processes for the idle cores
:mod:`.threads`        BLAS threads chosen for the work
=====================  ====================================================================================

Everything here imports only the leaves and :mod:`glassnet.nn`.
"""

from glassnet.training.metrics import accuracy_score, r2_score, train_validation_split
from glassnet.training.trainer import Trainer

__all__ = ["Trainer", "accuracy_score", "r2_score", "train_validation_split"]
