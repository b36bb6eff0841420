"""The ``glassnet`` MLflow model flavour: ``save_model``, ``log_model`` and ``load_model``, as ``mlflow.sklearn``.

An MLflow model is a folder with an ``MLmodel`` file naming its *flavours*: ways to load it. This module
writes::

    model/
        MLmodel             flavours: glassnet (this module) and python_function (pyfunc)
        model.npz           a glassnet model file (glassnet.io.save_estimator or save_model)
        requirements.txt, python_env.yaml, conda.yaml
        input_example.json  (if an input example was given)

and follows MLflow's convention for flavours: :func:`save_model` writes the folder, :func:`log_model` logs it
to the current (or a given) run through ``mlflow.models.Model.log``, :func:`load_model` gives back the
glassnet object, and ``_load_pyfunc(path)`` is what ``mlflow.pyfunc.load_model`` calls.

**No pickle.** The model inside is a glassnet model file: loading it runs no code (see :mod:`glassnet.io`:
every array's header and the whole metadata are checked, nothing is unpickled, a crafted file ends in
:class:`~glassnet.io.ModelFileError`). So ``mlflow.pyfunc.load_model`` serves a glassnet model without
``MLFLOW_ALLOW_PICKLE_DESERIALIZATION``, which MLflow demands of pickled and skops models.

What is saved and what comes back:

=============================================  ==================================================  ==============
saved                                          :func:`load_model` returns                          pyfunc predicts
=============================================  ==================================================  ==============
a fitted ``MLPClassifier`` / ``MLPRegressor``  the estimator (:func:`glassnet.io.load_estimator`)  ``predict``
a ``Sequential`` (with ``classes=...``)        a :class:`glassnet.io.SavedModel`                   see below
a :class:`glassnet.io.SavedModel`              a :class:`glassnet.io.SavedModel`                   see below
=============================================  ==================================================  ==============

A network's pyfunc divides its input by the model's ``preprocessing["scale"]`` (as ``glassnet predict`` and
the ONNX export do) and predicts class labels (``classes[k]`` for output ``k``; indices without classes) or
values; ``pyfunc_predict_fn="predict_proba"`` gives the probabilities instead.

>>> import glassnet.mlflow                                                      # doctest: +SKIP
>>> with mlflow.start_run():                                                    # doctest: +SKIP
...     info = glassnet.mlflow.log_model(clf, name="model", input_example=X[:5])
>>> mlflow.pyfunc.load_model(info.model_uri).predict(X)                         # doctest: +SKIP

Needs ``pip install 'glassnet[mlflow]'``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

try:
    import yaml

    with warnings.catch_warnings():  # MLflow's own type hints, on importing pyfunc: nothing a user can act on
        warnings.filterwarnings(
            "ignore", message=".*Any type hint is inferred as AnyType", category=UserWarning
        )
        import mlflow.pyfunc as pyfunc  # the module itself (mlflow.pyfunc is otherwise loaded lazily)
    from mlflow.exceptions import MlflowException
    from mlflow.models import Model
    from mlflow.models.model import MLMODEL_FILE_NAME
    from mlflow.models.signature import _infer_signature_from_input_example
    from mlflow.models.utils import _save_example
    from mlflow.tracking._model_registry import DEFAULT_AWAIT_MAX_SLEEP_SECONDS
    from mlflow.tracking.artifact_utils import _download_artifact_from_uri
    from mlflow.utils.environment import (
        _CONDA_ENV_FILE_NAME,
        _CONSTRAINTS_FILE_NAME,
        _PYTHON_ENV_FILE_NAME,
        _REQUIREMENTS_FILE_NAME,
        _mlflow_conda_env,
        _process_conda_env,
        _process_pip_requirements,
        _PythonEnv,
        _validate_env_arguments,
    )
    from mlflow.utils.file_utils import write_to
    from mlflow.utils.model_utils import _get_flavor_configuration
    from mlflow.utils.requirements_utils import _get_pinned_requirement
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(f"glassnet.mlflow needs MLflow ({exc}): pip install 'glassnet[mlflow]'") from None

from glassnet._version import __version__

__all__ = [
    "FLAVOR_NAME",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]

FLAVOR_NAME = "glassnet"
_MODEL_FILE = "model.npz"
_PREDICT_FNS = ("predict", "predict_proba")
_ESTIMATORS = ("MLPClassifier", "MLPRegressor")


def get_default_pip_requirements(include_sklearn: bool = True) -> list[str]:
    """The pip requirements of a saved glassnet model: glassnet and NumPy (and scikit-learn for estimators)."""
    requirements = [_get_pinned_requirement("glassnet"), _get_pinned_requirement("numpy")]
    if include_sklearn:
        requirements.append(_get_pinned_requirement("scikit-learn", module="sklearn"))
    return requirements


def get_default_conda_env(include_sklearn: bool = True) -> dict:
    """The default Conda environment of a saved glassnet model (its pip requirements inside)."""
    return _mlflow_conda_env(additional_pip_deps=get_default_pip_requirements(include_sklearn))


# --- saving ------------------------------------------------------------------------------------------------


def _kind_of(gn_model) -> str:
    """``"estimator"``, ``"network"`` or ``"saved"``; a clear TypeError for anything else."""
    from glassnet.files.model import SavedModel
    from glassnet.nn.network import Sequential

    name = type(gn_model).__name__
    if name in _ESTIMATORS and type(gn_model).__module__.startswith("glassnet."):
        if not hasattr(gn_model, "network_"):
            raise TypeError(f"this {name} is not fitted yet: call fit before saving it")
        return "estimator"
    if isinstance(gn_model, Sequential):
        return "network"
    if isinstance(gn_model, SavedModel):
        return "saved"
    raise TypeError(
        "glassnet.mlflow saves a fitted glassnet MLPClassifier or MLPRegressor, a glassnet Sequential or a "
        f"glassnet.io.SavedModel; got {name}"
    )


def _write_model_file(gn_model, kind: str, path: Path, preprocessing, classes, class_names, info) -> None:
    from glassnet.estimators.persistence import save_estimator
    from glassnet.files.model import save_model as save_network

    if kind == "estimator":
        save_estimator(path, gn_model, preprocessing=preprocessing, info=info)
        return
    if kind == "saved":  # a loaded model file: its own preprocessing and classes unless given
        meta = gn_model.metadata
        preprocessing = gn_model.preprocessing if preprocessing is None else preprocessing
        classes = gn_model.classes if classes is None else classes
        class_names = meta.get("class_names") if class_names is None else class_names
        info = gn_model.info if info is None else info
        gn_model = gn_model.network
    save_network(path, gn_model, preprocessing=preprocessing, classes=classes, class_names=class_names,
                 info=info)  # fmt: skip


def _check_target(path: str) -> None:
    """MLflow's rule for a model folder: new, or empty (checked with a closed directory listing)."""
    if os.path.isdir(path):
        with os.scandir(path) as entries:
            if any(entries):
                raise MlflowException.invalid_parameter_value(
                    f"Path '{path}' already exists and is not empty"
                )
    elif os.path.exists(path):
        raise MlflowException.invalid_parameter_value(f"Path '{path}' already exists and is not a folder")
    os.makedirs(path, exist_ok=True)


def save_model(
    gn_model,
    path,
    conda_env=None,
    mlflow_model=None,
    signature=None,
    input_example=None,
    pip_requirements=None,
    extra_pip_requirements=None,
    pyfunc_predict_fn: str = "predict",
    metadata: dict | None = None,
    *,
    preprocessing: dict | None = None,
    classes: list | None = None,
    class_names: list[str] | None = None,
    info: dict | None = None,
) -> None:
    """Save a glassnet model as an MLflow model in the folder ``path`` (which must not exist yet).

    Parameters
    ----------
    gn_model : MLPClassifier, MLPRegressor, Sequential or glassnet.io.SavedModel
        What to save; it is written as a glassnet model file (never pickled).
    path : str or path-like
        The MLflow model folder to create.
    conda_env, pip_requirements, extra_pip_requirements
        The model's environment, as in every MLflow flavour; default: :func:`get_default_pip_requirements`.
    mlflow_model : mlflow.models.Model, optional
        The MLflow model this flavour is added to (``log_model`` passes one).
    signature : mlflow.models.ModelSignature, optional
        Inputs and outputs; inferred from ``input_example`` when that is given.
    input_example : array-like, optional
        A few rows, stored with the model (and used to infer the signature).
    pyfunc_predict_fn : {'predict', 'predict_proba'}
        What ``mlflow.pyfunc``'s ``predict`` returns.
    metadata : dict, optional
        MLflow's free-form model metadata.
    preprocessing, classes, class_names, info
        Stored in the glassnet model file (see :func:`glassnet.io.save_model`); for a ``SavedModel``,
        default to its own; an estimator's classes are its ``classes_``.

    Raises
    ------
    TypeError
        If ``gn_model`` is not a glassnet model (or an estimator is not fitted).
    mlflow.exceptions.MlflowException
        If ``path`` exists already, or ``pyfunc_predict_fn`` is not one of the two.
    """
    kind = _kind_of(gn_model)
    if pyfunc_predict_fn not in _PREDICT_FNS:
        raise MlflowException.invalid_parameter_value(
            f"pyfunc_predict_fn must be one of {list(_PREDICT_FNS)}; got {pyfunc_predict_fn!r}"
        )
    _validate_env_arguments(conda_env, pip_requirements, extra_pip_requirements)
    path = os.path.abspath(os.fspath(path))
    _check_target(path)
    _write_model_file(gn_model, kind, Path(path) / _MODEL_FILE, preprocessing, classes, class_names, info)

    if mlflow_model is None:
        mlflow_model = Model()
    saved_example = _save_example(mlflow_model, input_example, path)
    if signature is None and saved_example is not None:
        wrapper = _wrapper(os.path.join(path, _MODEL_FILE), pyfunc_predict_fn)
        signature = _infer_signature_from_input_example(saved_example, wrapper)
    elif signature is False:
        signature = None
    if signature is not None:
        mlflow_model.signature = signature
    if metadata is not None:
        mlflow_model.metadata = metadata
    _write_mlmodel(mlflow_model, path, kind, pyfunc_predict_fn)
    _write_environment(path, kind, conda_env, pip_requirements, extra_pip_requirements)


def _write_mlmodel(mlflow_model: Model, path: str, kind: str, pyfunc_predict_fn: str) -> None:
    """The ``MLmodel`` file: the pyfunc flavour (loaded by this module) and the glassnet flavour."""
    file_kind = "estimator" if kind == "estimator" else "network"
    pyfunc.add_to_model(
        mlflow_model,
        loader_module="glassnet.mlflow",
        data=_MODEL_FILE,
        conda_env=_CONDA_ENV_FILE_NAME,
        python_env=_PYTHON_ENV_FILE_NAME,
        predict_fn=pyfunc_predict_fn,
    )
    mlflow_model.add_flavor(FLAVOR_NAME, glassnet_version=__version__, model_file=_MODEL_FILE, kind=file_kind)
    mlflow_model.save(os.path.join(path, MLMODEL_FILE_NAME))


def _write_environment(path: str, kind: str, conda_env, pip_requirements, extra_pip_requirements) -> None:
    """The model's environment, as mlflow.sklearn writes it (the requirements are known: nothing to infer):
    ``conda.yaml``, ``requirements.txt``, ``python_env.yaml`` and, if any, ``constraints.txt``."""
    if conda_env is None:
        default = None if pip_requirements is not None else get_default_pip_requirements(kind == "estimator")
        conda_env, pip_requirements, pip_constraints = _process_pip_requirements(
            default, pip_requirements, extra_pip_requirements
        )
    else:
        conda_env, pip_requirements, pip_constraints = _process_conda_env(conda_env)
    with open(os.path.join(path, _CONDA_ENV_FILE_NAME), "w") as f:
        yaml.safe_dump(conda_env, stream=f, default_flow_style=False)
    if pip_constraints:
        write_to(os.path.join(path, _CONSTRAINTS_FILE_NAME), "\n".join(pip_constraints))
    write_to(os.path.join(path, _REQUIREMENTS_FILE_NAME), "\n".join(pip_requirements))
    _PythonEnv.current().to_yaml(os.path.join(path, _PYTHON_ENV_FILE_NAME))


def log_model(
    gn_model,
    artifact_path: str | None = None,
    conda_env=None,
    registered_model_name: str | None = None,
    signature=None,
    input_example=None,
    await_registration_for: int = DEFAULT_AWAIT_MAX_SLEEP_SECONDS,
    pip_requirements=None,
    extra_pip_requirements=None,
    pyfunc_predict_fn: str = "predict",
    metadata: dict | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    name: str | None = None,
    **kwargs,
):
    """Log a glassnet model to the current MLflow run (or ``run_id=``), as :func:`save_model` writes it.

    The arguments are :func:`save_model`'s and MLflow's own ``log_model`` ones (``name``,
    ``registered_model_name``, ``params``, ``tags``, ``step``, ``run_id``, ...); ``preprocessing``,
    ``classes``, ``class_names`` and ``info`` pass on to :func:`save_model`.

    Returns
    -------
    mlflow.models.model.ModelInfo
        With ``model_uri``, for ``mlflow.pyfunc.load_model`` or :func:`load_model`.
    """
    return Model.log(
        artifact_path=artifact_path,
        name=name,
        flavor=_this_module(),
        gn_model=gn_model,
        conda_env=conda_env,
        registered_model_name=registered_model_name,
        signature=signature,
        input_example=input_example,
        await_registration_for=await_registration_for,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        pyfunc_predict_fn=pyfunc_predict_fn,
        metadata=metadata,
        params=params,
        tags=tags,
        model_type=model_type,
        step=step,
        model_id=model_id,
        **kwargs,
    )


def _this_module():
    import sys

    return sys.modules[__name__]


# --- loading -----------------------------------------------------------------------------------------------


def _model_file(local_path: str, flavor_conf: dict) -> Path:
    """The glassnet model file an MLmodel names, which must lie inside the model folder."""
    folder = Path(local_path).resolve()
    name = flavor_conf.get("model_file", _MODEL_FILE)
    if not isinstance(name, str):
        raise MlflowException.invalid_parameter_value(
            f"MLmodel's glassnet model_file must be a string: {name!r}"
        )
    path = (folder / name).resolve()
    if folder not in path.parents:
        raise MlflowException.invalid_parameter_value(
            f"MLmodel's glassnet model_file {name!r} is outside the model folder {folder}"
        )
    return path


def _load_file(path: Path, kind: str):
    """The estimator (estimator files) or the :class:`~glassnet.io.SavedModel` (network files) in ``path``."""
    from glassnet.estimators.persistence import load_estimator
    from glassnet.files.model import load_model as load_network

    return load_estimator(path) if kind == "estimator" else load_network(path)


def load_model(model_uri: str, dst_path: str | None = None):
    """Load a glassnet model saved by :func:`save_model` or logged by :func:`log_model`.

    Parameters
    ----------
    model_uri : str
        Where the model is, in any form MLflow takes: a local folder, ``runs:/<run_id>/model``,
        ``models:/<name>/<version>``, ``models:/<model_id>``, ...
    dst_path : str, optional
        A local folder to download the model into (default: a temporary one).

    Returns
    -------
    MLPClassifier, MLPRegressor or glassnet.io.SavedModel
        The estimator for an estimator, a :class:`~glassnet.io.SavedModel` (network, preprocessing,
        classes) for a network.

    Raises
    ------
    glassnet.io.ModelFileError
        If the glassnet model file is truncated, corrupt or crafted (nothing is unpickled or run).
    """
    local_path = _download_artifact_from_uri(artifact_uri=model_uri, output_path=dst_path)
    flavor_conf = _get_flavor_configuration(model_path=local_path, flavor_name=FLAVOR_NAME)
    kind = "estimator" if flavor_conf.get("kind") == "estimator" else "network"
    return _load_file(_model_file(local_path, flavor_conf), kind)


class _GlassnetModelWrapper:
    """What ``mlflow.pyfunc`` calls: ``predict(data, params=None)`` on a loaded glassnet model."""

    def __init__(self, model, predict_fn: str = "predict") -> None:
        self.model = model
        self.predict_fn = predict_fn if predict_fn in _PREDICT_FNS else "predict"

    def get_raw_model(self):
        """The estimator or :class:`~glassnet.io.SavedModel` itself."""
        return self.model

    def _network_input(self, data) -> np.ndarray:
        X = np.asarray(data.to_numpy() if hasattr(data, "to_numpy") else data)
        if X.dtype.kind not in "biuf":
            raise TypeError(f"a glassnet network predicts from numbers; got input of dtype {X.dtype}")
        scale = self.model.preprocessing.get("scale")
        X = X.astype(self.model.network.dtype, copy=False)
        return X / X.dtype.type(scale) if scale else X

    def predict(self, data, params: dict[str, Any] | None = None):
        """The model's predictions for the rows of ``data`` (array or DataFrame)."""
        if not hasattr(self.model, "network"):  # an estimator: scikit-learn checks the input itself
            return getattr(self.model, self.predict_fn)(data)
        network, classes = self.model.network, self.model.classes
        X = self._network_input(data)
        if self.predict_fn == "predict_proba":
            return network.predict_proba(X)
        prediction = network.predict(X)
        if classes and prediction.ndim == 1 and np.issubdtype(prediction.dtype, np.integer):
            return np.asarray(classes)[prediction]  # class indices -> the labels they stand for
        return prediction

    def predict_proba(self, data, params: dict[str, Any] | None = None):
        """Class probabilities (classifiers) or the network's link output (``predict_fn='predict_proba'``)."""
        if not hasattr(self.model, "network"):
            return self.model.predict_proba(data)
        return self.model.network.predict_proba(self._network_input(data))


def _load_pyfunc(path: str, model_config: dict | None = None) -> _GlassnetModelWrapper:
    """Called by ``mlflow.pyfunc.load_model`` with the path of the glassnet model file (pyfunc's ``data``).

    ``model_config`` (MLflow's optional model configuration) is not used: a glassnet model has none.
    """
    return _wrapper(path)


def _wrapper(path, predict_fn: str | None = None) -> _GlassnetModelWrapper:
    """The pyfunc wrapper of the model file ``path``; ``predict_fn`` as recorded in MLmodel unless given."""
    path = Path(path)
    folder = path.parent
    try:
        flavor_conf = _get_flavor_configuration(model_path=str(folder), flavor_name=FLAVOR_NAME)
        pyfunc_conf = _get_flavor_configuration(model_path=str(folder), flavor_name=pyfunc.FLAVOR_NAME)
    except MlflowException:  # save_model's own call, before the MLmodel file is written
        flavor_conf, pyfunc_conf = {}, {}
    if flavor_conf:
        path = _model_file(str(folder), flavor_conf)
    kind = flavor_conf.get("kind")
    if kind is None:  # not yet recorded: the file itself says
        from glassnet.files.model import read_metadata

        kind = read_metadata(path).get("kind", "network")
    model = _load_file(path, "estimator" if kind == "estimator" else "network")
    return _GlassnetModelWrapper(model, predict_fn or pyfunc_conf.get("predict_fn", "predict"))
