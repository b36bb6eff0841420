"""One vocabulary for a multilayer perceptron's settings: :class:`MLPConfig`, in scikit-learn's parameter names.

Every entry point builds its network, optimizer and learning-rate schedule from an ``MLPConfig`` through the
functions of :mod:`glassnet.config.build`: the estimators (``MLPClassifier``, ``MLPRegressor``), ``glassnet
train``, ``glassnet compare``, the recipes (:mod:`glassnet.recipes`) and the benchmarks. So the same settings
give the same network, initialised the same way, trained by the same loop (:class:`glassnet.training.Trainer`).

The fields are written out below with their types and defaults; a test holds them equal to the
hyper-parameter declarations in :mod:`glassnet.config.params`, which give the estimators their signature,
docstring and validation:

>>> from glassnet.config import MLPConfig
>>> config = MLPConfig(hidden_layer_sizes=(80, 70), activation="logistic", solver="sgd")
>>> config.learning_rate_init, config.batch_size
(0.001, 'auto')
>>> config.replace(max_iter=5).max_iter
5
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from glassnet.config.params import CLASSIFIER_PARAMS, REGRESSOR_PARAMS, Param, validate_params

__all__ = ["ALL_PARAMS", "MLPConfig"]


def _union(*groups: tuple[Param, ...]) -> tuple[Param, ...]:
    seen, params = set(), []
    for group in groups:
        for param in group:
            if param.name not in seen:
                seen.add(param.name)
                params.append(param)
    return tuple(params)


#: every declared setting of either estimator (the regressor's ``loss`` included: the classifier's loss is
#: always the log-loss, whose head follows the targets)
ALL_PARAMS: tuple[Param, ...] = _union(CLASSIFIER_PARAMS, REGRESSOR_PARAMS)


@dataclass(frozen=True)
class MLPConfig:
    """The settings of a multilayer perceptron and its training, in the estimators' parameter names (frozen).

    See :class:`glassnet.MLPClassifier` for what each field means; ``MLPClassifier.from_config(config)``
    builds an estimator with them, :mod:`glassnet.config.build` the network, optimizer, schedule and Trainer.
    """

    # the network
    hidden_layer_sizes: int | tuple[int, ...] = (100,)
    activation: str = "relu"
    dropout: float | tuple[float, ...] = 0.0
    batch_norm: bool = False
    # the regressor's loss: a registered name or a Loss (the classifier's is always the log-loss), and the
    # parameter of its 'quantile' loss (None: the median) or 'huber' loss (None: a threshold of 1.0)
    loss: Any = "squared_error"
    quantile: float | None = None
    huber_delta: float | None = None
    # the solver and its step
    solver: str = "adam"
    learning_rate: str = "constant"
    learning_rate_init: float = 0.001
    power_t: float = 0.5
    warmup_fraction: float = 0.0
    momentum: float = 0.9
    nesterovs_momentum: bool = True
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-08
    max_fun: int = 15000
    # the penalty and the targets
    alpha: float = 0.0001
    weight_decay: float = 0.0
    class_weight: dict | str | None = None
    label_smoothing: float = 0.0
    # the data and the epochs
    batch_size: int | str = "auto"
    max_iter: int = 200
    shuffle: bool = True
    augment_shift: int = 0
    image_shape: tuple[int, int] | None = None
    augment_rotation: float = 0.0
    augment_scale: float = 0.0
    augment_translation: float = 0.0
    augment_elastic: float = 0.0
    augment_flip: bool = False
    augment_noise: float = 0.0
    # the weights kept at the end
    weight_averaging: str | None = None
    averaging_start: float = 0.0
    averaging_decay: float = 0.999
    # prediction: the mean over rotated copies of each image (classifier only)
    test_time_rotations: tuple[float, ...] | None = None
    # when to stop
    tol: float = 0.0001
    n_iter_no_change: int | float = 10
    early_stopping: bool = False
    validation_fraction: float = 0.1
    # the run
    random_state: Any = None  # int, RandomState, Generator or None
    warm_start: bool = False
    verbose: bool | int = False
    n_jobs: int | None = None
    dtype: Any = None  # 'float32', 'float64', a NumPy float type, or None: the input's

    def replace(self, **changes) -> MLPConfig:
        """A copy with some fields changed; unknown names raise ``TypeError`` listing the fields."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise TypeError(f"MLPConfig has no field(s) {unknown}; fields: {[p.name for p in ALL_PARAMS]}.")
        return dataclasses.replace(self, **changes)

    def validate(self, params: tuple[Param, ...] = CLASSIFIER_PARAMS) -> MLPConfig:
        """Check the fields against their declarations (scikit-learn's sentences on a bad value)."""
        validate_params(self, params)
        return self

    def as_params(self, params: tuple[Param, ...]) -> dict:
        """The fields that ``params`` declares, as keyword arguments of an estimator."""
        return {p.name: getattr(self, p.name) for p in params}

    @classmethod
    def from_estimator(cls, estimator) -> MLPConfig:
        """The configuration of an estimator's current hyper-parameters (fields it lacks keep their defaults)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in estimator.get_params(deep=False).items() if k in names})
