"""Experiment tracking: training callbacks for MLflow and TensorBoard (each an optional extra).

========================  ================================================================  ==========================
:class:`MlflowLogger`     parameters, every epoch's metrics and the final model, to MLflow  ``glassnet[mlflow]``
:class:`TensorBoard`      every epoch's scalars and the weights' histograms, as event files  ``glassnet[tensorboard]``
========================  ================================================================  ==========================

Both are :class:`glassnet.callbacks.Callback` objects: pass them to a
:class:`~glassnet.training.Trainer` (``callbacks=[...]``) or to an estimator's ``fit(X, y, callbacks=[...])``.
Importing this package needs neither MLflow nor TensorBoard; creating a callback whose package is missing
raises an ImportError that names the extra to install. The MLflow model flavour is :mod:`glassnet.mlflow`.
"""

from glassnet.integrations.mlflow_callback import MlflowLogger, MlflowLoggingWarning, TrackingServerError
from glassnet.integrations.tensorboard import TensorBoard

__all__ = ["MlflowLogger", "MlflowLoggingWarning", "TensorBoard", "TrackingServerError"]
