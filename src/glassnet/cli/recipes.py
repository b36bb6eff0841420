"""The training recipes of ``glassnet compare``, each defined once, here.

To change what ``compare`` runs (say, a better recommended recipe), edit this module only.
"""

from __future__ import annotations

__all__ = [
    "LAB",
    "RECOMMENDED",
    "SKLEARN_LAB",
    "lab_learning_rate",
    "recommended_estimator",
    "sklearn_lab_estimator",
    "sklearn_default_estimator",
]

from glassnet.lab import LAB_LR

#: The lab's network and training: 64-80-70-10, sigmoid hidden units, softmax output, full-batch gradient
#: descent for 5,000 epochs with step 0.01 on the gradient *summed* over the samples.
LAB = {
    "hidden": (80, 70),
    "activation": "logistic",
    "epochs": 5000,
    "lr_summed": 0.01,
    # The summed-gradient step 0.01 equals a mean-gradient step of 0.01 * n_train = 14.37, which diverges
    # for glassnet's (scikit-learn's) initialisation; compare then reruns with this mean-gradient step.
    "lr_fallback": LAB_LR,  # the same step as ``python -m glassnet.lab``
}

#: glassnet's recommended recipe: :mod:`glassnet.recipes`' digits recipe, one network of its 5-seed ensemble
#: (the ensemble is what ``glassnet bench accuracy`` scores; one network keeps ``compare`` quick).
RECOMMENDED = "digits"

#: scikit-learn's MLPClassifier as the lab configured it.
SKLEARN_LAB = {
    "hidden_layer_sizes": (80, 70),
    "activation": "logistic",
    "solver": "sgd",
    "alpha": 0.01,
    "learning_rate_init": 0.01,
    "max_iter": 1000,
}


def lab_learning_rate(n_train: int) -> float:
    r"""The lab's step for glassnet's mean-gradient loss.

    The lab summed the gradient over the :math:`n` training samples with step 0.01; glassnet's loss is the
    mean over samples, so the same update is :math:`\eta = 0.01 \cdot n` (14.37 for 1,437 training digits).
    """
    return LAB["lr_summed"] * n_train


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

    params = dict(SKLEARN_LAB, max_iter=_scaled(SKLEARN_LAB["max_iter"], epochs_scale))
    return MLPClassifier(**params, random_state=seed)


def sklearn_default_estimator(seed: int, epochs_scale: float = 1.0):
    """scikit-learn's ``MLPClassifier`` with its defaults (only the seed, and ``max_iter`` when scaled)."""
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(max_iter=_scaled(200, epochs_scale), random_state=seed)
