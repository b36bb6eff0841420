"""One vocabulary for a multilayer perceptron's settings: :class:`MLPConfig`, in scikit-learn's parameter names.

Every entry point builds its network, optimizer and learning-rate schedule from an ``MLPConfig`` through the
functions of :mod:`glassnet.config.build`: the estimators (``MLPClassifier``, ``MLPRegressor``), ``glassnet
train``, ``glassnet compare``, the recipes (:mod:`glassnet.recipes`) and the benchmarks. So the same settings
give the same network, initialised the same way, trained by the same loop (:class:`glassnet.training.Trainer`).

The fields and their defaults come from the hyper-parameter declarations in :mod:`glassnet.config.params`, the
same declarations that give the estimators their signature, docstring and validation:

>>> from glassnet.config import MLPConfig
>>> config = MLPConfig(hidden_layer_sizes=(80, 70), activation="logistic", solver="sgd")
>>> config.learning_rate_init, config.batch_size
(0.001, 'auto')
>>> config.replace(max_iter=5).max_iter
5
"""

from __future__ import annotations

import dataclasses

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


class _ConfigMethods:
    """Methods of :class:`MLPConfig` (the fields themselves are generated from the declarations)."""

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

    def classifier(self):
        """An unfitted :class:`glassnet.MLPClassifier` with these settings."""
        from glassnet.estimators import MLPClassifier

        return MLPClassifier(**self.as_params(CLASSIFIER_PARAMS))

    def regressor(self):
        """An unfitted :class:`glassnet.MLPRegressor` with these settings."""
        from glassnet.estimators import MLPRegressor

        return MLPRegressor(**self.as_params(REGRESSOR_PARAMS))


MLPConfig = dataclasses.make_dataclass(
    "MLPConfig",
    [(p.name, object, dataclasses.field(default=p.default)) for p in ALL_PARAMS],
    bases=(_ConfigMethods,),
    frozen=True,
    namespace={"__module__": __name__},
)
MLPConfig.__doc__ = (
    "The settings of a multilayer perceptron and its training, in the estimators' parameter names (frozen).\n\n"
    "Fields: " + ", ".join(f"``{p.name}={p.default!r}``" for p in ALL_PARAMS) + ". See "
    ":class:`glassnet.MLPClassifier` for what each means."
)
