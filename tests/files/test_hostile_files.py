"""Hostile files: generated corruptions of model files, estimator files and checkpoints alike.

Every case ends in the format's own error (ModelFileError / CheckpointError) or in a load identical to the
original's (for corruptions of the bytes) or a usable one (for metadata rewritten with a valid checksum):
never another exception, never a different model. The bombs' memory is measured with tracemalloc.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import struct
import threading
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from glassnet.callbacks import ModelCheckpoint
from glassnet.checkpoint import CheckpointError, load_checkpoint, resume
from glassnet.io import ModelFileError, load_model, save_model
from glassnet.network import Sequential, build_mlp
from glassnet.optim import Adam
from glassnet.training import Trainer

MODEL_KEY, CHECKPOINT_KEY = "__glassnet__", "__glassnet_checkpoint__"
DIGEST_AT = {MODEL_KEY: ("checksums", MODEL_KEY), CHECKPOINT_KEY: ("sha256",)}
METADATA_LIMIT = 8 << 20  # glassnet.files.container.MAX_METADATA_BYTES
RNG_X = np.random.default_rng(0)
X = RNG_X.normal(size=(48, 4))
Y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)


# --- the files and how each kind is loaded ----------------------------------------------------------------


def _trainer(dropout=0.2):
    return Trainer(build_mlp([4, 5, 3], dropout=dropout, seed=0), Adam(0.01), batch_size=16, seed=1)


def _estimator():
    from glassnet import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=(5,), dropout=0.1, max_iter=2, batch_size=16, random_state=0)


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    """One file of each kind, written by today's writers."""
    from glassnet.io import save_estimator

    folder = tmp_path_factory.mktemp("originals")
    trainer = _trainer()
    trainer.callbacks.append(ModelCheckpoint(folder / "t", monitor=None))
    trainer.fit(X, Y, epochs=1)
    save_model(folder / "model.npz", trainer.net, classes=[0, 1, 2], info={"note": "x"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = _estimator().fit(X, Y, callbacks=[ModelCheckpoint(folder / "e", monitor=None)])
    save_estimator(folder / "estimator.npz", est)
    return {
        "model": folder / "model.npz",
        "estimator": folder / "estimator.npz",
        "checkpoint": folder / "t" / "checkpoint-0001.npz",
        "estimator-checkpoint": folder / "e" / "checkpoint-0002.npz",
    }


def _load(kind: str, path: Path):
    """Load ``path`` as its kind would be, all the way to a usable object; returns a fingerprint."""
    if kind == "model":
        saved = load_model(path)
        return saved.network.forward(X.astype(saved.network.dtype)).tobytes()
    if kind == "estimator":
        from glassnet.io import load_estimator

        return load_estimator(path).predict_proba(X).tobytes()
    if kind == "checkpoint":
        trainer = _trainer()
        resume(trainer, path)
        opt = trainer.optimizer
        return (
            trainer.net.flat_params.tobytes(),
            opt._m.tobytes(),
            opt.t,
            str(trainer.rng.bit_generator.state),
        )
    from glassnet.checkpoint import resume_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a rewritten early_stopping=True warns that the run is not exact
        est = resume_estimator(path)
    return (est.network_.flat_params.tobytes(), est._optimizer.t, est.predict_proba(X).tobytes())


ERRORS = {"model": ModelFileError, "estimator": ModelFileError, "checkpoint": CheckpointError,
          "estimator-checkpoint": CheckpointError}  # fmt: skip
KEYS = {
    "model": MODEL_KEY,
    "estimator": MODEL_KEY,
    "checkpoint": CHECKPOINT_KEY,
    "estimator-checkpoint": CHECKPOINT_KEY,
}


def _outcome(kind: str, path: Path):
    """``("ok", fingerprint)`` or ``("refused", message)``; any other exception fails the test."""
    try:
        return "ok", _load(kind, path)
    except ERRORS[kind] as exc:
        assert str(exc), "an error without a message"
        return "refused", str(exc)


# --- zip surgery ----------------------------------------------------------------------------------------


def _members(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as z:
        return [(info.filename, z.read(info)) for info in z.infolist()]


def _npy(array) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


def _write(path: Path, members, compress=zipfile.ZIP_STORED) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names, which is the point
        with zipfile.ZipFile(path, "w", compress) as z:
            for name, data in members:
                z.writestr(name, data)
    return path


def _meta(members, key: str) -> dict:
    raw = dict(members)[key + ".npy"]
    return json.loads(np.load(io.BytesIO(raw), allow_pickle=False).tobytes())


def _digest(meta: dict, at: tuple[str, ...]) -> str:
    """The metadata's own SHA-256 as the formats define it: canonical JSON without the digest itself."""
    body = copy.deepcopy(meta)
    node = body
    for key in at[:-1]:
        node = node[key]
    node.pop(at[-1], None)
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _with_meta(members, key: str, meta, fix_checksum: bool = True) -> list:
    """The members with new metadata, its own checksum recomputed (a valid file but for its content)."""
    at = DIGEST_AT[key]
    if fix_checksum and isinstance(meta, dict) and (len(at) == 1 or isinstance(meta.get(at[0]), dict)):
        node = meta
        for part in at[:-1]:
            node = node[part]
        node[at[-1]] = _digest(meta, at)
    text = json.dumps(meta).encode()
    return [(n, _npy(np.frombuffer(text, np.uint8)) if n == key + ".npy" else d) for n, d in members]


# --- generated corruptions ------------------------------------------------------------------------------


def _bit_flips(data: bytes, rng, n: int):
    for _ in range(n):
        at = int(rng.integers(len(data)))
        yield f"bit {at}", data[:at] + bytes([data[at] ^ (1 << int(rng.integers(8)))]) + data[at + 1 :]


def _truncations(data: bytes, rng, n: int):
    for at in sorted(set(int(k) for k in rng.integers(0, len(data), n))):
        yield f"cut {at}", data[:at]


def _central_directory_sizes(data: bytes, rng, n: int):
    """Wrong compressed or uncompressed sizes in the central directory (the sizes zipfile trusts)."""
    starts = [i for i in range(len(data) - 4) if data[i : i + 4] == b"PK\x01\x02"]
    for k in range(n):
        at = starts[k % len(starts)] + (20 if k % 2 else 24)  # compressed size, uncompressed size
        old = struct.unpack("<I", data[at : at + 4])[0]
        new = [0, 1, old - 1, old + 1, old * 2, 0xFFFFFFFE][int(rng.integers(6))] & 0xFFFFFFFF
        yield f"size@{at}={new}", data[:at] + struct.pack("<I", new) + data[at + 4 :]


def _zip_tricks(members, key: str):
    names = [n for n, _ in members]
    array = next(n for n in names if n != key + ".npy")
    data = dict(members)
    yield "duplicate metadata", members + [(key + ".npy", data[key + ".npy"])]
    yield "duplicate array", members + [(array, data[array])]
    yield "excess array", members + [("extra.npy", _npy(np.zeros(3)))]
    yield "excess file", members + [("notes.txt", b"hello")]
    yield "missing array", [(n, d) for n, d in members if n != array]
    yield "missing metadata", [(n, d) for n, d in members if n != key + ".npy"]
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|O", "fortran_order": False, "shape": (1,)})
    pickled = header.getvalue() + b"\x80\x04N."  # a pickle of None
    yield "array of objects", [(n, pickled if n == array else d) for n, d in members]
    yield "long strings", [(n, _npy(np.array(["a" * 2000])) if n == array else d) for n, d in members]
    yield "data past the header's size", [(n, d + b"\0" * 8 if n == array else d) for n, d in members]
    yield "Fortran order", [(n, d.replace(b"'fortran_order': False", b"'fortran_order': True ") if n == array else d)
                            for n, d in members]  # fmt: skip
    yield "empty zip", []


def _mutations(meta: dict, rng, n: int):
    """Random rewrites of the metadata: a field removed, retyped, made huge or nested, or one added."""
    deep = 0
    for _ in range(40):
        deep = [deep]
    values = [None, True, -1, 0, 2**70, 1e308, -1e308, "x" * 2000, "", [], {}, [1, 2, 3], {"a": 1}, deep,
              10**7, 3.5, "PCG64"]  # fmt: skip
    for k in range(n):
        new = copy.deepcopy(meta)
        node, path = new, []
        for _ in range(int(rng.integers(1, 6))):  # walk down a random path
            keys = (
                list(node)
                if isinstance(node, dict)
                else list(range(len(node)))
                if isinstance(node, list)
                else []
            )
            if not keys:
                break
            key = keys[int(rng.integers(len(keys)))]
            if not isinstance(node[key], (dict, list)) or rng.random() < 0.3:
                path.append(key)
                break
            node, path = node[key], path + [key]
        parent = new
        for key in path[:-1]:
            parent = parent[key]
        if not path:
            continue
        action = int(rng.integers(4))
        if action == 0 and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == 1 and isinstance(parent, dict):
            parent["predict" if k % 2 else "__class__"] = 1
        else:
            parent[path[-1]] = copy.deepcopy(values[int(rng.integers(len(values)))])
        yield f"mutation {k} at {path}", new


@pytest.mark.parametrize("kind", ["model", "estimator", "checkpoint", "estimator-checkpoint"])
def test_generated_corruptions_end_in_a_clean_error_or_an_identical_load(originals, kind, tmp_path):
    rng = np.random.default_rng(list(ERRORS).index(kind))
    original = originals[kind]
    data = original.read_bytes()
    status, fingerprint = _outcome(kind, original)
    assert status == "ok"
    target = tmp_path / "hostile.npz"
    cases = 0
    refused = 0

    def check(label: str, expect_identical: bool = True):
        nonlocal cases, refused
        cases += 1
        status, result = _outcome(kind, target)
        if status == "refused":
            refused += 1
        elif expect_identical:
            assert result == fingerprint, f"{label}: loaded as a different model"

    for label, corrupt in [*_bit_flips(data, rng, 60), *_truncations(data, rng, 15),
                           *_central_directory_sizes(data, rng, 10)]:  # fmt: skip
        target.write_bytes(corrupt)
        check(label)
    members = _members(original)
    key = KEYS[kind]
    for label, tricked in _zip_tricks(members, key):
        _write(target, tricked)
        check(label)
        assert _outcome(kind, target)[0] == "refused", label
    for compress in (zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2):  # deflated loads the same; others are refused
        _write(target, members, compress)
        check(f"compression {compress}")
    meta = _meta(members, key)
    for label, mutated in _mutations(meta, rng, 40):
        _write(target, _with_meta(members, key, mutated))
        check(label, expect_identical=False)
    _write(target, _with_meta(members, key, meta))
    check("rewritten as it was")
    assert cases >= 120 and refused >= cases // 2


# --- the .npy headers: one corrupt byte is a corrupt file -----------------------------------------------------


@pytest.mark.parametrize("kind", ["model", "checkpoint"])
def test_every_single_byte_corruption_of_a_npy_header_is_a_clean_error(originals, kind, tmp_path):
    # the members are written again with the corrupt byte, so that their CRC holds and the header parser, not
    # zipfile's check, meets it (NumPy's parser raised tokenize.TokenError for "(5, 4(" where "(5, 4)" was)
    members = _members(originals[kind])
    target = tmp_path / "hostile.npz"
    for k in (0, 1):  # the metadata's header and an array's
        name, data = members[k]
        for at in range(6, 128):
            for value in (b"(", b"\x00"):
                if data[at : at + 1] == value:
                    continue
                corrupt = data[:at] + value + data[at + 1 :]
                _write(target, [(n, corrupt if n == name else d) for n, d in members])
                status, _ = _outcome(kind, target)  # a TokenError or SyntaxError would escape here
                assert status == "refused", f"{name} byte {at} = {value!r}"


# --- bombs and crafted numbers ----------------------------------------------------------------------------------


def _peak(fn) -> int:
    """Peak bytes traced while ``fn`` runs (NumPy's buffers included)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_model_of_deflated_zeros_costs_its_network_once(tmp_path):
    # the issue: a 262 KB file of deflated zeros declaring Dense(8192, 8192) took +1 GB, four copies of its
    # arrays; here 16 MB of weights: loading may cost the network itself plus a few MB, not more copies
    net = build_mlp([2048, 2048], seed=0)
    net.flat_params[...] = 0
    plain = save_model(tmp_path / "plain.npz", net)
    bomb = _write(tmp_path / "bomb.npz", _members(plain), zipfile.ZIP_DEFLATED)
    assert bomb.stat().st_size < 200_000
    arch = load_model(bomb).network.get_config()
    baseline = _peak(lambda: Sequential.from_config(arch))
    assert _peak(lambda: load_model(bomb)) < baseline + (6 << 20)


@pytest.mark.parametrize("key", [MODEL_KEY, CHECKPOINT_KEY])
def test_a_deflated_metadata_bomb_is_refused_within_a_few_mb(originals, key, tmp_path):
    # the issue: 8 MiB of "[]," took +208 MB (model files) and a 105 KB checkpoint +1.6 GB
    source = originals["model" if key == MODEL_KEY else "checkpoint"]
    members = _members(source)
    bomb = b"[" + b"[]," * ((METADATA_LIMIT - 8) // 3) + b"[]]"
    members = [(n, _npy(np.frombuffer(bomb, np.uint8)) if n == key + ".npy" else d) for n, d in members]
    path = _write(tmp_path / "bomb.npz", members, zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 200_000
    error = ModelFileError if key == MODEL_KEY else CheckpointError
    loader = load_model if key == MODEL_KEY else load_checkpoint

    def load():
        with pytest.raises(error, match="more than 200000 JSON values"):
            loader(path)

    assert _peak(load) < 3 * METADATA_LIMIT


def _rewrite_checkpoint(originals, tmp_path, change) -> Path:
    members = _members(originals["checkpoint"])
    meta = _meta(members, CHECKPOINT_KEY)
    change(meta)
    return _write(tmp_path / "crafted.npz", _with_meta(members, CHECKPOINT_KEY, meta))


def test_a_crafted_seed_sequence_pool_size_is_refused_before_use(originals, tmp_path):
    # SeedSequence mixing is quadratic: pool_size=10**7 would take days
    def crafted(meta):
        meta["generators"][0]["seed_seq"]["pool_size"] = 10**7

    path = _rewrite_checkpoint(originals, tmp_path, crafted)
    with pytest.raises(
        CheckpointError, match=r"generators\[0\].seed_seq.pool_size must be an integer in \[4, 64\]"
    ):
        load_checkpoint(path)


def test_a_crafted_state_dtype_is_refused_before_use(originals, tmp_path):
    def crafted(meta):  # an MT19937 state whose key array claims 2 GB elements
        meta["generators"][0] = {
            "bit_generator": "MT19937",
            "state": {
                "bit_generator": "MT19937",
                "state": {"key": {"__ndarray__": [1], "dtype": "<U500000000"}, "pos": 0},
            },
            "seed_seq": None,
        }

    path = _rewrite_checkpoint(originals, tmp_path, crafted)
    ckpt = load_checkpoint(path)
    before = _trainer()
    weights = before.net.flat_params.copy()
    with pytest.raises(
        CheckpointError, match=r"generators\[0\].state.state.key must be an array of 624 uint32"
    ):
        assert _peak(lambda: resume(before, ckpt)) < 1 << 20
    np.testing.assert_array_equal(before.net.flat_params, weights)  # nothing was restored


def test_a_npy_header_of_long_strings_is_refused(originals, tmp_path):
    members = _members(originals["model"])
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<U500000000", "fortran_order": False, "shape": (1,)}
    )
    members = [(n, header.getvalue() if n == "layers.0.b.npy" else d) for n, d in members]
    path = _write(tmp_path / "strings.npz", members)
    with pytest.raises(ModelFileError, match=r"'layers.0.b' holds '<U500000000' data"):
        load_model(path)


@pytest.mark.parametrize(
    "part, key, value",
    [("optimizer", "step", 1), ("optimizer", "state_names", 1), ("optimizer", "lr", "fast"),
     ("optimizer", "unknown", 1), ("schedule", "on_epoch_end", 1), ("optimizer", "__class__", 1)],
)  # fmt: skip
def test_a_checkpoint_sets_no_attribute_but_the_settings(originals, tmp_path, part, key, value):
    def crafted(meta):
        meta[part]["attributes"][key] = value

    path = _rewrite_checkpoint(originals, tmp_path, crafted)
    trainer = _trainer()
    with pytest.raises(CheckpointError, match=rf"{part}.attributes.{key}"):
        resume(trainer, path)
    assert not hasattr(trainer.optimizer, "unknown") and callable(trainer.optimizer.step)
    assert trainer.optimizer.t == 0 and trainer.epoch == 0  # nothing restored


def test_a_checkpoint_restores_no_undeclared_estimator_attribute(originals, tmp_path):
    from glassnet.checkpoint import resume_estimator

    members = _members(originals["estimator-checkpoint"])
    meta = _meta(members, CHECKPOINT_KEY)
    meta["estimator"]["state"]["predict"] = 1
    path = _write(tmp_path / "crafted.npz", _with_meta(members, CHECKPOINT_KEY, meta))
    with pytest.raises(CheckpointError, match="undeclared estimator attribute 'predict'"):
        resume_estimator(path)
    meta["estimator"]["state"] = {"n_iter_": "many"}
    path = _write(tmp_path / "crafted.npz", _with_meta(members, CHECKPOINT_KEY, meta))
    with pytest.raises(CheckpointError, match="estimator.state.n_iter_ has an invalid value"):
        resume_estimator(path)


def test_unknown_checkpoint_fields_are_refused(originals, tmp_path):
    path = _rewrite_checkpoint(originals, tmp_path, lambda meta: meta.update(extra=1))
    with pytest.raises(CheckpointError, match=r"unknown \['extra'\]"):
        load_checkpoint(path)


# --- not regular files ------------------------------------------------------------------------------------------


def _returns_within(fn, seconds: float = 20.0):
    """Run ``fn`` in a thread: a read of /dev/zero or a FIFO must not hang the test suite if it regresses."""
    outcome = {}

    def run():
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "reading did not return"
    return outcome.get("error")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
@pytest.mark.parametrize("loader, error", [(load_model, ModelFileError), (load_checkpoint, CheckpointError)])
def test_dev_zero_is_refused_before_reading(loader, error):
    raised = _returns_within(lambda: loader("/dev/zero"))
    assert isinstance(raised, error) and "is a character device" in str(raised)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("loader, error", [(load_model, ModelFileError), (load_checkpoint, CheckpointError)])
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path, loader, error):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    raised = _returns_within(lambda: loader(fifo))
    assert isinstance(raised, error) and "is a FIFO" in str(raised)
