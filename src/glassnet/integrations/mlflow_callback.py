"""A training callback that logs a run to MLflow: its parameters, every epoch's metrics and the final model.

What is logged, and when:

================  ================================================================================================
when              what
================  ================================================================================================
training begins   the run is opened (the active run, ``run_id=``, or a new one in ``experiment_name``); its
                  parameters are logged once: an estimator's ``get_params()``, or a plain Trainer's settings
                  (optimizer, learning rate, batch size, alpha, loss, layers), plus your ``params``
each epoch        every numeric entry of the epoch's ``logs`` (``loss``, ``val_loss``, ``val_score``, ``lr``,
                  ``time``, :class:`~glassnet.callbacks.EpochScoring`'s scores) at step = epochs so far
training ends     the final model through the ``glassnet`` flavour (:mod:`glassnet.mlflow`: a glassnet model
                  file, never a pickle), then the run is closed if this callback opened it
================  ================================================================================================

**An unreachable server, and why training is never lost.** Before the first epoch the callback checks that
the tracking server answers (``GET /health``, at most ``timeout`` seconds) and opens the run: if the server
is down, :class:`TrackingServerError` is raised *before training starts*, so nothing is lost and the message
says where it looked. Once training runs, a failed call to the server (the server stopped mid-run) never
stops it: the callback warns once (:class:`MlflowLoggingWarning`), stops talking to the server for the rest
of the fit, and training goes on; every value stays in the fit's ``History``. Each call to the server waits
at most about ``2 * timeout`` seconds: the callback bounds MLflow's own HTTP timeout and retries
(``MLFLOW_HTTP_REQUEST_TIMEOUT``, ``MLFLOW_HTTP_REQUEST_MAX_RETRIES``, ``..._BACKOFF_FACTOR``) during its
calls, unless you have set those variables yourself.

Steps count epochs across fits (a ``partial_fit`` stream or warm starts with the same callback log one run
with continuing curves); parameters are logged at the first fit only (MLflow parameters cannot change).
"""

from __future__ import annotations

import math
import os
import time
import urllib.error
import urllib.request
import warnings
from contextlib import contextmanager

import numpy as np

from glassnet.training.callbacks import Callback

__all__ = ["MlflowLogger", "MlflowLoggingWarning", "TrackingServerError"]

_MAX_PARAM_CHARS = 500  # MLflow's limit is longer (6000); long reprs help nobody in a table


class TrackingServerError(ConnectionError):
    """The MLflow tracking server did not answer before training started (nothing was trained)."""


class MlflowLoggingWarning(UserWarning):
    """A call to the MLflow server failed during training; training went on without logging."""


def _require_mlflow():
    try:
        import mlflow
        from mlflow.entities import Metric, Param
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise ImportError("MlflowLogger needs MLflow: pip install 'glassnet[mlflow]'") from None
    return mlflow, MlflowClient, Metric, Param


@contextmanager
def _bounded_requests(timeout: float):
    """During MLflow calls: each HTTP request waits at most ``timeout`` s and is retried once, without
    back-off (MLflow's defaults are 120 s and 7 retries with exponential back-off: minutes). Variables the
    user has set are left alone."""
    limits = {
        "MLFLOW_HTTP_REQUEST_TIMEOUT": str(max(1, math.ceil(timeout))),
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0",
    }
    added = [name for name in limits if name not in os.environ]
    for name in added:
        os.environ[name] = limits[name]
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


@contextmanager
def _tracking_uri(mlflow, uri: str | None):
    """Use ``uri`` as MLflow's tracking URI for the duration (``mlflow.*.log_model`` reads the global one)."""
    if uri is None:
        yield
        return
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)


def check_server(uri: str, timeout: float) -> None:
    """Raise :class:`TrackingServerError` unless the HTTP tracking server at ``uri`` answers within ``timeout``.

    Any HTTP answer counts (a proxy's 401 means something is there; MLflow reports its own errors later);
    a refused or timed-out connection, or a name that does not resolve, does not. Other URIs (``file:``,
    ``sqlite:``, a folder) need no server and pass.
    """
    if not uri.startswith(("http://", "https://")):
        return
    url = uri.rstrip("/") + "/health"
    start = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (http(s) only, checked above)
            response.read(64)
    except urllib.error.HTTPError:
        return  # the server answered
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        waited = time.monotonic() - start
        raise TrackingServerError(
            f"the MLflow tracking server at {uri} did not answer ({reason}; waited {waited:.1f} s of at most "
            f"{timeout:g} s). Start it (`mlflow server --host 127.0.0.1 --port ...`), or give MlflowLogger "
            "another tracking_uri (or set MLFLOW_TRACKING_URI). Nothing was trained."
        ) from None


def _param_text(value) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= _MAX_PARAM_CHARS else text[: _MAX_PARAM_CHARS - 3] + "..."


def trainer_params(trainer) -> dict[str, str]:
    """A plain Trainer's settings as MLflow parameters: optimizer, learning rate, batch size, alpha, network."""
    net, optimizer = trainer.net, trainer.optimizer
    layers = net.get_config()["layers"]
    described = [
        layer["type"] + "(" + ", ".join(f"{k}={v}" for k, v in layer.items() if k != "type") + ")"
        for layer in layers
    ]
    return {
        "optimizer": type(optimizer).__name__,
        "learning_rate": _param_text(getattr(optimizer, "lr", None)),
        "schedule": type(trainer.schedule).__name__,
        "batch_size": _param_text(trainer.batch_size),
        "alpha": _param_text(trainer.alpha),
        "loss": net.loss.name,
        "dtype": np.dtype(net.dtype).name,
        "layers": _param_text(" ".join(described)),
        "n_parameters": str(int(net.flat_params.size)),
    }


def _fitted_estimator(trainer):
    """The estimator whose fit drives ``trainer``, if its owner names one (``TrainingOwner.estimator()``)."""
    owner = getattr(trainer, "owner", None)
    get = getattr(owner, "estimator", None)
    return get() if callable(get) else None


class MlflowLogger(Callback):
    """Log parameters, every epoch's metrics and the final model of a fit to MLflow.

    Works with :class:`~glassnet.training.Trainer` (``Trainer(..., callbacks=[MlflowLogger()])``) and with
    the estimators (``MLPClassifier().fit(X, y, callbacks=[MlflowLogger()])``).

    Parameters
    ----------
    tracking_uri : str, optional
        The tracking server (``http://127.0.0.1:5000``) or store; default: MLflow's own
        (``MLFLOW_TRACKING_URI``, ``mlflow.set_tracking_uri``).
    experiment_name : str, optional
        The experiment of a new run (created if missing); default: MLflow's default experiment.
    run_id : str, optional
        Log into this existing run. Default: the active run (``with mlflow.start_run():``) when
        ``tracking_uri`` is not given, else a new run that this callback closes when training ends.
    run_name : str, optional
        The name of a new run.
    params : dict, optional
        More parameters to log (values are logged as text).
    log_model : bool
        Log the final model at the end of training (an estimator as an estimator, a Trainer's network as a
        network), under ``model_name``; ``mlflow.pyfunc.load_model`` serves it.
    model_name : str
        The logged model's name.
    timeout : float
        The most seconds one request to the server may wait (see the module's notes).

    Attributes
    ----------
    run_id : str or None
        The run logged to (set when training begins).
    model_uri : str or None
        Where the final model was logged (``models:/<model_id>``), for ``mlflow.pyfunc.load_model``.
    step : int
        Epochs logged so far, across fits.
    failed : str or None
        Why logging stopped during training (the warning's text), or None.
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        experiment_name: str | None = None,
        run_id: str | None = None,
        run_name: str | None = None,
        params: dict | None = None,
        log_model: bool = True,
        model_name: str = "model",
        timeout: float = 10.0,
    ) -> None:
        for name, value in (("tracking_uri", tracking_uri), ("experiment_name", experiment_name),
                            ("run_id", run_id), ("run_name", run_name)):  # fmt: skip
            if value is not None and not isinstance(value, str):
                raise TypeError(f"{name} must be a string or None; got {type(value).__name__}.")
        if params is not None and not isinstance(params, dict):
            raise TypeError(f"params must be a dict or None; got {type(params).__name__}.")
        if not isinstance(model_name, str) or not model_name:
            raise ValueError(f"model_name must be a non-empty string; got {model_name!r}.")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < math.inf:
            raise ValueError(f"timeout must be a positive number of seconds; got {timeout!r}.")
        self._mlflow, self._Client, self._Metric, self._Param = (
            _require_mlflow()
        )  # reported now, before any training
        self.tracking_uri, self.experiment_name, self.run_name = tracking_uri, experiment_name, run_name
        self.params = dict(params or {})
        self.log_model, self.model_name, self.timeout = bool(log_model), model_name, float(timeout)
        self.run_id = run_id
        self.model_uri = None
        self.step = 0
        self.failed = None
        self._owns_run = False
        self._params_logged = False
        self._client = None

    # --- talking to the server -------------------------------------------------------------------------------

    def _uri(self) -> str:
        return self.tracking_uri if self.tracking_uri is not None else self._mlflow.get_tracking_uri()

    def _open_run(self, trainer) -> None:
        """Check the server, open (or join) the run and log the parameters. Nothing has been trained yet, so
        every error propagates: :class:`TrackingServerError` if the server does not answer, MLflow's own
        errors (a deleted experiment, a run that does not exist) as MLflow raises them."""
        uri = self._uri()
        check_server(uri, self.timeout)
        with _bounded_requests(self.timeout):
            self._client = self._Client(uri)
            self._join_or_create_run()
            if not self._params_logged:
                self._log_params(trainer)

    def _join_or_create_run(self) -> None:
        """The given run, else the active one (MLflow's own tracking URI only), else a new one of ours."""
        client = self._client
        if self.run_id is not None:
            if self._owns_run:
                client.update_run(self.run_id, status="RUNNING")  # a later fit of the same stream
            return
        active = self._mlflow.active_run() if self.tracking_uri is None else None
        if active is not None:
            self.run_id = active.info.run_id
            return
        run = client.create_run(self._experiment_id(client), run_name=self.run_name)
        self.run_id, self._owns_run = run.info.run_id, True

    def _experiment_id(self, client) -> str:
        if self.experiment_name is None:
            return "0"  # MLflow's Default experiment
        experiment = client.get_experiment_by_name(self.experiment_name)
        if experiment is not None:
            return experiment.experiment_id
        return client.create_experiment(self.experiment_name)

    def _log_params(self, trainer) -> None:
        estimator = _fitted_estimator(trainer)
        if estimator is not None:
            found = {k: _param_text(v) for k, v in estimator.get_params(deep=False).items()}
            found["estimator"] = type(estimator).__name__
        else:
            found = trainer_params(trainer)
        found.update({str(k): _param_text(v) for k, v in self.params.items()})
        params = [self._Param(k, v) for k, v in sorted(found.items())]
        for i in range(0, len(params), 100):  # MLflow takes at most 100 parameters a batch
            self._client.log_batch(self.run_id, params=params[i : i + 100])
        self._params_logged = True

    def _safely(self, what: str, call) -> None:
        """Run ``call()``; on failure warn once and stop logging for the rest of the fit (training goes on)."""
        if self.failed is not None:
            return
        try:
            with _bounded_requests(self.timeout):
                call()
        except Exception as exc:  # noqa: BLE001 (training must never be lost to a logging failure)
            self.failed = (
                f"MlflowLogger could not {what} ({type(exc).__name__}: {str(exc)[:300]}); training goes on "
                f"without logging to {self._uri()} for the rest of this fit. Every value is in the fit's History."
            )
            warnings.warn(self.failed, MlflowLoggingWarning, stacklevel=2)

    # --- the hooks -------------------------------------------------------------------------------------------

    def on_train_begin(self, trainer) -> None:
        self.failed = None
        self._open_run(trainer)

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        self.step += 1
        now = int(time.time() * 1000)
        metrics = [
            self._Metric(str(name), float(value), now, self.step)
            for name, value in logs.items()
            if isinstance(value, (int, float, np.number))
            and not isinstance(value, (bool, np.bool_))
            and math.isfinite(value)
        ]
        if metrics:
            self._safely(f"log the metrics of step {self.step}",
                         lambda: self._client.log_batch(self.run_id, metrics=metrics))  # fmt: skip

    def on_train_end(self, trainer, history) -> None:
        if self.log_model and not history.interrupted:
            self._safely("log the final model", lambda: self._log_final_model(trainer))
        if self._owns_run:
            status = "KILLED" if history.interrupted else "FINISHED"
            self._safely("close the run", lambda: self._client.set_terminated(self.run_id, status=status))

    def _log_final_model(self, trainer) -> None:
        import glassnet.mlflow as flavour

        estimator = _fitted_estimator(trainer)
        model = estimator if estimator is not None else trainer.net
        # the logged model is created in the run's experiment (MLflow's log_model would put it in the active
        # or default experiment when the run is not the active one)
        experiment_id = self._client.get_run(self.run_id).info.experiment_id
        logged = self._client.create_logged_model(
            experiment_id, name=self.model_name, source_run_id=self.run_id
        )
        with _tracking_uri(self._mlflow, self.tracking_uri):
            info = flavour.log_model(
                model, name=self.model_name, run_id=self.run_id, model_id=logged.model_id, step=self.step
            )
        self.model_uri = info.model_uri
