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

Every array and the metadata carry a SHA-256 that is checked on load; only the members the metadata names
are read, each ``.npy`` header is checked against the declared shape and dtype before its data is read, and
no array may hold objects. Files are written with :func:`glassnet._files.write_atomic` (temporary file,
``fsync``, rename): a crash or ``SIGKILL`` leaves the previous checkpoint or the new one, never half of one.

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

import hashlib
import json
import math
import os
import re
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from glassnet._files import check_writable, write_atomic
from glassnet._version import __version__
from glassnet.training.callbacks import Callback, History, _check_positive_int, _monitored, _sign

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
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
MAX_METADATA_BYTES = 64 << 20
_META_KEY = "__glassnet_checkpoint__"
_NAME_RE = re.compile(r"^checkpoint-(\d{4,})\.npz$")
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
_SETTINGS = ("batch_size", "shuffle", "alpha", "n_jobs")
_REQUIRED = ("epoch", "architecture", "trainer", "optimizer", "schedule", "generators", "generator_refs",
             "history", "callbacks", "arrays")  # fmt: skip


class CheckpointError(ValueError):
    """A checkpoint is corrupt, truncated, of a newer format, or does not fit the run it is resumed into."""


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
    """The file name :class:`~glassnet.training.callbacks.ModelCheckpoint` gives the checkpoint after ``epoch`` epochs."""
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


def _decode_state(value):
    if isinstance(value, dict) and "__ndarray__" in value:
        return np.array(value["__ndarray__"], dtype=np.dtype(value["dtype"]))
    if isinstance(value, dict):
        return {k: _decode_state(v) for k, v in value.items()}
    return value


def _generator_from(spec: dict) -> np.random.Generator:
    name = spec["bit_generator"]
    if name not in _BIT_GENERATORS:
        raise CheckpointError(
            f"unknown bit generator {name!r} in the checkpoint; expected one of {_BIT_GENERATORS}"
        )
    cls = getattr(np.random, name)
    seq = spec.get("seed_seq")
    if seq is not None:
        entropy = seq["entropy"]
        seed = np.random.SeedSequence(
            tuple(entropy) if isinstance(entropy, list) else entropy,
            spawn_key=tuple(seq["spawn_key"]),
            pool_size=seq["pool_size"],
            n_children_spawned=seq["n_children_spawned"],
        )
        bitgen = cls(seed)
    else:
        bitgen = cls()
    bitgen.state = _decode_state(spec["state"])
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


def _sha256(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _metadata_digest(metadata: dict) -> str:
    body = {k: v for k, v in metadata.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


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
    metadata["arrays"] = {
        name: {"shape": list(a.shape), "dtype": a.dtype.str, "sha256": _sha256(a)}
        for name, a in arrays.items()
    }
    metadata["sha256"] = _metadata_digest(metadata)
    text = json.dumps(metadata, sort_keys=True)
    payload = {_META_KEY: np.frombuffer(text.encode("utf-8"), dtype=np.uint8), **arrays}
    return write_atomic(path, lambda f: np.savez(f, **payload))


# --- reading -----------------------------------------------------------------------------------------------


def _header(stream, where: str):
    fmt = np.lib.format
    try:
        version = fmt.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = fmt.read_array_header_1_0(stream)
        elif version in ((2, 0), (3, 0)):
            shape, _, dtype = fmt.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except (ValueError, OSError, EOFError, SyntaxError, TypeError, zipfile.BadZipFile, zlib.error) as exc:
        raise CheckpointError(f"{where} is truncated or corrupt ({exc})") from None
    if dtype.hasobject or dtype.fields is not None:
        raise CheckpointError(f"{where} holds {dtype} data; a checkpoint holds only numbers")
    return tuple(int(n) for n in shape), dtype


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> np.ndarray:
    try:
        with zf.open(info) as member:
            return np.lib.format.read_array(member, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, RuntimeError) as exc:
        raise CheckpointError(f"{where} is truncated or corrupt: {exc}") from None


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


def _read_metadata(zf: zipfile.ZipFile, members: dict, path: Path):
    """The decoded JSON metadata member of the checkpoint, its header checked before its data is read."""
    meta_info = members.get(_META_KEY + ".npy")
    if meta_info is None:
        hint = (
            " (it is a model file: load it with glassnet.files.model.load_model)"
            if "__glassnet__.npy" in members
            else ""
        )
        raise CheckpointError(f"{path} is not a glassnet checkpoint{hint}")
    with zf.open(meta_info) as member:
        shape, dtype = _header(member, f"{path}: the metadata")
    if len(shape) != 1 or dtype != np.uint8 or shape[0] > MAX_METADATA_BYTES:
        raise CheckpointError(f"{path} has corrupt metadata ({dtype} of shape {shape})")
    raw = _read_member(zf, meta_info, f"{path}: the metadata")
    try:
        return json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CheckpointError(f"{path} has corrupt metadata: {exc}") from None


def _check_format(metadata, path: Path) -> None:
    """The metadata must name this format, in a version this glassnet reads, with a matching checksum."""
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        shown = metadata.get("format") if isinstance(metadata, dict) else type(metadata).__name__
        raise CheckpointError(f"{path} is not a glassnet checkpoint (format {shown!r})")
    version = metadata.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CheckpointError(f"{path} has an invalid checkpoint format version {version!r}")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} was written by a newer glassnet ({str(metadata.get('glassnet_version'))[:40]}, "
            f"checkpoint format version {version}); this glassnet {__version__} reads format version "
            f"{FORMAT_VERSION} or older. Upgrade glassnet to resume from it."
        )
    if metadata.get("sha256") != _metadata_digest(metadata):
        raise CheckpointError(f"{path} is corrupt: the checksum of its metadata does not match")


def _declared_arrays(metadata: dict, members: dict, path: Path) -> dict:
    """The metadata's array declarations, once every required field is there and the zip holds exactly
    the declared arrays."""
    declared = metadata.get("arrays")
    missing = [k for k in _REQUIRED if k not in metadata]
    if (
        missing
        or not isinstance(declared, dict)
        or not all(isinstance(v, dict) and {"shape", "dtype", "sha256"} <= set(v) for v in declared.values())
    ):
        raise CheckpointError(f"{path} has invalid metadata (missing {missing or 'array declarations'})")
    stored = {m[: -len(".npy")] for m in members if m.endswith(".npy")} - {_META_KEY}
    if stored != set(declared):
        raise CheckpointError(
            f"{path} is truncated or corrupt: arrays missing {sorted(set(declared) - stored)[:5]}, "
            f"unexpected {sorted(stored - set(declared))[:5]}"
        )
    return declared


def _check_headers(zf: zipfile.ZipFile, members: dict, declared: dict, path: Path, max_bytes: int) -> None:
    """Every array's ``.npy`` header must match its declaration, and all of them fit in ``max_bytes``;
    no array data is read before all agree."""
    total = 0
    for name, spec in declared.items():
        with zf.open(members[name + ".npy"]) as member:
            shape, dtype = _header(member, f"{path}: array {name!r}")
        if list(shape) != spec["shape"] or dtype.str != spec["dtype"]:
            raise CheckpointError(f"{path}: array {name!r} does not match its declaration")
        total += int(np.prod(shape, dtype=object)) * dtype.itemsize
        if total > max_bytes:
            raise CheckpointError(f"{path} holds more than max_bytes={max_bytes} bytes of arrays")


def _read_arrays(zf: zipfile.ZipFile, members: dict, declared: dict, path: Path) -> dict[str, np.ndarray]:
    """The declared arrays, each checked against its SHA-256."""
    arrays = {}
    for name, spec in declared.items():
        array = _read_member(zf, members[name + ".npy"], f"{path}: array {name!r}")
        if _sha256(array) != spec["sha256"]:
            raise CheckpointError(f"{path} is corrupt: the checksum of array {name!r} does not match")
        arrays[name] = array
    return arrays


def load_checkpoint(path: str | os.PathLike, *, max_bytes: int = MAX_BYTES) -> Checkpoint:
    """Read and verify a checkpoint written by :func:`save_checkpoint` (a folder: its latest checkpoint).

    Raises
    ------
    FileNotFoundError
        If there is no such file (or no checkpoint in the folder).
    CheckpointError
        If the file is not a glassnet checkpoint, is truncated or corrupt (a checksum differs), or was
        written in a newer format.
    """
    path = _checkpoint_file(Path(path))
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise CheckpointError(f"{path} is not a glassnet checkpoint (not a readable .npz: {exc})") from None
    with zf:
        members = {i.filename: i for i in zf.infolist()}
        metadata = _read_metadata(zf, members, path)
        _check_format(metadata, path)
        declared = _declared_arrays(metadata, members, path)
        _check_headers(zf, members, declared, path, max_bytes)
        arrays = _read_arrays(zf, members, declared, path)
    return Checkpoint(path, metadata, arrays)


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


def restore_optimizer(ckpt: Checkpoint, opt, n_params: int, dtype) -> None:
    spec = ckpt.metadata["optimizer"]
    for key, value in spec["attributes"].items():
        setattr(opt, key, value)
    for name in getattr(opt, "state_names", None) or ():
        if name not in spec["state"]:
            opt.__dict__.pop(name, None)  # no state saved (no step yet): none now, not another run's
    for name in spec["state"]:
        value = ckpt.arrays[f"optimizer/{name}"]
        if value.shape != (n_params,):
            raise CheckpointError(
                f"{ckpt.path}: optimizer state {name!r} has shape {value.shape}, not ({n_params},)"
            )
        setattr(opt, name, value.astype(dtype, copy=True))


def restore_schedule(ckpt: Checkpoint, schedule) -> None:
    spec = ckpt.metadata["schedule"]
    for key, value in spec["attributes"].items():
        setattr(schedule, key, value)


def restore_generators(ckpt: Checkpoint, net) -> np.random.Generator | None:
    """New generators with the saved states, given to the layers; returns the Trainer's (or None)."""
    gens = [_generator_from(spec) for spec in ckpt.metadata["generators"]]
    refs = ckpt.metadata["generator_refs"]
    for i, k in refs["layers"].items():
        if k is not None:
            net.layers[int(i)].rng = gens[k]
    k = refs["trainer"]
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
    saved: dict[str, list] = {}
    for entry in ckpt.metadata.get("callbacks", []):
        saved.setdefault(entry["class"], []).append(entry["state"])
    seen: dict[str, int] = {}
    for cb in callbacks:
        if not callable(getattr(cb, "load_state_dict", None)):
            continue
        name = type(cb).__name__
        k = seen.get(name, 0)
        seen[name] = k + 1
        if k < len(saved.get(name, [])):
            cb.load_state_dict(saved[name][k])


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
    net.load_state_dict({k[len("net/") :]: v for k, v in ckpt.arrays.items() if k.startswith("net/")})
    restore_optimizer(ckpt, trainer.optimizer, net.n_params, net.dtype)
    restore_schedule(ckpt, trainer.schedule)
    rng = restore_generators(ckpt, net)
    if rng is not None:
        trainer.rng = rng
    trainer.history = ckpt.history
    trainer.epoch = ckpt.epoch
    _restore_callbacks(ckpt, trainer.callbacks)
    return ckpt


# --- the callback that writes them ----------------------------------------------------------------------


class ModelCheckpoint(Callback):
    """Write resumable checkpoints (:mod:`glassnet.files.checkpoint`) into a folder as training goes.

    Files: ``checkpoint-NNNN.npz`` after every ``every`` epochs (``NNNN`` the number of completed epochs)
    and at the end of training, and ``best.npz`` whenever the monitored value improves. Each is written
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
        ``val_score``, ``loss``, or an :class:`EpochScoring` name).
    mode : {'auto', 'min', 'max'}
        Whether lower or higher ``monitor`` is better; ``'auto'``: higher for scores and accuracies.
    keep_last : int or None
        Keep only this many periodic checkpoints (older ones are deleted); ``None`` keeps all.
    save_last : bool
        Also write the checkpoint of the final epoch when training ends normally (not after Ctrl-C).
    """

    def __init__(
        self,
        directory,
        every: int | None = 1,
        monitor: str | None = None,
        mode: str = "auto",
        keep_last: int | None = None,
        save_last: bool = True,
    ) -> None:
        self.directory = Path(directory)
        self.every = _check_positive_int("every", every, allow_none=True)
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
        self.best, self.best_epoch = float(state["best"]), state["best_epoch"]

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
