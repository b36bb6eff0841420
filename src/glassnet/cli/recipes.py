"""The training recipes of ``glassnet compare``, each defined once, here.

To change what ``compare`` runs (say, a better recommended recipe), edit this module only.
"""

from __future__ import annotations

__all__ = [
    "LAB",
    "LAB_LR_SUMMED",
    "RECOMMENDED",
    "SKLEARN_LAB",
    "lab_learning_rate",
    "recommended_estimator",
    "sklearn_lab_estimator",
    "sklearn_default_estimator",
]

import numpy as np

from glassnet.config import MLPConfig
from glassnet.lab import LAB_LR

#: The lab's network and training in the shared vocabulary (glassnet.config): 64-80-70-10, sigmoid hidden
#: units, softmax output, plain full-batch gradient descent (``batch_size`` is set to the training-set size when
#: it runs) for 5,000 epochs, no L2, no shuffling, every epoch run.
LAB = MLPConfig(
    hidden_layer_sizes=(80, 70), activation="logistic", solver="sgd", momentum=0.0, nesterovs_momentum=False,
    alpha=0.0, max_iter=5000, shuffle=False, n_iter_no_change=np.inf, learning_rate_init=LAB_LR,
)  # fmt: skip

#: The lab's step: 0.01 on the gradient *summed* over the samples, which equals a mean-gradient step of
#: 0.01 * n_train = 14.37 and diverges for glassnet's (scikit-learn's) initialisation; compare then reruns with
#: ``LAB.learning_rate_init``, the same step as ``python -m glassnet.lab``.
LAB_LR_SUMMED = 0.01

#: glassnet's recommended recipe: :mod:`glassnet.recipes`' digits recipe, one network of its 5-seed ensemble
#: (the ensemble is what ``glassnet bench accuracy`` scores; one network keeps ``compare`` quick).
RECOMMENDED = "digits"

#: scikit-learn's MLPClassifier as the lab configured it (the same vocabulary: scikit-learn's own names).
SKLEARN_LAB = MLPConfig(
    hidden_layer_sizes=(80, 70), activation="logistic", solver="sgd", alpha=0.01, learning_rate_init=0.01,
    max_iter=1000,
)  # fmt: skip
#: the fields of SKLEARN_LAB that differ from scikit-learn's defaults, as its keyword arguments
SKLEARN_LAB_PARAMS = ("hidden_layer_sizes", "activation", "solver", "alpha", "learning_rate_init", "max_iter")


def lab_learning_rate(n_train: int) -> float:
    r"""The lab's step for glassnet's mean-gradient loss.

    The lab summed the gradient over the :math:`n` training samples with step 0.01; glassnet's loss is the
    mean over samples, so the same update is :math:`\eta = 0.01 \cdot n` (14.37 for 1,437 training digits).
    """
    return LAB_LR_SUMMED * n_train


def _scaled(max_iter: int, epochs_scale: float) -> int:
    return max(1, round(max_iter * epochs_scale))


def recommended_estimator(seed: int, epochs_scale: float = 1.0):
    """glassnet's :class:`~glassnet.MLPClassifier` with the :data:`RECOMMENDED` recipe (one network)."""
    from glassnet.recipes import RECIPES, make_estimator

    max_iter = _scaled(RECIPES[RECOMMENDED].params["max_iter"], epochs_scale)
    return make_estimator(RECOMMENDED, random_state=seed, n_ensemble=1, max_iter=max_iter)


def sklearn_lab_estimator(seed: int, epochs_scale: float = 1.0):
    """scikit-learn's ``MLPClassifier`` with the lab's settings (:data:`SKLEARN_LAB`)."""
    from sklearn.neural_network import MLPClassifier

    params = {name: getattr(SKLEARN_LAB, name) for name in SKLEARN_LAB_PARAMS}
    params["max_iter"] = _scaled(SKLEARN_LAB.max_iter, epochs_scale)
    return MLPClassifier(**params, random_state=seed)


def sklearn_default_estimator(seed: int, epochs_scale: float = 1.0):
    """scikit-learn's ``MLPClassifier`` with its defaults (only the seed, and ``max_iter`` when scaled)."""
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(max_iter=_scaled(200, epochs_scale), random_state=seed)
