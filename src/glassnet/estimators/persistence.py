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
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from glassnet.config.params import InvalidParameterError, validate_params
from glassnet.estimators._classifier import MLPClassifier
from glassnet.estimators._regressor import MLPRegressor
from glassnet.estimators._saving import (
    ESTIMATOR_STATE,
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
from glassnet.files.model import (
    ESTIMATOR_PREFIX,
    MAX_BYTES,
    ModelFileError,
    build_network,
    read_model_file,
)
from glassnet.nn.optim import OPTIMIZERS
from glassnet.nn.schedules import SCHEDULES

__all__ = ["save_estimator", "load_estimator", "resume_estimator", "estimator_checkpoint_state"]


_CLASSES = {"MLPClassifier": MLPClassifier, "MLPRegressor": MLPRegressor}  # a file never chooses other code


def load_estimator(path: str | os.PathLike, *, max_bytes: int = MAX_BYTES):
    """Load an estimator written by :func:`save_estimator`; its predictions equal the saved one's exactly.

    Only the estimator's declared fitted attributes are restored, and its parameters pass the estimator's
    own validation before it is returned.

    Raises
    ------
    ModelFileError
        As :func:`load_model`, and if the file holds a plain network rather than an estimator.
    """
    path = Path(path)
    metadata, arrays = read_model_file(path, max_bytes)
    spec = metadata.get("estimator")
    if metadata.get("kind") != "estimator" or not isinstance(spec, dict):
        raise ModelFileError(f"{path} holds a plain network, not an estimator; load it with load_model")
    cls = _CLASSES[spec["class"]]
    unknown = sorted(set(spec.get("params", {})) - set(inspect.signature(cls).parameters))
    if unknown:
        raise ModelFileError(
            f"{path}: estimator.params has an unknown parameter {unknown[0]!r}; known: {sorted(inspect.signature(cls).parameters)}"
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
    for key, value in arrays.items():
        if not key.startswith(ESTIMATOR_PREFIX):
            continue
        attr = key[len(ESTIMATOR_PREFIX) :]
        if attr.endswith("_object_str"):
            attr, value = schema.fitted_array_name(attr), value.astype(object)
        setattr(estimator, attr, value)
    weights = {k: v for k, v in arrays.items() if not k.startswith(ESTIMATOR_PREFIX)}
    estimator.network_ = build_network(path, metadata, weights)
    return estimator


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
    stopping rule does not end either run early. Not exact: ``early_stopping=True`` (the validation split
    is drawn again from the generator by the resumed ``fit``), ``learning_rate='cosine'`` is exact only
    because the schedule keeps its saved length, and the data-parallel case with dropout as described in the
    module docstring. ``n_iter_`` counts the epochs of the resumed ``fit`` (as for any warm start);
    ``loss_curve_`` and ``t_`` continue.

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
    with tempfile.TemporaryDirectory(prefix="glassnet-checkpoint-") as tmp:
        path = Path(tmp) / "estimator.npz"
        path.write_bytes(ckpt.arrays["estimator/model"].tobytes())
        est = load_estimator(path)
    net = est.network_
    check_network(ckpt, net)
    for key, value in spec["state"].items():
        if key not in ESTIMATOR_STATE:  # a file restores the declared training records, nothing else
            raise CheckpointError(f"{ckpt.path} stores an undeclared estimator attribute {key!r}")
        setattr(est, key, list(value) if isinstance(value, list) else value)
    best = ckpt.arrays.get("estimator/_best_params")
    est._best_params = None if best is None else best.copy()
    opt_spec, sched_spec = ckpt.metadata["optimizer"], ckpt.metadata["schedule"]
    opt_cls = {cls.__name__: cls for cls in OPTIMIZERS.values()}.get(opt_spec["class"])
    sched_cls = {cls.__name__: cls for cls in SCHEDULES.values()}.get(sched_spec["class"])
    if opt_cls is None or sched_cls is None:
        raise CheckpointError(
            f"{ckpt.path} names an unknown optimizer or schedule ({opt_spec['class']}, {sched_spec['class']})"
        )
    est._optimizer = opt_cls.__new__(opt_cls)
    restore_optimizer(ckpt, est._optimizer, net.n_params, net.dtype)
    est._schedule = sched_cls.__new__(sched_cls)
    restore_schedule(ckpt, est._schedule)
    rng = restore_generators(ckpt, net)
    est._rng = rng if rng is not None else np.random.default_rng()
    est.history_ = est._checkpoint_history = ckpt.history  # a ModelCheckpoint in the next fit continues it
    est.set_params(warm_start=True)
    if est.early_stopping:
        warnings.warn(
            "The checkpointed estimator has early_stopping=True: the resumed fit draws its validation split "
            "again from the generator, so it will not continue the saved run exactly (pass eval_set=(X_val, "
            "y_val) to fit instead of early_stopping's split for an exact continuation).",
            UserWarning,
            stacklevel=2,
        )
    est._resumed_from_checkpoint = True  # the next fit keeps _optimizer and _schedule (see _stochastic.py)
    return est
