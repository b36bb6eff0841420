r"""Training checkpoints: everything a run needs to continue exactly, in one pickle-free file.

A checkpoint is a NumPy ``.npz`` (a zip of ``.npy`` arrays, like a model file) holding:

==================  ==========================================================================================
``net/...``         every parameter and buffer of the network (``state_dict``), in its own dtype
``optimizer/...``   every state array the optimizer declares (``Optimizer.state_names``: momentum, moments)
metadata (JSON)     the architecture; the optimizer's class, step count ``t``, rate and hyper-parameters; the
                    schedule's class and attributes (its position); the state of every random generator (the
                    Trainer's ``rng`` and each layer's that ``needs_rng``, with the ``SeedSequence`` that the
                    data-parallel workers' streams are spawned from); the History's records; the number of
                    completed epochs; the Trainer's settings; the state of callbacks that declare one
                    (``state_dict``/``load_state_dict``); for an estimator's fit, the estimator itself
==================  ==========================================================================================

The file is the same container as a model file's (:mod:`glassnet.files.container`, with its limits): every
array and the metadata carry a SHA-256 that is checked on load; the metadata is validated field by field
(:func:`glassnet.files.schema.validate_checkpoint`) before anything is restored, and restoring sets only
plain attributes that the optimizer or schedule already has, of the same type, only the state arrays it
declares and only bit generators rebuilt from a fresh one's state layout; the zip holds exactly the
declared arrays, each ``.npy`` header checked before its data is read, and no array may hold objects.
Files are written with :func:`glassnet._files.write_atomic` (temporary file, ``fsync``, rename): a crash or
``SIGKILL`` leaves the previous checkpoint or the new one, never half of one.

Resuming::

    trainer = Trainer(net, Adam(), batch_size=32, seed=0, callbacks=[ModelCheckpoint("ckpt")])
    trainer.fit(X, y, epochs=4)
    # ... later, in another process, with the same construction:
    trainer = Trainer(net, Adam(), batch_size=32, seed=0, callbacks=[ModelCheckpoint("ckpt")])
    glassnet.files.checkpoint.resume(trainer, "ckpt")      # the latest checkpoint in the folder
    trainer.fit(X, y, epochs=6)                      # the same weights as 10 epochs in one go

What is exact, and what is not:

- **One process**: ``fit(4)``, checkpoint, ``resume`` and ``fit(6)`` gives bit-identical weights to
  ``fit(10)``, with shuffling, dropout, augmentation and every schedule, as long as nothing else draws from
  the generators: ``validation_fraction`` draws a new split at the start of each ``fit``, so :func:`resume`
  refuses it (``strict=False``: a warning); split once and pass ``validation_data``.
- **Data parallelism** (``n_jobs > 1``): the same holds, with dropout and augmentation too: each process
  draws its masks from a stream that depends only on the Trainer's generator, the process and the epoch
  (:func:`glassnet.training.parallel._epoch_stream`), so a run resumed at an epoch draws what an uninterrupted one
  would.
- **Estimators**: :func:`glassnet.estimators.persistence.resume_estimator` (see there; also
  ``glassnet.files.checkpoint.resume_estimator``).

Refused with :class:`CheckpointError` (a ``ValueError``): a checkpoint of another architecture or dtype, of a
newer format, for another optimizer or schedule class, a corrupt or truncated file; and, unless
``strict=False``, a Trainer whose settings (batch size, shuffling, ``alpha``, ``n_jobs``) differ from the
checkpoint's, since the continuation would then not be the same run.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from glassnet._files import check_writable
from glassnet._version import __version__
from glassnet.files import container, schema
from glassnet.files.container import MAX_METADATA_BYTES, ContainerError
from glassnet.training.callbacks import Callback, History, _check_positive_int, _monitored, _sign

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_METADATA_BYTES",
    "Checkpoint",
    "CheckpointError",
    "checkpoint_name",
    "latest_checkpoint",
    "list_checkpoints",
    "load_checkpoint",
    "resume",
    "ModelCheckpoint",
    "save_checkpoint",
]

FORMAT = "glassnet-checkpoint"
FORMAT_VERSION = 1
MAX_BYTES = 1 << 32  # default bound on the arrays of one checkpoint (4 GiB)
_META_KEY = "__glassnet_checkpoint__"
_NAME_RE = re.compile(r"^checkpoint-(\d{4,})\.npz$")
_BIT_GENERATORS = schema.BIT_GENERATORS
_SETTINGS = ("batch_size", "shuffle", "alpha", "n_jobs")


class CheckpointError(ContainerError):
    """A checkpoint is corrupt, truncated, of a newer format, or does not fit the run it is resumed into."""


LAYOUT = container.Layout(
    format=FORMAT,
    version=FORMAT_VERSION,
    meta_key=_META_KEY,
    what="glassnet checkpoint",
    error=CheckpointError,
    digest_at=("sha256",),
    hint="expected a checkpoint written by glassnet.files.checkpoint.ModelCheckpoint or save_checkpoint",
    others={"__glassnet__": " (it is a model file: load it with glassnet.files.model.load_model)"},
)


@dataclass
class Checkpoint:
    """A checkpoint read by :func:`load_checkpoint`: its ``metadata`` (JSON) and ``arrays`` (by name)."""

    path: Path
    metadata: dict
    arrays: dict = field(repr=False, default_factory=dict)

    @property
    def epoch(self) -> int:
        """Completed epochs when the checkpoint was written."""
        return int(self.metadata["epoch"])

    @property
    def architecture(self) -> dict:
        return self.metadata["architecture"]

    @property
    def history(self):
        """The :class:`~glassnet.training.callbacks.History` of the run up to this checkpoint."""
        return _history_from(self.metadata["history"])

    @property
    def is_estimator(self) -> bool:
        """Whether it was written during an estimator's ``fit`` (then :func:`glassnet.estimators.persistence.resume_estimator` takes it)."""
        return self.metadata.get("estimator") is not None


def checkpoint_name(epoch: int) -> str:
    """The file name :class:`ModelCheckpoint` gives the checkpoint after ``epoch`` epochs."""
    return f"checkpoint-{int(epoch):04d}.npz"


def list_checkpoints(folder: str | os.PathLike) -> list[Path]:
    """The periodic checkpoints in ``folder`` (``checkpoint-NNNN.npz``), oldest first; temporaries and other
    files are ignored."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _NAME_RE.match(p.name)) and p.is_file()]
    return [p for _, p in sorted(found)]


def latest_checkpoint(folder: str | os.PathLike) -> Path | None:
    """The checkpoint with the most epochs in ``folder`` (``None`` if there is none)."""
    found = list_checkpoints(folder)
    return found[-1] if found else None


# --- writing -----------------------------------------------------------------------------------------------


def jsonable(value):
    """``value`` as plain JSON types (NumPy scalars and tuples converted), or raise TypeError."""
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    raise TypeError(f"a {type(value).__name__} is not a JSON value")


def _scalar_attributes(obj) -> dict:
    """The JSON-able non-array attributes of ``obj`` (public and private), for restoring with setattr."""
    out = {}
    for key, value in vars(obj).items():
        if isinstance(value, np.ndarray):
            continue
        try:
            out[key] = jsonable(value)
        except TypeError:
            continue  # a function, a compiled kernel, a generator...: not state
    return out


def _generator_spec(gen: np.random.Generator) -> dict:
    bitgen = gen.bit_generator
    name = type(bitgen).__name__
    if name not in _BIT_GENERATORS:
        raise TypeError(
            f"cannot checkpoint a Generator on a {name} bit generator; use one of {_BIT_GENERATORS}"
        )
    state = bitgen.state
    spec = {"bit_generator": name, "state": _encode_state(state), "seed_seq": None}
    seq = getattr(bitgen, "seed_seq", None)
    if isinstance(seq, np.random.SeedSequence):
        entropy = seq.entropy
        spec["seed_seq"] = {
            "entropy": None if entropy is None else jsonable(entropy),
            "spawn_key": [int(k) for k in seq.spawn_key],
            "pool_size": int(seq.pool_size),
            "n_children_spawned": int(seq.n_children_spawned),
        }
    return spec


def _encode_state(value):
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, dict):
        return {k: _encode_state(v) for k, v in value.items()}
    return jsonable(value)


def _decode_like(template, value, where: str):
    """``value`` (a stored state) decoded with exactly the structure of ``template`` (a fresh bit generator's
    state): the same keys, integers where it has integers, arrays of its dtype and length; else an error."""
    if isinstance(template, dict):
        if not isinstance(value, dict) or set(value) != set(template):
            raise CheckpointError(f"{where} must have the fields {sorted(template)}")
        return {k: _decode_like(template[k], value[k], f"{where}.{k}") for k in template}
    if isinstance(template, np.ndarray):
        ok = (
            isinstance(value, dict)
            and set(value) == {"__ndarray__", "dtype"}
            and value["dtype"] == template.dtype.str
        )
        items = value.get("__ndarray__") if ok else None
        if not isinstance(items, list) or len(items) != template.size:
            raise CheckpointError(f"{where} must be an array of {template.size} {template.dtype} values")
        if not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= np.iinfo(template.dtype).max
            for v in items
        ):
            raise CheckpointError(f"{where} must hold integers in the range of {template.dtype}")
        return np.array(items, dtype=template.dtype).reshape(template.shape)
    if isinstance(template, str):
        if value != template:
            raise CheckpointError(f"{where} must be {template!r}")
        return value
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**128:
        raise CheckpointError(f"{where} must be an integer in [0, 2**128)")
    return value


def _generator_from(spec: dict, where: str = "a generator") -> np.random.Generator:
    """A Generator in the saved state (``spec`` validated by :func:`glassnet.files.schema.validate_checkpoint`:
    a known bit generator, a bounded seed sequence); the state must fit a fresh bit generator's layout."""
    name = spec["bit_generator"]
    if name not in _BIT_GENERATORS:
        raise CheckpointError(
            f"unknown bit generator {name!r} in the checkpoint; expected one of {_BIT_GENERATORS}"
        )
    cls = getattr(np.random, name)
    seq = spec.get("seed_seq")
    bitgen = cls()
    if seq is not None:
        entropy = seq["entropy"]
        seed = np.random.SeedSequence(
            tuple(entropy) if isinstance(entropy, list) else entropy,
            spawn_key=tuple(seq["spawn_key"]),
            pool_size=seq["pool_size"],
            n_children_spawned=seq["n_children_spawned"],
        )
        bitgen = cls(seed)
    state = _decode_like(bitgen.state, spec["state"], f"{where}.state")
    try:
        bitgen.state = state
    except (ValueError, TypeError, OverflowError) as exc:
        raise CheckpointError(f"{where} has an invalid state: {exc}") from None
    return np.random.Generator(bitgen)


def _generators(trainer) -> tuple[list[np.random.Generator], dict]:
    """The distinct generators of the run and which object uses which (shared ones stay shared)."""
    gens: list[np.random.Generator] = []
    index: dict[int, int] = {}

    def ref(gen):
        if not isinstance(gen, np.random.Generator):
            return None
        if id(gen) not in index:
            index[id(gen)] = len(gens)
            gens.append(gen)
        return index[id(gen)]

    refs = {"trainer": ref(trainer.rng), "layers": {}}
    for i, layer in enumerate(trainer.net.layers):
        if getattr(layer, "needs_rng", False):
            refs["layers"][str(i)] = ref(getattr(layer, "rng", None))
    return gens, refs


def _state(trainer, epoch: int) -> tuple[dict, dict[str, np.ndarray]]:
    """The metadata and arrays of a checkpoint of ``trainer`` after ``epoch`` completed epochs."""
    net, opt, schedule = trainer.net, trainer.optimizer, trainer.schedule
    arrays = {f"net/{name}": value for name, value in net.state_dict().items()}
    state_names = getattr(opt, "state_names", None)
    if state_names is None:
        state_names = tuple(k for k, v in vars(opt).items() if isinstance(v, np.ndarray) and k != "_tmp")
    saved_state = []
    for name in state_names:
        value = opt.__dict__.get(name)
        if value is not None:
            arrays[f"optimizer/{name}"] = np.array(value)
            saved_state.append(name)
    gens, refs = _generators(trainer)
    history = trainer.history
    callbacks = []
    for cb in trainer.callbacks:
        if callable(getattr(cb, "state_dict", None)):
            callbacks.append({"class": type(cb).__name__, "state": jsonable(cb.state_dict())})
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "glassnet_version": __version__,
        "epoch": int(epoch),
        "architecture": jsonable(net.get_config()),
        "trainer": {k: jsonable(getattr(trainer, k)) for k in _SETTINGS},
        "optimizer": {
            "class": type(opt).__name__,
            "attributes": _scalar_attributes(opt),
            "state": saved_state,
        },
        "schedule": {"class": type(schedule).__name__, "attributes": _scalar_attributes(schedule)},
        "generators": [_generator_spec(g) for g in gens],
        "generator_refs": refs,
        "history": {
            "records": {k: [jsonable(v) for v in vals] for k, vals in history.records.items()},
            "best_epoch": history.best_epoch,
            "stopped_early": bool(history.stopped_early),
            "interrupted": bool(history.interrupted),
        },
        "callbacks": callbacks,
        "estimator": None,
    }
    if trainer.owner is not None:  # an estimator's fit: it says what restores it (TrainingOwner)
        metadata["estimator"], owner_arrays = trainer.owner.checkpoint_state()
        arrays.update(owner_arrays)
    return metadata, arrays


def save_checkpoint(path: str | os.PathLike, trainer, *, epoch: int | None = None) -> Path:
    """Write a checkpoint of ``trainer`` (a :class:`~glassnet.training.Trainer`) to ``path``, atomically.

    Parameters
    ----------
    path : str or path-like
        The file to write (conventionally ``.npz``); missing folders are created. A crash or a kill while
        writing leaves the previous file (or none), never a partial one.
    trainer : Trainer
        Its network, optimizer, schedule, generators, history and callbacks (those with ``state_dict``) are
        saved; when an estimator's ``fit`` drives it, the estimator too.
    epoch : int, optional
        Completed epochs (default ``trainer.epoch``).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    metadata, arrays = _state(trainer, trainer.epoch if epoch is None else epoch)
    arrays = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
    metadata["arrays"] = {
        name: {"shape": list(a.shape), "dtype": a.dtype.str, "sha256": container.sha256(a)}
        for name, a in arrays.items()
    }
    return container.write_container(path, LAYOUT, arrays, metadata)


# --- reading -----------------------------------------------------------------------------------------------


def _checkpoint_file(path: Path) -> Path:
    """The checkpoint file ``path`` names: itself, or a folder's latest checkpoint; it must exist."""
    if path.is_dir():
        found = latest_checkpoint(path)
        if found is None:
            raise FileNotFoundError(f"no checkpoint (checkpoint-NNNN.npz) in the folder {path}")
        path = found
    if not path.exists():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    return path


def _declare(metadata: dict, version: int) -> dict[str, container.Declared]:
    """The arrays a checkpoint must hold, once every field of its metadata is valid."""
    arrays = schema.validate_checkpoint(metadata, FORMAT, FORMAT_VERSION)
    return {name: container.Declared(shape, dtype, digest) for name, (shape, dtype, digest) in arrays.items()}


def load_checkpoint(path: str | os.PathLike, *, max_bytes: int = MAX_BYTES) -> Checkpoint:
    """Read and verify a checkpoint written by :func:`save_checkpoint` (a folder: its latest checkpoint).

    Raises
    ------
    FileNotFoundError
        If there is no such file (or no checkpoint in the folder).
    CheckpointError
        If the file is not a glassnet checkpoint, is truncated or corrupt (a checksum differs), has a
        metadata field of the wrong type or out of bounds, or was written in a newer format.
    """
    path = _checkpoint_file(Path(path))
    with container.open_container(path, LAYOUT, _declare, max_bytes=max_bytes) as box:
        return Checkpoint(path, box.metadata, {name: box.read(name) for name in box.names})


# --- resuming ----------------------------------------------------------------------------------------------


def _history_from(spec: dict) -> History:
    history = History()
    history.records = {k: list(v) for k, v in spec["records"].items()}
    history.best_epoch = spec.get("best_epoch")
    history.stopped_early = bool(spec.get("stopped_early", False))
    history.interrupted = bool(spec.get("interrupted", False))
    return history


def check_network(ckpt: Checkpoint, net) -> None:
    mine = jsonable(net.get_config())
    if ckpt.architecture != mine:
        theirs = ckpt.architecture
        diff = [k for k in sorted(set(mine) | set(theirs)) if mine.get(k) != theirs.get(k)]
        detail = ""
        if "layers" in diff:
            a = [la.get("type") for la in theirs.get("layers", [])]
            b = [la.get("type") for la in mine.get("layers", [])]
            detail = (
                f"; checkpoint layers {a} vs this network's {b}" if a != b else "; the layers' sizes differ"
            )
        raise CheckpointError(
            f"{ckpt.path} was written for another architecture (differs in {diff}{detail}); resume it into "
            "a network built as the checkpointed one was (same layers, sizes, loss and dtype)"
        )


def _check_classes(ckpt: Checkpoint, opt, schedule) -> None:
    """The optimizer and schedule must be of the checkpoint's classes: their state means nothing to others."""
    for what, obj in (("optimizer", opt), ("learning-rate schedule", schedule)):
        saved = ckpt.metadata["optimizer" if what == "optimizer" else "schedule"]["class"]
        if type(obj).__name__ != saved:
            raise CheckpointError(
                f"{ckpt.path} holds the state of a {saved} {what}, but this run uses {type(obj).__name__}; "
                f"resume with the {what} the checkpoint was written with"
            )


_MISSING = object()
_PLAIN = (bool, int, float, str, type(None))


def _same_kind(current, value) -> bool:
    """Whether a stored JSON scalar may replace ``current``: bool for bool, number for number, str for str."""
    if current is None:
        return True
    if isinstance(current, bool) or isinstance(value, bool):
        return isinstance(current, bool) and isinstance(value, bool)
    if isinstance(current, (int, float)):
        return isinstance(value, (int, float))
    return isinstance(current, str) and isinstance(value, str)


def _restore_attributes(ckpt: Checkpoint, obj, part: str) -> None:
    """Set the saved plain attributes of the optimizer or schedule ``obj``: only those it already has as
    plain values (not methods or properties), each to a value of the same kind; nothing else."""
    for key, value in ckpt.metadata[part]["attributes"].items():
        on_class = getattr(type(obj), key, _MISSING)
        current = obj.__dict__.get(key, on_class)
        if (
            (on_class is not _MISSING and not isinstance(on_class, _PLAIN))
            or current is _MISSING
            or not (isinstance(current, _PLAIN) and _same_kind(current, value))
        ):
            raise CheckpointError(
                f"{ckpt.path}: {part}.attributes.{key} = {str(value)[:40]} is not a setting of this "
                f"{type(obj).__name__} (a file may restore only its plain attributes, each with a value of "
                "the same type)"
            )
        setattr(obj, key, value)


@contextlib.contextmanager
def _restoring(obj):
    """Undo every attribute change of ``obj`` if the block fails (resume changes nothing then)."""
    saved = dict(vars(obj))
    try:
        yield
    except BaseException:
        vars(obj).clear()
        vars(obj).update(saved)
        raise


def restore_optimizer(ckpt: Checkpoint, opt, n_params: int, dtype) -> None:
    """Put ``opt`` in the saved state: its plain attributes (``lr``, ``t``, ...) and the state arrays it
    declares (``state_names``); on any error it is left as it was."""
    spec = ckpt.metadata["optimizer"]
    with _restoring(opt):
        _restore_attributes(ckpt, opt, "optimizer")
        declared = tuple(getattr(opt, "state_names", None) or ())
        for name in spec["state"]:
            if name not in declared:
                raise CheckpointError(
                    f"{ckpt.path}: optimizer.state names {name!r}, which {type(opt).__name__} does not declare "
                    f"as state ({list(declared)})"
                )
            if ckpt.arrays[f"optimizer/{name}"].shape != (n_params,):
                raise CheckpointError(
                    f"{ckpt.path}: optimizer state {name!r} has shape "
                    f"{ckpt.arrays[f'optimizer/{name}'].shape}, not ({n_params},)"
                )
        for name in declared:
            if name not in spec["state"]:
                opt.__dict__.pop(name, None)  # no state saved (no step yet): none now, not another run's
        for name in spec["state"]:
            setattr(opt, name, ckpt.arrays[f"optimizer/{name}"].astype(dtype, copy=True))


def restore_schedule(ckpt: Checkpoint, schedule) -> None:
    """Put ``schedule`` in the saved state (its plain attributes); on any error it is left as it was."""
    with _restoring(schedule):
        _restore_attributes(ckpt, schedule, "schedule")


def _rebuilt_generators(ckpt: Checkpoint, net) -> tuple[list[np.random.Generator], dict]:
    """The saved generators, rebuilt, and the layers (that declare ``needs_rng``) they go to."""
    specs = ckpt.metadata["generators"]
    gens = [_generator_from(spec, f"{ckpt.path}: generators[{k}]") for k, spec in enumerate(specs)]
    refs = ckpt.metadata["generator_refs"]
    layers = {}
    for i, k in refs["layers"].items():
        layer = net.layers[int(i)] if int(i) < len(net.layers) else None
        if not getattr(layer, "needs_rng", False):
            raise CheckpointError(
                f"{ckpt.path}: generator_refs.layers names layer {i}, which draws no random numbers"
            )
        if k is not None:
            layers[int(i)] = gens[k]
    return gens, layers


def restore_generators(ckpt: Checkpoint, net) -> np.random.Generator | None:
    """New generators with the saved states, given to the layers; returns the Trainer's (or None)."""
    gens, layers = _rebuilt_generators(ckpt, net)
    for i, gen in layers.items():
        net.layers[i].rng = gen
    k = ckpt.metadata["generator_refs"]["trainer"]
    return None if k is None else gens[k]


def _check_settings(ckpt: Checkpoint, trainer, strict: bool) -> None:
    saved = ckpt.metadata["trainer"]
    changed = {
        k: (saved[k], getattr(trainer, k))
        for k in _SETTINGS
        if k in saved and saved[k] != getattr(trainer, k)
    }
    if not changed:
        return
    text = ", ".join(f"{k}={new!r} (checkpoint: {old!r})" for k, (old, new) in changed.items())
    if strict:
        raise CheckpointError(
            f"This Trainer's settings differ from those {ckpt.path} was written with: {text}. The resumed run "
            "would not continue the saved one; construct the Trainer with the checkpoint's settings, or pass "
            "strict=False to go on with the new ones"
        )
    warnings.warn(f"Resuming with changed settings: {text}; the run will not be the saved one's continuation.",
                  UserWarning, stacklevel=3)  # fmt: skip


def _restore_callbacks(ckpt: Checkpoint, callbacks) -> None:
    """Give each callback that declares ``load_state_dict`` its saved state (matched by class, in order)."""
    saved: dict[str, list] = {}
    for entry in ckpt.metadata["callbacks"]:
        saved.setdefault(entry["class"], []).append(entry["state"])
    seen: dict[str, int] = {}
    for cb in callbacks:
        if not callable(getattr(cb, "load_state_dict", None)):
            continue
        name = type(cb).__name__
        k = seen.get(name, 0)
        seen[name] = k + 1
        if k < len(saved.get(name, [])):
            try:
                cb.load_state_dict(saved[name][k])
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                raise CheckpointError(
                    f"{ckpt.path}: the saved state of callback {name} is invalid: {exc!r}"
                ) from None


def resume(trainer, source: str | os.PathLike | Checkpoint, *, strict: bool = True) -> Checkpoint:
    """Put ``trainer`` in the state of a checkpoint, so that its next ``fit`` continues the saved run.

    Restores the network's parameters and buffers, the optimizer (state arrays, ``t``, rate and
    hyper-parameters), the schedule's attributes, every random generator (new Generator objects with the saved
    states, shared as they were), ``trainer.history``, ``trainer.epoch`` and the state of callbacks that
    declare ``load_state_dict`` (matched by class, in order).

    Parameters
    ----------
    trainer : Trainer
        Built as the checkpointed one was: the same network architecture, optimizer and schedule classes,
        batch size, shuffling, ``alpha`` and ``n_jobs``.
    source : path, folder or Checkpoint
        A checkpoint file, a folder (its latest ``checkpoint-NNNN.npz``) or a loaded :class:`Checkpoint`.
    strict : bool
        Refuse (default) a Trainer whose settings differ from the checkpoint's; ``False`` warns and keeps the
        Trainer's settings.

    Returns
    -------
    Checkpoint
        The checkpoint used (``.epoch`` completed epochs; train ``total - ckpt.epoch`` more).

    Raises
    ------
    CheckpointError
        If the checkpoint does not fit the Trainer (architecture, optimizer or schedule class, settings) or
        is corrupt or of a newer format. Nothing in the Trainer is changed then.
    """
    ckpt = source if isinstance(source, Checkpoint) else load_checkpoint(source)
    net = trainer.net
    check_network(ckpt, net)
    _check_classes(ckpt, trainer.optimizer, trainer.schedule)
    _check_settings(ckpt, trainer, strict)
    if trainer.validation_fraction:
        text = (
            f"This Trainer splits validation_fraction={trainer.validation_fraction} off the data at the start "
            "of every fit, from its generator: a resumed fit would validate on other rows and shuffle "
            "differently from the saved run. Split once yourself (glassnet.training.metrics.train_validation_split) "
            "and pass validation_data, as `glassnet train --resume` does"
        )
        if strict:
            raise CheckpointError(text + ", or pass strict=False to go on anyway")
        warnings.warn(text + ".", UserWarning, stacklevel=2)
    # what can fail (a crafted file) comes first and changes nothing; then the restoring, which cannot fail
    gens, layer_gens = _rebuilt_generators(ckpt, net)
    optimizer, schedule = trainer.optimizer, trainer.schedule
    with _restoring(optimizer), _restoring(schedule):
        restore_optimizer(ckpt, optimizer, net.n_params, net.dtype)
        restore_schedule(ckpt, schedule)
        _restore_callbacks(ckpt, trainer.callbacks)
    net.load_state_dict({k[len("net/") :]: v for k, v in ckpt.arrays.items() if k.startswith("net/")})
    for i, gen in layer_gens.items():
        net.layers[i].rng = gen
    k = ckpt.metadata["generator_refs"]["trainer"]
    if k is not None:
        trainer.rng = gens[k]
    trainer.history = ckpt.history
    trainer.epoch = ckpt.epoch
    return ckpt


# --- the callback that writes them ----------------------------------------------------------------------


class ModelCheckpoint(Callback):
    """Write resumable checkpoints (:mod:`glassnet.files.checkpoint`) into a folder as training goes.

    Files: ``checkpoint-NNNN.npz`` after every ``every`` epochs (``NNNN`` the number of completed epochs)
    and at the end of training, of which the last ``keep_last`` (3) are kept, and ``best.npz`` whenever the
    monitored value improves (by default the validation loss, or the training loss when there is no
    validation), as Keras's ``ModelCheckpoint`` and skorch's ``Checkpoint`` keep theirs. Each is written
    atomically: a run killed at any moment (``SIGKILL`` included) leaves complete checkpoints only, and
    ``glassnet.files.checkpoint.resume(trainer, folder)`` continues from the latest.

    An epoch's checkpoint is written when the next epoch begins (or training ends), so that it holds the
    state after every callback's ``on_epoch_end`` (a learning rate reduced by :class:`ReduceLROnPlateau`,
    for one), whatever their order; the weights are those the epoch ended with even if a callback restores
    others at the end of training (early stopping).

    Parameters
    ----------
    directory : str or path-like
        Folder for the checkpoints (created if missing).
    every : int or None
        Write a checkpoint every ``every`` epochs; ``None``: only ``best.npz`` (and the last, see
        ``save_last``).
    monitor : str or None
        Also keep ``best.npz``, the checkpoint of the best epoch by this recorded value (``val_loss``,
        ``val_score``, ``loss``, or an :class:`EpochScoring` name); ``'auto'`` (default): ``val_loss`` when
        the fit validates, else ``loss``; ``None``: no ``best.npz``.
    mode : {'auto', 'min', 'max'}
        Whether lower or higher ``monitor`` is better; ``'auto'``: higher for scores and accuracies.
    keep_last : int or None
        Keep only this many periodic checkpoints (older ones are deleted; default 3); ``None`` keeps all.
    save_last : bool
        Also write the checkpoint of the final epoch when training ends normally (not after Ctrl-C).
    """

    def __init__(
        self,
        directory,
        every: int | None = 1,
        monitor: str | None = "auto",
        mode: str = "auto",
        keep_last: int | None = 3,
        save_last: bool = True,
    ) -> None:
        self.directory = Path(directory)
        self.every = _check_positive_int("every", every, allow_none=True)
        if monitor is not None and not isinstance(monitor, str):
            raise ValueError(f"monitor must be a recorded value's name, 'auto' or None; got {monitor!r}.")
        self.monitor, self.mode = monitor, mode
        self.sign = _sign(monitor, mode) if monitor is not None else 1.0
        self.keep_last = _check_positive_int("keep_last", keep_last, allow_none=True)
        self.save_last = bool(save_last)
        self.best, self.best_epoch = -math.inf, None
        self._pending = None
        self._owner = None
        self.written: list[Path] = []

    def state_dict(self) -> dict:
        return {"best": self.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict) -> None:
        best, epoch = state["best"], state["best_epoch"]
        if isinstance(best, bool) or not isinstance(best, (int, float)):
            raise ValueError(f"best must be a number; got {best!r:.40}")
        if epoch is not None and (isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0):
            raise ValueError(f"best_epoch must be a non-negative integer or None; got {epoch!r:.40}")
        self.best, self.best_epoch = float(best), epoch

    def on_train_begin(self, trainer) -> None:
        check_writable(self.directory / checkpoint_name(0))  # a read-only folder is reported now, not later
        self._pending = None
        self._owner = owner = trainer.owner  # an estimator's fit (glassnet.training.owner.TrainingOwner)
        restored = None if owner is None else owner.resumed_history()
        # the fit of an estimator resumed from a checkpoint continues the checkpoint's History
        if restored is not None and trainer.history.epochs == 0 and restored.epochs == owner.epochs_done():
            trainer.history = restored

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        # an estimator's epochs count across its fits (warm start, partial_fit, resumed)
        done = epoch + 1 if self._owner is None else self._owner.epochs_done()
        periodic = self.every is not None and done % self.every == 0
        best = False
        if self.monitor is not None:
            if self.monitor == "auto":  # the validation loss when the fit validates, else the training loss
                self.monitor = "val_loss" if "val_loss" in logs else "loss"
                self.sign = _sign(self.monitor, self.mode)
            value = _monitored("ModelCheckpoint", self.monitor, logs)
            if np.isfinite(value) and self.sign * value > self.best:
                self.best, self.best_epoch, best = self.sign * value, done - 1, True
        self._pending = (done, periodic, best, trainer.net.flat_params.copy())

    def on_epoch_begin(self, trainer, epoch: int) -> None:
        self._flush(trainer)

    def on_train_end(self, trainer, history) -> None:
        if history.interrupted:
            self._pending = None  # Ctrl-C mid-epoch: the state is not that of an epoch's end
            return
        self._flush(trainer, last=self.save_last)

    def _flush(self, trainer, last: bool = False) -> None:
        if self._pending is None:
            return
        done, periodic, best, params = self._pending
        self._pending = None
        net = trainer.net
        current = None
        if not np.array_equal(net.flat_params, params):  # a callback restored other weights at the end
            current = net.flat_params.copy()
            net.flat_params[...] = params
        try:
            if periodic or last:
                self.written.append(
                    save_checkpoint(self.directory / checkpoint_name(done), trainer, epoch=done)
                )
                if self.keep_last is not None:
                    for old in list_checkpoints(self.directory)[: -self.keep_last]:
                        old.unlink(missing_ok=True)
            if best:
                save_checkpoint(self.directory / "best.npz", trainer, epoch=done)
        finally:
            if current is not None:
                net.flat_params[...] = current
