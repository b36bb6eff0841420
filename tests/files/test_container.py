"""The one container of model files and checkpoints (glassnet.files.container), files written before it,
estimator files that cannot predict (issue 20 item 10), exact data-parallel resumes (item 7) and the
checkpoints ModelCheckpoint keeps (item 4)."""

from __future__ import annotations

import copy
import io
import json
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from glassnet._files import NotARegularFileError, open_regular
from glassnet.callbacks import ModelCheckpoint
from glassnet.checkpoint import CheckpointError, list_checkpoints, load_checkpoint, resume
from glassnet.files import container
from glassnet.files.model import LAYOUT, open_model_file
from glassnet.io import ModelFileError, load_model, save_model
from glassnet.network import build_mlp
from glassnet.optim import Adam
from glassnet.training import Trainer

# written by glassnet at commit 14252a4, before the one container: model format 2 (network-v2.npz,
# estimator-v2.npz; expected.npz holds their outputs on inputs.npy) and checkpoint format 1 (a Trainer's with
# dropout and Adam, an MLPClassifier's; expected_resume.json holds what resuming them gave then)
FIXTURES = Path(__file__).parent / "fixtures"


# --- the container ------------------------------------------------------------------------------------------


def test_arrays_are_read_straight_into_the_network(tmp_path):
    net = build_mlp([6, 5, 3], seed=0)
    path = save_model(tmp_path / "m.npz", net)
    other = build_mlp([6, 5, 3], seed=1)
    with open_model_file(path) as box:
        assert box.names == sorted(net.state_dict()) and box.version == 2
        view = other.parameters()["layers.0.W"]
        box.read_into("layers.0.W", view)  # a view into other.flat_params
    np.testing.assert_array_equal(other.flat_params[: view.size], net.flat_params[: view.size])


def test_a_checksum_is_checked_while_reading(tmp_path):
    net = build_mlp([6, 5, 3], seed=0)
    path = save_model(tmp_path / "m.npz", net)
    with zipfile.ZipFile(path) as z:
        members = [(i.filename, z.read(i)) for i in z.infolist()]
    members = [(n, d[:-4] + b"\0\0\0\0" if n == "layers.0.W.npy" else d) for n, d in members]
    with zipfile.ZipFile(path, "w") as z:  # CRCs valid, content not the saved one
        for name, data in members:
            z.writestr(name, data)
    with pytest.raises(ModelFileError, match="the checksum of array 'layers.0.W' does not match"):
        load_model(path)


def test_open_regular_refuses_what_is_not_a_regular_file(tmp_path):
    with pytest.raises(NotARegularFileError) as info:
        open_regular(tmp_path)
    assert info.value.kind == "folder"
    with pytest.raises(FileNotFoundError):
        open_regular(tmp_path / "missing")
    (tmp_path / "f").write_bytes(b"abc")
    with open_regular(tmp_path / "f") as f:
        assert f.read() == b"abc"


def test_a_model_file_opened_as_a_checkpoint_says_what_it_is(tmp_path):
    path = save_model(tmp_path / "m.npz", build_mlp([4, 3], seed=0))
    with pytest.raises(CheckpointError, match="it is a model file: load it with"):
        load_checkpoint(path)


def test_metadata_limits_are_those_of_the_container():
    from glassnet.files import checkpoint, model

    assert model.MAX_METADATA_BYTES == checkpoint.MAX_METADATA_BYTES == container.MAX_METADATA_BYTES
    assert issubclass(ModelFileError, container.ContainerError) and issubclass(
        CheckpointError, container.ContainerError
    )
    assert LAYOUT.error is ModelFileError


# --- files written before the one container ---------------------------------------------------------------------


def test_model_and_estimator_files_of_format_2_load_as_before():
    from glassnet.io import load_estimator

    X = np.load(FIXTURES / "inputs.npy")
    expected = np.load(FIXTURES / "expected.npz")
    net = load_model(FIXTURES / "network-v2.npz").network
    np.testing.assert_array_equal(net.forward(X.astype(net.dtype)), expected["network"])
    est = load_estimator(FIXTURES / "estimator-v2.npz")
    np.testing.assert_array_equal(est.predict_proba(X), expected["estimator"])


def test_model_files_of_format_1_load(tmp_path):
    # version 1 had no checksum of the metadata itself
    with zipfile.ZipFile(FIXTURES / "network-v2.npz") as z:
        members = [(i.filename, z.read(i)) for i in z.infolist()]
    meta = json.loads(np.load(io.BytesIO(dict(members)["__glassnet__.npy"])).tobytes())
    meta["format_version"] = 1
    del meta["checksums"]["__glassnet__"]
    raw = io.BytesIO()
    np.lib.format.write_array(raw, np.frombuffer(json.dumps(meta).encode(), np.uint8))
    with zipfile.ZipFile(tmp_path / "v1.npz", "w") as z:
        for name, data in members:
            z.writestr(name, raw.getvalue() if name == "__glassnet__.npy" else data)
    old = load_model(tmp_path / "v1.npz")
    assert old.metadata["format_version"] == 1
    np.testing.assert_array_equal(
        old.network.flat_params, load_model(FIXTURES / "network-v2.npz").network.flat_params
    )


def test_checkpoints_of_format_1_resume_as_before():
    from glassnet.checkpoint import resume_estimator

    expected = json.loads((FIXTURES / "expected_resume.json").read_text())
    net = build_mlp([4, 5, 3], dropout=0.2, seed=0)
    trainer = Trainer(net, Adam(), batch_size=8, seed=1)
    resume(trainer, FIXTURES / "trainer-checkpoint-v1.npz")
    want = expected["trainer"]
    assert str(trainer.rng.bit_generator.state) == want["rng"]
    assert str(net.layers[2].rng.bit_generator.state) == want["dropout_rng"]
    assert {k: v for k, v in vars(trainer.optimizer).items() if not isinstance(v, np.ndarray)} == want["opt"]
    assert float(trainer.optimizer._m.sum()) == want["m_sum"] and trainer.epoch == want["epoch"]
    assert trainer.history.records == want["history"]
    saved = np.load(FIXTURES / "trainer-checkpoint-v1.npz")
    np.testing.assert_array_equal(net.parameters()["layers.0.W"], saved["net/layers.0.W"])

    est = resume_estimator(FIXTURES / "estimator-checkpoint-v1.npz")
    want = expected["estimator"]
    assert str(est._rng.bit_generator.state) == want["rng"]
    assert {k: v for k, v in vars(est._optimizer).items() if not isinstance(v, np.ndarray)} == want["opt"]
    assert est.loss_curve_ == want["loss_curve_"] and est.t_ == want["t_"]
    assert est.classes_.tolist() == want["classes_"] and vars(est._schedule) == want["sched"]


# --- item 10: estimator files that pass validation but cannot predict ------------------------------------------


def _rewritten_estimator(tmp_path, change) -> Path:
    from glassnet.files.model import _metadata_digest

    with zipfile.ZipFile(FIXTURES / "estimator-v2.npz") as z:
        members = [(i.filename, z.read(i)) for i in z.infolist()]
    meta = json.loads(np.load(io.BytesIO(dict(members)["__glassnet__.npy"])).tobytes())
    replaced = change(meta, dict(members)) or {}
    meta["checksums"]["__glassnet__"] = _metadata_digest(meta)
    raw = io.BytesIO()
    np.lib.format.write_array(raw, np.frombuffer(json.dumps(meta).encode(), np.uint8))
    path = tmp_path / "crafted.npz"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members:
            data = raw.getvalue() if name == "__glassnet__.npy" else replaced.get(name, data)
            if data is not None:  # None: the member goes
                z.writestr(name, data)
    return path


def _npy(array) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array)
    return buf.getvalue()


@pytest.mark.parametrize(
    "case, match",
    [("no fitted section", "lacks n_features_in_"), ("n_features_in_", "n_features_in_ is 5 but the network takes 4"),
     ("duplicate classes", "classes_ must be distinct"), ("no classes", "needs classes_"),
     ("more classes than outputs", "4 classes .* need 4 network outputs, it has 3")],
)  # fmt: skip
def test_an_estimator_that_cannot_predict_is_refused(tmp_path, case, match):
    from glassnet.files.container import sha256
    from glassnet.io import load_estimator

    def change(meta, members):
        est = meta["estimator"]
        if case == "no fitted section":
            del est["fitted"]
        elif case == "n_features_in_":
            est["fitted"]["n_features_in_"] = 5
        elif case == "no classes":
            del meta["checksums"]["estimator/classes_"]
            return {"estimator/classes_.npy": None}
        else:
            labels = np.array(["a", "a", "c"] if case == "duplicate classes" else ["a", "b", "c", "d"])
            meta["checksums"]["estimator/classes_"] = sha256(labels)
            return {"estimator/classes_.npy": _npy(labels)}

    path = _rewritten_estimator(tmp_path, change)
    with pytest.raises(ModelFileError, match=f"cannot predict: .*{match}"):
        load_estimator(path)


def test_the_state_a_checkpoint_restores_is_each_declared_record():
    from glassnet.estimators._saving import ESTIMATOR_STATE
    from glassnet.estimators.persistence import _STATE_CHECKS

    assert set(_STATE_CHECKS) == set(ESTIMATOR_STATE)


# --- item 7: resume_estimator with n_jobs > 1 and dropout is exact ----------------------------------------------


def test_resume_estimator_with_processes_and_dropout_is_bit_identical(tmp_path):
    from glassnet import MLPClassifier
    from glassnet.checkpoint import resume_estimator

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 6))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    kw = dict(hidden_layer_sizes=(12,), dropout=0.3, random_state=0, n_iter_no_change=1000, batch_size=20,
              learning_rate_init=0.01, n_jobs=2)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter reached; a single process if this machine cannot fork
        straight = MLPClassifier(max_iter=4, **kw).fit(X, y)
        MLPClassifier(max_iter=2, **kw).fit(X, y, callbacks=[ModelCheckpoint(tmp_path)])
        est = resume_estimator(tmp_path / "checkpoint-0002.npz")
        est.set_params(max_iter=2).fit(X, y)
    np.testing.assert_array_equal(est.network_.flat_params, straight.network_.flat_params)


# --- item 4: ModelCheckpoint keeps the last 3 and the best --------------------------------------------------------


def test_model_checkpoint_keeps_the_last_three_and_the_best_by_default(tmp_path):
    net = build_mlp([4, 5, 3], seed=0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4))
    y = (X[:, 0] > 0).astype(int)
    callback = ModelCheckpoint(tmp_path)
    Trainer(net, Adam(0.05), batch_size=8, seed=1, callbacks=[callback]).fit(X, y, epochs=6)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["checkpoint-0004.npz", "checkpoint-0005.npz",
                                                            "checkpoint-0006.npz"]  # fmt: skip
    assert callback.monitor == "loss"  # no validation: the training loss
    best = load_checkpoint(tmp_path / "best.npz")
    assert best.epoch == callback.best_epoch + 1
    assert min(best.history.records["loss"]) == best.history.records["loss"][-1]
    assert sorted(os.listdir(tmp_path)) == ["best.npz", "checkpoint-0004.npz", "checkpoint-0005.npz",
                                            "checkpoint-0006.npz"]  # fmt: skip


def test_glassnet_train_checkpoint_keeps_a_few_files(tmp_path):
    from glassnet.cli import main

    folder = tmp_path / "ckpt"
    argv = ["train", "--dataset", "digits", "--hidden", "8", "--limit-train", "200", "--batch-size", "50",
            "--no-report", "--no-progress", "--epochs", "6", "--checkpoint", str(folder), "-o", str(tmp_path / "m.npz")]  # fmt: skip
    assert main(argv) == 0
    assert sorted(os.listdir(folder)) == ["best.npz", "checkpoint-0004.npz", "checkpoint-0005.npz",
                                          "checkpoint-0006.npz"]  # fmt: skip
    assert load_checkpoint(folder / "best.npz").metadata["history"]["records"]["val_loss"]


def test_a_model_checkpoint_state_of_the_wrong_type_is_refused():
    callback = ModelCheckpoint("unused")
    with pytest.raises(ValueError, match="best must be a number"):
        callback.load_state_dict({"best": "x", "best_epoch": 0})
    copy.deepcopy(callback).load_state_dict({"best": 1.5, "best_epoch": None})
