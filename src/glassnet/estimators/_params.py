"""The estimators' hyper-parameter declarations live in :mod:`glassnet.config.params` (shared with the command
line, the recipes and the benchmarks); this module re-exports them for the estimators."""

from glassnet.config.params import (  # noqa: F401
    CLASSIFIER_PARAMS,
    COMMON_PARAMS,
    REGRESSOR_PARAMS,
    InvalidParameterError,
    Param,
    make_init,
    params_docstring,
    validate_params,
)
