"""scikit-learn estimators on glassnet's engine: :class:`MLPClassifier` and :class:`MLPRegressor`.

They need scikit-learn and SciPy (``pip install glassnet[sklearn]``); the engine itself needs only NumPy.
"""

from glassnet.config.params import InvalidParameterError
from glassnet.estimators._callbacks import EpochProgressBar
from glassnet.estimators._classifier import MLPClassifier
from glassnet.estimators._ensemble import EnsembleClassifier
from glassnet.estimators._regressor import MLPRegressor

__all__ = ["EnsembleClassifier", "EpochProgressBar", "InvalidParameterError", "MLPClassifier", "MLPRegressor"]
