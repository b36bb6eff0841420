"""Estimator files and resumable estimators: a fitted :class:`~glassnet.MLPClassifier` or
:class:`~glassnet.MLPRegressor` in a glassnet model file, and back.

The file is the network's model file (:mod:`glassnet.files.model`: one pickle-free ``.npz``, every array and
the metadata checksummed, bounded) with an ``estimator`` section: the hyper-parameters (``get_params()`` as
JSON), the declared fitted attributes (:data:`glassnet.files.schema.FITTED_JSON`, ``FITTED_ARRAYS``) and the
state of a ``random_state`` generator. Loading builds the estimator from its class (one of two, never a name
the file chooses), passes its parameters through the estimators' own validation and restores only the
declared attributes.

:func:`resume_estimator` turns a checkpoint written during an estimator's ``fit`` (a
:class:`~glassnet.files.checkpoint.ModelCheckpoint` in its callbacks) back into an estimator that continues
the run; :func:`estimator_checkpoint_state` is what such a checkpoint stores of the estimator.
"""

from __future__ import annotations

import inspect
import io
import os
import warnings
from pathlib import Path

import numpy as np

from glassnet.config.build import make_optimizer, make_schedule
from glassnet.config.params import InvalidParameterError, validate_params
from glassnet.estimators._classifier import MLPClassifier
from glassnet.estimators._regressor import MLPRegressor
from glassnet.estimators._saving import (
    _restore_random_state,
    estimator_checkpoint_state,
    save_estimator,
)
from glassnet.files import schema
from glassnet.files.checkpoint import (
    Checkpoint,
    CheckpointError,
    check_network,
    load_checkpoint,
    restore_generators,
    restore_optimizer,
    restore_schedule,
)
from glassnet.files.model import ESTIMATOR_PREFIX, MAX_BYTES, ModelFileError, open_model_file, read_network

__all__ = ["save_estimator", "load_estimator", "resume_estimator", "estimator_checkpoint_state"]


_CLASSES = {"MLPClassifier": MLPClassifier, "MLPRegressor": MLPRegressor}  # a file never chooses other code


def load_estimator(path: str | os.PathLike, *, max_bytes: int = MAX_BYTES):
    """Load an estimator written by :func:`save_estimator`; its predictions equal the saved one's exactly.

    Only the estimator's declared fitted attributes are restored, its parameters pass the estimator's
    own validation, and what it needs to predict must agree with the network (``n_features_in_`` its
    inputs, ``classes_`` distinct and as many as its outputs) before it is returned.

    Raises
    ------
    ModelFileError
        As :func:`load_model`, and if the file holds a plain network rather than an estimator, or an
        estimator that could not predict.
    """
    return _load_estimator(Path(path), max_bytes)


def _load_estimator(path: Path, max_bytes: int, fileobj=None):
    with open_model_file(path, max_bytes, fileobj) as box:
        metadata = box.metadata
        spec = metadata.get("estimator")
        if metadata.get("kind") != "estimator" or not isinstance(spec, dict):
            raise ModelFileError(f"{path} holds a plain network, not an estimator; load it with load_model")
        estimator = _estimator_from(path, spec)
        for key in box.names:
            if key.startswith(ESTIMATOR_PREFIX):
                attr, value = key[len(ESTIMATOR_PREFIX) :], box.read(key)
                if attr.endswith("_object_str"):
                    attr, value = schema.fitted_array_name(attr), value.astype(object)
                setattr(estimator, attr, value)
        estimator.network_ = read_network(box)
    _check_predictable(path, estimator)
    return estimator


def _estimator_from(path: Path, spec: dict):
    """The estimator of the (schema-validated) ``estimator`` section: its class, parameters and fitted
    attributes."""
    cls = _CLASSES[spec["class"]]
    known = sorted(inspect.signature(cls).parameters)
    unknown = sorted(set(spec.get("params", {})) - set(known))
    if unknown:
        raise ModelFileError(
            f"{path}: estimator.params has an unknown parameter {unknown[0]!r}; known: {known}"
        )
    tuples, pairs = set(spec.get("tuples", [])), set(spec.get("pairs", []))

    def restore(key, value):
        if key in pairs:
            return {k: v for k, v in value}
        return tuple(value) if key in tuples and isinstance(value, list) else value

    params = {k: restore(k, v) for k, v in spec.get("params", {}).items()}
    try:
        if spec.get("random_state") is not None:
            params["random_state"] = _restore_random_state(spec["random_state"])
        estimator = cls(**params)
        validate_params(estimator, estimator._declared_params)
    except (InvalidParameterError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path} has invalid estimator parameters: {exc}") from None
    for key, value in spec.get("fitted", {}).items():
        setattr(estimator, key, restore(key, value))
    return estimator


_TARGET_TYPES = ("binary", "multiclass", "multilabel-indicator")


def _check_predictable(path: Path, est) -> None:
    """An estimator file that passes the schema must also describe an estimator that can predict: the
    fitted attributes ``predict`` uses are there and agree with the network."""
    net = est.network_
    n_in = next((la.in_features for la in net.layers if getattr(la, "in_features", None) is not None), None)
    n_out = net.n_outputs

    def refuse(text: str) -> ModelFileError:
        return ModelFileError(f"{path} holds an estimator that cannot predict: {text}")

    if not isinstance(getattr(est, "n_features_in_", None), int):
        raise refuse("its fitted section lacks n_features_in_ (is the estimator section complete?)")
    if n_in is not None and est.n_features_in_ != n_in:
        raise refuse(f"n_features_in_ is {est.n_features_in_} but the network takes {n_in} inputs")
    names = getattr(est, "feature_names_in_", None)
    if names is not None and len(names) != est.n_features_in_:
        raise refuse(f"feature_names_in_ has {len(names)} names for {est.n_features_in_} features")
    if getattr(est, "n_outputs_", n_out) != n_out:
        raise refuse(f"n_outputs_ is {est.n_outputs_} but the network has {n_out} outputs")
    if type(est).__name__ == "MLPRegressor":
        return
    classes, target = getattr(est, "classes_", None), getattr(est, "target_type_", None)
    if classes is None or target not in _TARGET_TYPES:
        raise refuse(f"a classifier needs classes_ and a target_type_ in {list(_TARGET_TYPES)}")
    try:
        distinct = len(np.unique(classes)) == len(classes) and bool(np.all(np.sort(classes) == classes))
    except TypeError:  # labels of mixed types cannot be sorted
        distinct = False
    if not distinct:
        raise refuse("classes_ must be distinct and sorted (a duplicate label could never be predicted)")
    wanted = 1 if target == "binary" else len(classes)
    if (target == "binary" and len(classes) > 2) or n_out != wanted:
        raise refuse(f"{len(classes)} classes ({target}) need {wanted} network outputs, it has {n_out}")


def resume_estimator(source: str | os.PathLike | Checkpoint):
    """The estimator of a checkpoint written during ``MLPClassifier/MLPRegressor.fit(...,
    callbacks=[ModelCheckpoint(folder)])``, ready to continue training where it stopped.

    The estimator comes back with its parameters, fitted attributes and training records, its network, its
    optimizer's state (``_optimizer``), its schedule (``_schedule``), its random generator and the dropout
    layers' (``_rng``) and ``history_``; ``warm_start`` is set to ``True``. Continue with::

        est = resume_estimator("ckpt")
        est.set_params(max_iter=remaining).fit(X, y)    # keeps the restored optimizer state

    This continues exactly (bit-identical weights to one uninterrupted ``fit``) for the ``sgd`` and ``adam``
    solvers with a constant or ``invscaling``/``adaptive`` rate, shuffling and dropout, as long as the
    stopping rule does not end either run early; with ``n_jobs > 1`` too (each process draws its dropout
    masks from a stream of the epoch's number counted across fits, see
    :func:`glassnet.training.parallel._epoch_stream`). ``learning_rate='cosine'`` is exact because the
    schedule keeps its saved length. Not exact: ``early_stopping=True`` (the validation split is drawn again
    from the generator by the resumed ``fit``; a warning says so). ``n_iter_`` counts the epochs of the
    resumed ``fit`` (as for any warm start); ``loss_curve_`` and ``t_`` continue.

    Raises
    ------
    CheckpointError
        If the checkpoint was not written during an estimator's fit (use :func:`resume` with a Trainer).
    """
    ckpt = source if isinstance(source, Checkpoint) else load_checkpoint(source)
    spec = ckpt.metadata.get("estimator")
    if spec is None:
        raise CheckpointError(
            f"{ckpt.path} was written by a plain Trainer, not during an estimator's fit; resume it with "
            "glassnet.checkpoint.resume(trainer, path)"
        )
    blob = io.BytesIO(ckpt.arrays["estimator/model"].tobytes())
    try:
        est = _load_estimator(Path(f"{ckpt.path}: its estimator"), MAX_BYTES, blob)
    except ModelFileError as exc:
        raise CheckpointError(str(exc)) from None
    if type(est).__name__ != spec["class"]:
        raise CheckpointError(f"{ckpt.path} says it holds a {spec['class']} but holds a {type(est).__name__}")
    net = est.network_
    check_network(ckpt, net)
    for key, value in spec["state"].items():
        _check_state(ckpt, key, value)
        setattr(est, key, list(value) if isinstance(value, list) else value)
    best = ckpt.arrays.get("estimator/_best_params")
    if best is not None and best.shape != (net.n_params,):
        raise CheckpointError(
            f"{ckpt.path}: estimator/_best_params has shape {best.shape}, not ({net.n_params},)"
        )
    est._best_params = None if best is None else best.astype(net.dtype)
    _restore_training_state(ckpt, est)
    rng = restore_generators(ckpt, net)
    est._rng = rng if rng is not None else np.random.default_rng()
    est.history_ = est._checkpoint_history = ckpt.history  # a ModelCheckpoint in the next fit continues it
    est.set_params(warm_start=True)
    if est.early_stopping:
        warnings.warn(
            "The checkpointed estimator has early_stopping=True: the resumed fit draws its validation split "
            "again from the generator, so it will not continue the saved run exactly (pass X_val=..., "
            "y_val=... to fit instead of early_stopping's split for an exact continuation).",
            UserWarning,
            stacklevel=2,
        )
    est._resumed_from_checkpoint = True  # the next fit keeps _optimizer and _schedule (see _stochastic.py)
    return est


def _restore_training_state(ckpt: Checkpoint, est) -> None:
    """The optimizer and schedule the estimator's settings make, then put in the checkpoint's state (of the
    same classes only)."""
    net, config = est.network_, est._config()
    est._optimizer, est._schedule = make_optimizer(config), make_schedule(config, 1)
    for what, obj in (("optimizer", est._optimizer), ("schedule", est._schedule)):
        if type(obj).__name__ != ckpt.metadata[what]["class"]:
            raise CheckpointError(
                f"{ckpt.path} holds the state of a {ckpt.metadata[what]['class']:.100} {what}, but the "
                f"estimator's settings make a {type(obj).__name__}"
            )
    restore_optimizer(ckpt, est._optimizer, net.n_params, net.dtype)
    restore_schedule(ckpt, est._schedule)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# the training records a checkpoint restores (ESTIMATOR_STATE), and what each must be
_STATE_CHECKS = {
    "n_iter_": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    "t_": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    "_no_improvement_count": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    "loss_": lambda v: v is None or _is_number(v),
    "best_loss_": lambda v: v is None or _is_number(v),
    "best_validation_score_": lambda v: v is None or _is_number(v),
    "_best_score_before_epoch": lambda v: v is None or _is_number(v),
    "loss_curve_": lambda v: isinstance(v, list) and all(_is_number(x) for x in v),
    "validation_scores_": lambda v: v is None or (isinstance(v, list) and all(_is_number(x) for x in v)),
    "validation_loss_curve_": lambda v: v is None or (isinstance(v, list) and all(_is_number(x) for x in v)),
}


def _check_state(ckpt: Checkpoint, key: str, value) -> None:
    """A file restores the declared training records only, each of its type."""
    check = _STATE_CHECKS.get(key)
    if check is None:
        raise CheckpointError(f"{ckpt.path} stores an undeclared estimator attribute {key[:80]!r}")
    if not check(value):
        raise CheckpointError(f"{ckpt.path}: estimator.state.{key} has an invalid value {str(value)[:60]}")
