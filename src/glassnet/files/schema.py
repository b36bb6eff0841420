"""What a model file's or a checkpoint's metadata may hold: every field's type and bounds, checked before
anything is built.

:func:`validate_metadata` is run by :mod:`glassnet.files.model` on the parsed JSON of every file it loads. It
either returns the arrays the file must hold (name -> expected shape and dtype, derived from the declared
architecture without allocating anything) or raises :class:`SchemaError` with a message naming the field
(``preprocessing.box``) and what was expected. Nothing in the metadata can choose code: layer and loss
types are looked up by name among the registered ones, estimator classes among two, and only the
declared fitted attributes (:data:`FITTED_JSON`, :data:`FITTED_ARRAYS`) can be restored.

:func:`validate_checkpoint` does the same for :mod:`glassnet.files.checkpoint`: its fields are exactly
:data:`CHECKPOINT_FIELDS`, and it returns the arrays the checkpoint must hold.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

__all__ = [
    "ESTIMATORS",
    "FITTED_ARRAYS",
    "FITTED_JSON",
    "SchemaError",
    "check_json",
    "validate_checkpoint",
    "validate_metadata",
]

ESTIMATORS = ("MLPClassifier", "MLPRegressor")
MAX_DEPTH = 32  # nesting of free-form JSON (info, unknown fields)
MAX_LAYERS = 10_000
MAX_FEATURES = 2**31 - 1
MAX_IMAGE_SIDE = 4096
MAX_LIST = 10_000_000
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class SchemaError(ValueError):
    """A metadata field has the wrong type or is out of bounds (the message names the field)."""


# --- small checks -------------------------------------------------------------------------------------------


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _fail(where: str, expected: str, value) -> SchemaError:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return SchemaError(f"{where} must be {expected}, got {text}")


def _int(where: str, v, lo: int, hi: int) -> int:
    if not _is_int(v) or not lo <= v <= hi:
        raise _fail(where, f"an integer in [{lo}, {hi}]", v)
    return v


def _number(where: str, v, lo: float = -math.inf, hi: float = math.inf, allow_none: bool = False):
    if v is None and allow_none:
        return v
    if not _is_number(v) or not math.isfinite(v) or not lo <= v <= hi:
        bounds = "" if (lo, hi) == (-math.inf, math.inf) else f" in [{lo:g}, {hi:g}]"
        raise _fail(where, f"a finite number{bounds}" + (" or null" if allow_none else ""), v)
    return v


def _str(where: str, v, max_len: int = 1000, allow_none: bool = False, choices=None):
    if v is None and allow_none:
        return v
    if not isinstance(v, str) or len(v) > max_len or (choices is not None and v not in choices):
        what = (
            f"one of {sorted(choices)}"
            if choices is not None
            else f"a string of at most {max_len} characters"
        )
        raise _fail(where, what + (" or null" if allow_none else ""), v)
    return v


def _dict(where: str, v) -> dict:
    if not isinstance(v, dict):
        raise _fail(where, "a JSON object", v)
    return v


def _list(where: str, v, max_len: int = MAX_LIST) -> list:
    if not isinstance(v, list) or len(v) > max_len:
        raise _fail(where, f"a list of at most {max_len} items", v)
    return v


def check_json(where: str, value, depth: int = 0) -> None:
    """Free-form JSON: any of null, bool, number, string, list, object (string keys), at most 32 deep."""
    if depth > MAX_DEPTH:
        raise SchemaError(f"{where} is nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, int, float, str)):
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            check_json(f"{where}[{i}]", item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            check_json(f"{where}.{key}", item, depth + 1)
        return
    raise _fail(where, "a JSON value", value)


def _scalar(where: str, v):
    if v is None or isinstance(v, (bool, str)) or (_is_number(v) and math.isfinite(v)):
        if isinstance(v, str) and len(v) > 1000:
            raise _fail(where, "a string of at most 1000 characters", v)
        return v
    raise _fail(where, "a JSON scalar (null, bool, finite number or string)", v)


# --- architecture ---------------------------------------------------------------------------------------------


def _loss(where: str, spec) -> None:
    from glassnet.nn.losses import LOSSES

    spec = _dict(where, spec)
    name = _str(f"{where}.name", spec.get("name"), choices=LOSSES)
    config = {k: _scalar(f"{where}.{k}", v) for k, v in spec.items() if k != "name"}
    try:
        LOSSES[name](**config)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"{where} is not a valid {name} loss: {exc}") from None


def architecture_arrays(arch) -> tuple[dict[str, tuple[tuple[int, ...], np.dtype]], int | None]:
    """Validate ``architecture``; return the parameter arrays it needs and its output width.

    Dense and BatchNorm sizes are checked as numbers (consecutive widths must agree), so a file declaring
    ``Dense(16000, 16000)`` costs nothing until its stored arrays are known to match.
    """
    from glassnet.nn.layers import LAYERS

    arch = _dict("architecture", arch)
    dtype_name = _str("architecture.dtype", arch.get("dtype", "float32"), choices=("float32", "float64"))
    dtype = np.dtype(dtype_name)
    _loss("architecture.loss", arch.get("loss"))
    layers = _list("architecture.layers", arch.get("layers"), MAX_LAYERS)
    if not layers:
        raise SchemaError("architecture.layers must hold at least one layer")
    expected: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    width = None
    for i, spec in enumerate(layers):
        where = f"architecture.layers[{i}]"
        spec = _dict(where, spec)
        kind = _str(f"{where}.type", spec.get("type"), choices=LAYERS)
        config = {k: _scalar(f"{where}.{k}", v) for k, v in spec.items() if k != "type"}
        if kind == "Dense":
            if set(config) != {"in_features", "out_features"}:
                raise _fail(where, "a Dense layer with exactly in_features and out_features", sorted(config))
            n_in = _int(f"{where}.in_features", config["in_features"], 1, MAX_FEATURES)
            n_out = _int(f"{where}.out_features", config["out_features"], 1, MAX_FEATURES)
            if width is not None and n_in != width:
                raise SchemaError(
                    f"{where} is Dense({n_in}, {n_out}) but the layer before it has {width} outputs"
                )
            expected[f"layers.{i}.W"] = ((n_out, n_in), dtype)
            expected[f"layers.{i}.b"] = ((n_out,), dtype)
            width = n_out
        elif kind == "BatchNorm":
            n = _int(f"{where}.num_features", config.get("num_features"), 1, MAX_FEATURES)
            _number(f"{where}.momentum", config.get("momentum", 0.1), 0.0, 1.0)
            _number(f"{where}.eps", config.get("eps", 1e-5), 0.0)
            if set(config) - {"num_features", "momentum", "eps"}:
                raise _fail(where, "a BatchNorm layer with num_features, momentum and eps", sorted(config))
            if width is not None and n != width:
                raise SchemaError(f"{where} is BatchNorm({n}) but the layer before it has {width} outputs")
            for name, dt in (("gamma", dtype), ("beta", dtype), ("running_mean", np.dtype(np.float64)),
                             ("running_var", np.dtype(np.float64))):  # fmt: skip
                expected[f"layers.{i}.{name}"] = ((n,), dt)
            width = n
        else:  # layers without fixed-size parameters are cheap to build, and validate their own settings
            try:
                layer = LAYERS[kind](**config)
            except (TypeError, ValueError) as exc:
                raise SchemaError(f"{where} is not a valid {kind} layer: {exc}") from None
            for name, value in {**layer.params, **getattr(layer, "buffers", {})}.items():
                expected[f"layers.{i}.{name}"] = (tuple(value.shape), np.dtype(value.dtype))
    return expected, width


# --- preprocessing --------------------------------------------------------------------------------------------


def _preprocessing(pre, n_inputs: int | None) -> None:
    pre = _dict("preprocessing", pre)
    _str("preprocessing.dataset", pre.get("dataset"), 200, allow_none=True)
    n_features = pre.get("n_features")
    if n_features is not None:
        _int("preprocessing.n_features", n_features, 1, MAX_FEATURES)
        if n_inputs is not None and n_features != n_inputs:
            raise SchemaError(
                f"preprocessing.n_features is {n_features} but the network takes {n_inputs} inputs"
            )
    shape = pre.get("image_shape")
    if shape is not None:
        if not isinstance(shape, list) or len(shape) not in (2, 3):
            raise _fail("preprocessing.image_shape", "null or a list of 2 (or 3) sizes", shape)
        for k, side in enumerate(shape):
            _int(f"preprocessing.image_shape[{k}]", side, 1, MAX_IMAGE_SIDE)
        pixels = int(np.prod(shape))
        if n_inputs is not None and pixels != n_inputs:
            raise SchemaError(
                f"preprocessing.image_shape {shape} has {pixels} pixels, the network takes {n_inputs}"
            )
    if "scale" in pre:
        _number("preprocessing.scale", pre["scale"], 1e-300, 1e300, allow_none=True)
        if pre["scale"] is not None and pre["scale"] <= 0:
            raise _fail("preprocessing.scale", "a positive number", pre["scale"])
    if "light_on_dark" in pre and not isinstance(pre["light_on_dark"], bool):
        raise _fail("preprocessing.light_on_dark", "true or false", pre["light_on_dark"])
    _str("preprocessing.fit", pre.get("fit"), choices=("bbox", "frame"), allow_none=True)
    if pre.get("box") is not None:
        limit = min(shape[:2]) if shape is not None else MAX_IMAGE_SIDE
        _int("preprocessing.box", pre["box"], 0, limit)
    known = {"dataset", "n_features", "image_shape", "scale", "light_on_dark", "fit", "box"}
    for key, value in pre.items():
        if key not in known:
            check_json(f"preprocessing.{key}", value, 1)


# --- estimator ------------------------------------------------------------------------------------------------


def _numbers(where, v, allow_none=False):
    if v is None and allow_none:
        return
    for k, x in enumerate(_list(where, v)):
        _number(f"{where}[{k}]", x)


# the fitted attributes an estimator file may restore, and what each must be (anything else is refused)
FITTED_JSON: dict[str, Any] = {
    "n_features_in_": lambda w, v: _int(w, v, 1, MAX_FEATURES),
    "n_iter_": lambda w, v: _int(w, v, 0, 2**62),
    "t_": lambda w, v: _int(w, v, 0, 2**62),
    "n_outputs_": lambda w, v: _int(w, v, 1, MAX_FEATURES),
    "n_layers_": lambda w, v: _int(w, v, 2, MAX_LAYERS),
    "out_activation_": lambda w, v: _str(w, v, 50),
    "target_type_": lambda w, v: _str(w, v, 50),
    "loss_": lambda w, v: _number(w, v, allow_none=True),
    "best_loss_": lambda w, v: _number(w, v, allow_none=True),
    "best_validation_score_": lambda w, v: _number(w, v, allow_none=True),
    "loss_curve_": lambda w, v: _numbers(w, v),
    "validation_scores_": lambda w, v: _numbers(w, v, allow_none=True),
    "validation_loss_curve_": lambda w, v: _numbers(w, v, allow_none=True),
}
# array-valued fitted attributes: name -> allowed dtype kinds (1-D); strings of an object array are
# stored as "<name>object_str" (kind U) and restored as dtype object
FITTED_ARRAYS: dict[str, str] = {"classes_": "biufU", "feature_names_in_": "U"}


def fitted_array_name(member: str) -> str:
    """``classes_object_str`` -> ``classes_``; ``classes_`` -> ``classes_``."""
    return member[: -len("object_str")] if member.endswith("_object_str") else member


def _random_state(where: str, v) -> None:
    v = _dict(where, v)
    kind = _str(f"{where}.kind", v.get("kind"), choices=("RandomState", "Generator"))
    if kind == "RandomState":
        keys = _list(f"{where}.keys", v.get("keys"), 624)
        if len(keys) != 624 or not all(_is_int(k) and 0 <= k < 2**32 for k in keys):
            raise _fail(f"{where}.keys", "624 integers in [0, 2**32)", "...")
        _int(f"{where}.pos", v.get("pos"), 0, 624)
        _int(f"{where}.has_gauss", v.get("has_gauss"), 0, 1)
        _number(f"{where}.cached_gaussian", v.get("cached_gaussian"))
    else:
        state = _dict(f"{where}.state", v.get("state"))
        _str(f"{where}.state.bit_generator", state.get("bit_generator"), choices=("PCG64",))
        inner = _dict(f"{where}.state.state", state.get("state"))
        for key in ("state", "inc"):
            _int(f"{where}.state.state.{key}", inner.get(key), 0, 2**128 - 1)
        _int(f"{where}.state.has_uint32", state.get("has_uint32"), 0, 1)
        _int(f"{where}.state.uinteger", state.get("uinteger"), 0, 2**32 - 1)


_ESTIMATOR_FIELDS = {"class", "params", "fitted", "tuples", "pairs", "skipped_params", "skipped_attributes",
                     "random_state"}  # fmt: skip


def _estimator(spec) -> None:
    """Check an estimator's stored parameters and fitted attributes (the parameters' names are the estimator
    class's business: :func:`glassnet.estimators.persistence.load_estimator` checks them)."""
    spec = _dict("estimator", spec)
    _str("estimator.class", spec.get("class"), choices=ESTIMATORS)
    params = _dict("estimator.params", spec.get("params", {}))
    for key, value in params.items():
        check_json(f"estimator.params.{key}", value, 1)
    fitted = _dict("estimator.fitted", spec.get("fitted", {}))
    for key, value in fitted.items():
        if key not in FITTED_JSON:
            raise SchemaError(
                f"estimator.fitted may only restore the declared fitted attributes {sorted(FITTED_JSON)}, "
                f"not {key!r}"
            )
        FITTED_JSON[key](f"estimator.fitted.{key}", value)
    _estimator_name_lists(spec, params, fitted)
    if spec.get("random_state") is not None:
        _random_state("estimator.random_state", spec["random_state"])
    unknown = sorted(set(spec) - _ESTIMATOR_FIELDS)
    if unknown:
        raise SchemaError(f"estimator has unknown fields {unknown}")


def _estimator_name_lists(spec: dict, params: dict, fitted: dict) -> None:
    """The lists of names that say how JSON values come back: ``tuples`` (a list read back as a tuple) and
    ``pairs`` (a list of ``[key, value]`` read back as a dict with keys of any JSON type)."""
    for field in ("tuples", "pairs", "skipped_params", "skipped_attributes"):
        names = _list(f"estimator.{field}", spec.get(field, []), 1000)
        for k, name in enumerate(names):
            _str(f"estimator.{field}[{k}]", name, 200)
    for name in spec.get("tuples", []):
        if name not in params and name not in fitted:
            raise SchemaError(f"estimator.tuples names {name!r}, which is not a stored parameter")
        if not isinstance(params.get(name, fitted.get(name)), list):
            raise SchemaError(f"estimator.tuples names {name!r}, whose value is not a list")
    for name in spec.get("pairs", []):
        where = f"estimator.params.{name}"
        for k, pair in enumerate(_list(where, params.get(name), 100_000)):
            if not isinstance(pair, list) or len(pair) != 2:
                raise _fail(f"{where}[{k}]", "a [key, value] pair", pair)
            _scalar(f"{where}[{k}][0]", pair[0])
            check_json(f"{where}[{k}][1]", pair[1], 3)


# --- the whole file -------------------------------------------------------------------------------------------


def _classes(meta: dict, width: int | None) -> None:
    """``classes`` (scalars, no more than the network's outputs) and ``class_names`` (one string each)."""
    classes = _list("classes", meta.get("classes", []), 1_000_000)
    for k, c in enumerate(classes):
        _scalar(f"classes[{k}]", c)
    if classes and width is not None and len(classes) > max(width, 2):
        raise SchemaError(f"classes lists {len(classes)} classes but the network has {width} outputs")
    names = meta.get("class_names")
    if names is not None:
        names = _list("class_names", names, 1_000_000)
        for k, n in enumerate(names):
            _str(f"class_names[{k}]", n, 1000)
        if len(names) != len(classes):
            raise SchemaError(f"class_names has {len(names)} names for {len(classes)} classes")


def _checksums(meta: dict) -> dict:
    """The ``checksums`` object: member name -> SHA-256 in hexadecimal."""
    checksums = _dict("checksums", meta.get("checksums", {}))
    for name, digest in checksums.items():
        if not isinstance(digest, str) or not _HEX64.match(digest):
            raise _fail(f"checksums.{name}", "a SHA-256 in hexadecimal", digest)
    return checksums


def _estimator_arrays(meta: dict, checksums: dict) -> dict[str, tuple]:
    """Check the ``estimator`` field; return its array-valued fitted attributes as ``(None, kinds)``."""
    spec = _dict("estimator", meta.get("estimator"))
    _estimator(spec)
    arrays = {}
    for member in checksums:
        if member.startswith("estimator/"):
            attr = fitted_array_name(member[len("estimator/") :])
            if attr not in FITTED_ARRAYS:
                raise SchemaError(
                    f"array {member!r} is not a declared fitted attribute ({sorted(FITTED_ARRAYS)})"
                )
            arrays[member] = (None, "U" if member.endswith("_object_str") else FITTED_ARRAYS[attr])
    return arrays


def _unknown_fields(meta: dict) -> None:
    """Fields this glassnet does not use are ignored, but must be bounded JSON."""
    known = {"format", "format_version", "kind", "glassnet_version", "architecture", "preprocessing",
             "classes", "class_names", "info", "checksums", "estimator"}  # fmt: skip
    for key, value in meta.items():
        if key not in known:
            check_json(key, value, 0)


def validate_metadata(meta, format_name: str, max_version: int) -> dict[str, tuple]:
    """Check every field of a model file's metadata; return the arrays the file must hold.

    Returns
    -------
    dict
        Array name -> ``(shape, dtype)`` for the network's parameters, and ``(None, kinds)`` for an
        estimator's array-valued fitted attributes (``estimator/classes_``), whose length is free.

    Raises
    ------
    SchemaError
        Naming the first field that is wrong and what it must be.
    """
    meta = _dict("the metadata", meta)
    if meta.get("format") != format_name:
        raise SchemaError(
            f"not a glassnet model file (format {meta.get('format')!r}, expected {format_name!r})"
        )
    _int("format_version", meta.get("format_version"), 1, 2**31)
    kind = _str("kind", meta.get("kind", "network"), choices=("network", "estimator"))
    _str("glassnet_version", meta.get("glassnet_version", ""), 100)
    expected, width = architecture_arrays(meta.get("architecture"))
    first = next((shape for name, (shape, _) in expected.items() if name.endswith(".W")), None)
    _preprocessing(meta.get("preprocessing", {}), first[1] if first else None)
    _classes(meta, width)
    check_json("info", _dict("info", meta.get("info", {})), 0)
    checksums = _checksums(meta)
    if kind == "estimator":
        expected.update(_estimator_arrays(meta, checksums))
    elif "estimator" in meta:
        raise SchemaError("a plain network file has an estimator field")
    _unknown_fields(meta)
    return expected


# --- checkpoints ----------------------------------------------------------------------------------------------

BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
CHECKPOINT_FIELDS = ("format", "format_version", "glassnet_version", "epoch", "architecture", "trainer",
                     "optimizer", "schedule", "generators", "generator_refs", "history", "callbacks",
                     "estimator", "arrays", "sha256")  # fmt: skip
MAX_SEED_WORDS = 64  # entropy and spawn keys of a SeedSequence (mixing costs pool size x words)
MAX_POOL_SIZE = 64  # NumPy's default is 4; 10**7 would take days to mix
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
_ARRAY_DTYPES = {"<f4", "<f8", "|u1"}


def _exact_keys(where: str, v, keys) -> dict:
    v = _dict(where, v)
    missing, unknown = sorted(set(keys) - set(v)), sorted(set(v) - set(keys))
    if missing or unknown:
        raise SchemaError(
            f"{where} must have exactly the fields {sorted(keys)} (missing {missing}, unknown {unknown[:5]})"
        )
    return v


def _attributes(where: str, v) -> dict:
    """An optimizer's or schedule's plain attributes: identifiers (no dunders) to JSON scalars."""
    v = _dict(where, v)
    if len(v) > 100:
        raise _fail(where, "at most 100 attributes", f"{len(v)} attributes")
    for key, value in v.items():
        if not _IDENTIFIER.match(key) or key.startswith("__"):
            raise _fail(f"{where}.{key[:40]}", "named as a plain attribute (no dunders)", key)
        if not (value is None or isinstance(value, (bool, int, float, str))):
            raise _fail(f"{where}.{key}", "a JSON scalar", value)
        if isinstance(value, str) and len(value) > 1000:
            raise _fail(f"{where}.{key}", "a string of at most 1000 characters", value)
    return v


def _seed_sequence(where: str, v) -> None:
    """What :class:`numpy.random.SeedSequence` is rebuilt from, bounded before NumPy mixes it."""
    v = _exact_keys(where, v, ("entropy", "spawn_key", "pool_size", "n_children_spawned"))
    entropy = v["entropy"]
    if isinstance(entropy, list):
        if not 1 <= len(entropy) <= MAX_SEED_WORDS:
            raise _fail(f"{where}.entropy", f"a list of 1 to {MAX_SEED_WORDS} integers", entropy)
        for k, word in enumerate(entropy):
            _int(f"{where}.entropy[{k}]", word, 0, 2**64 - 1)
    elif entropy is not None:
        _int(f"{where}.entropy", entropy, 0, 2 ** (32 * MAX_SEED_WORDS) - 1)
    for k, word in enumerate(_list(f"{where}.spawn_key", v["spawn_key"], MAX_SEED_WORDS)):
        _int(f"{where}.spawn_key[{k}]", word, 0, 2**64 - 1)
    _int(f"{where}.pool_size", v["pool_size"], 4, MAX_POOL_SIZE)
    _int(f"{where}.n_children_spawned", v["n_children_spawned"], 0, 2**32)


def _generator(where: str, v) -> None:
    """A generator's spec; its ``state`` is checked against a fresh bit generator's when it is rebuilt."""
    v = _exact_keys(where, v, ("bit_generator", "state", "seed_seq"))
    _str(f"{where}.bit_generator", v["bit_generator"], choices=BIT_GENERATORS)
    check_json(f"{where}.state", _dict(f"{where}.state", v["state"]), MAX_DEPTH - 4)
    if v["seed_seq"] is not None:
        _seed_sequence(f"{where}.seed_seq", v["seed_seq"])


def _generator_refs(v, n_generators: int, n_layers: int) -> None:
    v = _exact_keys("generator_refs", v, ("trainer", "layers"))
    if v["trainer"] is not None:
        _int("generator_refs.trainer", v["trainer"], 0, n_generators - 1)
    for key, ref in _dict("generator_refs.layers", v["layers"]).items():
        if not key.isdigit() or not int(key) < n_layers:
            raise _fail("generator_refs.layers key", f"a layer index below {n_layers}", key)
        if ref is not None:
            _int(f"generator_refs.layers.{key}", ref, 0, n_generators - 1)


def _history(v) -> None:
    v = _exact_keys("history", v, ("records", "best_epoch", "stopped_early", "interrupted"))
    for key, values in _dict("history.records", v["records"]).items():
        _str("history.records key", key, 200)
        for k, x in enumerate(_list(f"history.records.{key}", values)):
            if x is not None and not _is_number(x):
                raise _fail(f"history.records.{key}[{k}]", "a number or null", x)
    if v["best_epoch"] is not None:
        _int("history.best_epoch", v["best_epoch"], 0, 2**62)
    for key in ("stopped_early", "interrupted"):
        if not isinstance(v[key], bool):
            raise _fail(f"history.{key}", "true or false", v[key])


def _trainer_settings(v) -> None:
    v = _dict("trainer", v)
    unknown = sorted(set(v) - {"batch_size", "shuffle", "alpha", "n_jobs"})
    if unknown:
        raise SchemaError(f"trainer has unknown fields {unknown[:5]}")
    if v.get("batch_size") is not None:
        _int("trainer.batch_size", v["batch_size"], 1, 2**62)
    if "shuffle" in v and not isinstance(v["shuffle"], bool):
        raise _fail("trainer.shuffle", "true or false", v["shuffle"])
    if "alpha" in v:
        _number("trainer.alpha", v["alpha"], 0.0)
    if v.get("n_jobs") is not None:
        _int("trainer.n_jobs", v["n_jobs"], -(2**31), 2**31)


def _checkpoint_arrays(meta: dict, net_arrays: dict) -> dict[str, tuple]:
    """Every declared array, checked against what the architecture, optimizer and estimator need."""
    declared = _dict("arrays", meta["arrays"])
    n_values = sum(int(np.prod(shape)) for shape, _ in net_arrays.values())
    state = _list("optimizer.state", meta["optimizer"]["state"], 16)
    out = {}
    for name, spec in declared.items():
        where = f"arrays.{name}"
        spec = _exact_keys(where, spec, ("shape", "dtype", "sha256"))
        shape = tuple(
            _int(f"{where}.shape[{k}]", n, 0, 2**62)
            for k, n in enumerate(_list(f"{where}.shape", spec["shape"], 32))
        )
        dtype = _str(f"{where}.dtype", spec["dtype"], choices=_ARRAY_DTYPES)
        if not isinstance(spec["sha256"], str) or not _HEX64.match(spec["sha256"]):
            raise _fail(f"{where}.sha256", "a SHA-256 in hexadecimal", spec["sha256"])
        if name.startswith("net/") and name[4:] in net_arrays:
            want_shape, want_dtype = net_arrays[name[4:]]
            ok = shape == want_shape and np.dtype(dtype) == want_dtype
        elif name.startswith("optimizer/") and name[10:] in state:
            ok = len(shape) == 1 and shape[0] <= n_values and dtype != "|u1"
        elif name == "estimator/model":
            ok = meta["estimator"] is not None and len(shape) == 1 and dtype == "|u1"
        elif name == "estimator/_best_params":
            ok = meta["estimator"] is not None and len(shape) == 1 and shape[0] <= n_values and dtype != "|u1"
        else:
            raise SchemaError(f"arrays names {name[:80]!r}, which a checkpoint does not hold")
        if not ok:
            raise SchemaError(f"{where} declares shape {shape} and dtype {dtype}, which {name!r} cannot have")
        out[name] = (shape, np.dtype(dtype), spec["sha256"])
    needed = {f"net/{name}" for name in net_arrays} | {f"optimizer/{name}" for name in state}
    if meta["estimator"] is not None:
        needed.add("estimator/model")
    if needed - set(out):
        raise SchemaError(f"arrays lacks {sorted(needed - set(out))[:5]}")
    return out


def validate_checkpoint(meta, format_name: str, max_version: int) -> dict[str, tuple]:
    """Check every field of a checkpoint's metadata; return its arrays: name -> ``(shape, dtype, sha256)``.

    The fields are exactly :data:`CHECKPOINT_FIELDS`; the architecture as in a model file; the optimizer's
    and schedule's attributes only plain JSON scalars under attribute names (which of them an object may
    take is checked where it is restored); generators of the known bit generators with bounded seed
    sequences; every array one the architecture, the optimizer's state or the estimator needs.
    """
    meta = _dict("the metadata", meta)
    if meta.get("format") != format_name:
        raise SchemaError(
            f"not a glassnet checkpoint (format {meta.get('format')!r}, expected {format_name!r})"
        )
    meta = _exact_keys("the metadata", meta, CHECKPOINT_FIELDS)
    _int("format_version", meta["format_version"], 1, max_version)
    _str("glassnet_version", meta["glassnet_version"], 100)
    _int("epoch", meta["epoch"], 0, 2**62)
    net_arrays, _ = architecture_arrays(meta["architecture"])
    _trainer_settings(meta["trainer"])
    for part in ("optimizer", "schedule"):
        keys = ("class", "attributes", "state") if part == "optimizer" else ("class", "attributes")
        spec = _exact_keys(part, meta[part], keys)
        _str(f"{part}.class", spec["class"], 100)
        _attributes(f"{part}.attributes", spec["attributes"])
    for k, name in enumerate(_list("optimizer.state", meta["optimizer"]["state"], 16)):
        if not isinstance(name, str) or not _IDENTIFIER.match(name):
            raise _fail(f"optimizer.state[{k}]", "an attribute name", name)
    generators = _list("generators", meta["generators"], 10_000)
    for k, spec in enumerate(generators):
        _generator(f"generators[{k}]", spec)
    _generator_refs(meta["generator_refs"], len(generators), len(meta["architecture"]["layers"]))
    _history(meta["history"])
    for k, entry in enumerate(_list("callbacks", meta["callbacks"], 1000)):
        entry = _exact_keys(f"callbacks[{k}]", entry, ("class", "state"))
        _str(f"callbacks[{k}].class", entry["class"], 100)
        check_json(f"callbacks[{k}].state", entry["state"], 1)
    if meta["estimator"] is not None:
        spec = _exact_keys("estimator", meta["estimator"], ("class", "state"))
        _str("estimator.class", spec["class"], choices=ESTIMATORS)
        for key, value in _dict("estimator.state", spec["state"]).items():
            check_json(f"estimator.state.{key}", value, 1)
    if not isinstance(meta["sha256"], str) or not _HEX64.match(meta["sha256"]):
        raise _fail("sha256", "a SHA-256 in hexadecimal", meta["sha256"])
    return _checkpoint_arrays(meta, net_arrays)
