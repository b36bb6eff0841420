"""Saving a fitted estimator: its model file (:func:`save_estimator`) and what a checkpoint keeps of it.

The file is the network's model file (:mod:`glassnet.files.model`: one pickle-free ``.npz``, every array and
the metadata checksummed) with an ``estimator`` section: the hyper-parameters (``get_params()`` as JSON), the
declared fitted attributes (:data:`glassnet.files.schema.FITTED_JSON`, ``FITTED_ARRAYS``) and the state of a
``random_state`` generator. Loading is :mod:`glassnet.estimators.persistence`.
"""

from __future__ import annotations

import inspect
import io
import json
import os
import warnings
from pathlib import Path

import numpy as np

from glassnet.files import schema
from glassnet.files.checkpoint import jsonable
from glassnet.files.model import ESTIMATOR_PREFIX, base_metadata, json_default, write_model_file

__all__ = ["save_estimator", "estimator_checkpoint_state", "ESTIMATOR_STATE"]

# the estimator's training records that a model file does not keep (private) or that change every epoch
ESTIMATOR_STATE = (
    "n_iter_",
    "t_",
    "loss_",
    "best_loss_",
    "loss_curve_",
    "validation_scores_",
    "validation_loss_curve_",
    "best_validation_score_",
    "_no_improvement_count",
    "_best_score_before_epoch",
)


def _split_fitted(estimator) -> tuple[dict, dict, list[str]]:
    """Declared fitted attributes as JSON values or arrays; returns (json_attrs, array_attrs, skipped)."""
    json_attrs, array_attrs, skipped = {}, {}, []
    for name, value in vars(estimator).items():
        if not name.endswith("_") or name.startswith("_") or name == "network_":
            continue
        if name in schema.FITTED_ARRAYS and isinstance(value, np.ndarray):
            if value.dtype == object and all(isinstance(v, str) for v in value.ravel()):
                array_attrs[name + "object_str"] = value.astype(str)  # restored as dtype object
            elif value.dtype != object and value.dtype.kind in schema.FITTED_ARRAYS[name]:
                array_attrs[name] = value
            else:
                skipped.append(name)
            continue
        if name not in schema.FITTED_JSON:
            skipped.append(name)  # not declared restorable (see glassnet.files.schema.FITTED_JSON)
            continue
        try:
            json.dumps(value, default=json_default)
        except (TypeError, ValueError):
            skipped.append(name)
            continue
        json_attrs[name] = value
    return json_attrs, array_attrs, skipped


def _random_state_spec(value) -> dict | None:
    """The state of a ``RandomState`` or PCG64 ``Generator``, as JSON (``None`` for anything else)."""
    if isinstance(value, np.random.RandomState):
        kind, keys, pos, has_gauss, cached = value.get_state(legacy=True)
        return {"kind": "RandomState", "keys": [int(k) for k in keys], "pos": int(pos),
                "has_gauss": int(has_gauss), "cached_gaussian": float(cached)}  # fmt: skip
    if isinstance(value, np.random.Generator) and isinstance(value.bit_generator, np.random.PCG64):
        state = value.bit_generator.state
        return {"kind": "Generator", "state": {
            "bit_generator": "PCG64", "state": {k: int(v) for k, v in state["state"].items()},
            "has_uint32": int(state["has_uint32"]), "uinteger": int(state["uinteger"])}}  # fmt: skip
    return None


def _restore_random_state(spec: dict):
    if spec["kind"] == "RandomState":
        rs = np.random.RandomState()
        keys = np.array(spec["keys"], dtype=np.uint32)
        rs.set_state(("MT19937", keys, spec["pos"], spec["has_gauss"], spec["cached_gaussian"]))
        return rs
    generator = np.random.Generator(np.random.PCG64())
    generator.bit_generator.state = spec["state"]
    return generator


def _storable_params(estimator) -> tuple[dict, list[str], list[str], dict | None]:
    """The estimator's ``get_params()`` as JSON: returns (params, skipped_params, pairs, random_state).

    A dict value is stored as ``[key, value]`` pairs (its key named in ``pairs``), a ``RandomState`` or PCG64
    ``Generator`` as ``random_state`` as its state; a value that is not JSON is skipped with a warning.
    """
    name = type(estimator).__name__
    params, skipped_params, pairs, random_state = {}, [], [], None
    for key, value in estimator.get_params(deep=False).items():
        if key == "random_state" and isinstance(value, (np.random.RandomState, np.random.Generator)):
            random_state = _random_state_spec(value)
            if random_state is not None:
                continue
        if isinstance(value, dict):
            value, kind = [[k, v] for k, v in value.items()], "pairs"  # JSON objects have only str keys
        else:
            kind = None
        try:
            json.dumps(value, default=json_default)
        except (TypeError, ValueError):
            skipped_params.append(key)
            default = inspect.signature(type(estimator)).parameters[key].default
            warnings.warn(
                f"{name}'s parameter {key}={value!r} cannot be stored in a model file; the loaded estimator "
                f"will have {key}={default!r}",
                UserWarning,
                stacklevel=4,  # the caller of save_estimator
            )
            continue
        params[key] = value
        if kind == "pairs":
            pairs.append(key)
    return params, skipped_params, pairs, random_state


def save_estimator(path: str | os.PathLike, estimator, *, preprocessing: dict | None = None,
                   info: dict | None = None) -> Path:  # fmt: skip
    """Save a fitted :class:`glassnet.MLPClassifier` or :class:`glassnet.MLPRegressor`, atomically.

    The file holds the estimator's network (so :func:`load_model` can use it as a plain network too), its
    hyper-parameters (``get_params()``: JSON values; a dict such as ``class_weight={0: 2.0}`` keeps its
    keys' types; a ``RandomState`` or PCG64 ``Generator`` as ``random_state`` keeps its current state)
    and its declared fitted attributes (``classes_``, ``loss_curve_``, ``n_iter_``, ...). A parameter that
    cannot be stored is named in a ``UserWarning`` and comes back as its default.
    """
    return write_model_file(Path(path), *_estimator_file(estimator, preprocessing, info))


def _estimator_file(estimator, preprocessing: dict | None, info: dict | None) -> tuple[dict, dict]:
    """The arrays and metadata of an estimator's model file."""
    name = type(estimator).__name__
    if name not in schema.ESTIMATORS or not hasattr(estimator, "network_"):
        raise TypeError(f"save_estimator takes a fitted glassnet MLPClassifier or MLPRegressor, got {name}")
    network = estimator.network_
    params, skipped_params, pairs, random_state = _storable_params(estimator)
    json_attrs, array_attrs, skipped = _split_fitted(estimator)
    arrays = {k: np.array(v) for k, v in network.state_dict().items()}
    arrays.update({ESTIMATOR_PREFIX + k: v for k, v in array_attrs.items()})
    classes = getattr(estimator, "classes_", None)
    metadata = base_metadata("estimator", network)
    metadata.update(
        estimator={
            "class": name,
            "params": params,
            # JSON has no tuples; remember which values were tuples (hidden_layer_sizes=(256, 128))
            "tuples": sorted(k for k, v in {**params, **json_attrs}.items() if isinstance(v, tuple)),
            "pairs": pairs,
            "random_state": random_state,
            "fitted": json_attrs,
            "skipped_params": skipped_params,
            "skipped_attributes": skipped,
        },
        preprocessing=preprocessing or {},
        classes=np.asarray(classes).tolist() if classes is not None else [],
        class_names=[str(c) for c in classes] if classes is not None else None,
        info=info or {},
    )
    return arrays, metadata


def estimator_checkpoint_state(est) -> tuple[dict, dict[str, np.ndarray]]:
    """The estimator as a model file's bytes (:func:`save_estimator`) plus its training records: what a
    checkpoint written during its ``fit`` keeps of it (the ``TrainingOwner.checkpoint_state`` answer)."""
    # the model file, in memory (no temporary file): the checkpoint holding it is what is written atomically
    buffer = io.BytesIO()
    write_model_file(buffer, *_estimator_file(est, None, None))
    blob = np.frombuffer(buffer.getvalue(), dtype=np.uint8)
    arrays = {"estimator/model": blob}
    state = {}
    for name in ESTIMATOR_STATE:
        if hasattr(est, name):
            try:
                state[name] = jsonable(getattr(est, name))
            except TypeError:
                pass
    best = getattr(est, "_best_params", None)
    if isinstance(best, np.ndarray):
        arrays["estimator/_best_params"] = np.array(best)
    return {"class": type(est).__name__, "state": state}, arrays
