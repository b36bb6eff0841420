"""Checkpoints that resume exactly (glassnet.checkpoint, ModelCheckpoint), in this process and in others."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
import zipfile

import numpy as np
import pytest

from glassnet.callbacks import ModelCheckpoint
from glassnet.checkpoint import CheckpointError, latest_checkpoint, load_checkpoint, resume, resume_estimator
from glassnet.files import checkpoint

# The same construction in the test and in the other processes: a small classifier on fixed data.
BUILD = textwrap.dedent(
    """
    import numpy as np
    from glassnet.callbacks import ModelCheckpoint, ReduceLROnPlateau
    from glassnet.mlp import build_mlp
    from glassnet.optim import SGD, Adam
    from glassnet.schedules import InvScalingLR
    from glassnet.training import Trainer

    rng = np.random.default_rng(0)
    X = rng.normal(size=(96, 5)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)

    def build(folder, dropout=0.0, n_jobs=None, optimizer="adam", every=1, extra=()):
        net = build_mlp([5, 12, 3], dropout=dropout, seed=0)
        if optimizer == "adam":
            opt, schedule = Adam(0.02), None
        else:
            opt, schedule = SGD(0.05, momentum=0.9, nesterov=True), InvScalingLR(0.05, power_t=0.25)
        callbacks = [ReduceLROnPlateau("loss", patience=1, factor=0.5)]
        if every != 0:  # checkpoints cost an fsync each: 0 writes none
            callbacks.insert(0, ModelCheckpoint(folder, every=every))
        return Trainer(net, opt, schedule=schedule, batch_size=16, shuffle=True, seed=1, n_jobs=n_jobs,
                       callbacks=[*callbacks, *extra])
    """
)
ns: dict = {}
exec(BUILD, ns)  # noqa: S102 - our own code, shared with the subprocesses
build, X, y = ns["build"], ns["X"], ns["y"]

CASES = {
    "adam": dict(),
    "sgd-nesterov-invscaling": dict(optimizer="sgd"),
    "dropout": dict(dropout=0.3),
    "n_jobs=2": dict(n_jobs=2),
    "n_jobs=2-dropout": dict(n_jobs=2, dropout=0.3),
}


def run_python(code: str, **kwargs):
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, **kwargs)


def resume_elsewhere(jobs: dict, epochs: int) -> dict:
    """In one other process: for each ``name: (folder, settings)``, build the same Trainer, resume from the
    folder, train up to ``epochs`` epochs; returns the final weights by name."""
    code = BUILD + textwrap.dedent(
        f"""
        from glassnet.checkpoint import resume
        for name, (folder, settings) in {jobs!r}.items():
            trainer = build(folder, **settings)
            ckpt = resume(trainer, folder)
            trainer.fit(X, y, epochs={epochs} - ckpt.epoch)
            np.save(folder + "/final.npy", trainer.net.flat_params)
        """
    )
    result = run_python(code, timeout=300)
    assert result.returncode == 0, result.stderr
    return {name: np.load(folder + "/final.npy") for name, (folder, _) in jobs.items()}


@pytest.fixture(scope="module")
def resumed(tmp_path_factory):
    """Each case trained straight for 10 epochs here, and for 4 here then 6 in another process."""
    straight, first, jobs = {}, {}, {}
    for case, settings in CASES.items():
        settings = {**settings, "every": 4}
        root = tmp_path_factory.mktemp(case.replace("=", ""))
        trainer = build(root / "straight", **{**settings, "every": 0})
        trainer.fit(X, y, epochs=10)
        straight[case] = trainer.net.flat_params.copy()
        trainer = build(root / "ckpt", **settings)
        trainer.fit(X, y, epochs=4)
        assert latest_checkpoint(root / "ckpt").name == "checkpoint-0004.npz"
        first[case] = trainer.net.flat_params.copy()
        jobs[case] = (str(root / "ckpt"), settings)
    return straight, first, resume_elsewhere(jobs, 10)


@pytest.mark.parametrize("case", list(CASES))
def test_four_epochs_then_six_in_another_process_equal_ten(case, resumed):
    straight, first, elsewhere = resumed
    np.testing.assert_array_equal(elsewhere[case], straight[case])
    assert not np.array_equal(elsewhere[case], first[case])  # it did train on


def test_resume_restores_everything_in_this_process(tmp_path):
    def noise(Xb, rng):  # an augmentation: draws from the Trainer's generator
        return Xb + rng.normal(scale=0.1, size=Xb.shape).astype(Xb.dtype)

    def make(folder, every):
        trainer = build(folder, dropout=0.3, optimizer="sgd", every=every)
        trainer.augment = noise
        return trainer

    straight = make(tmp_path / "a", every=0)
    straight.fit(X, y, epochs=7)
    first = make(tmp_path / "b", every=3)
    first.fit(X, y, epochs=3)
    again = make(tmp_path / "b", every=0)
    ckpt = resume(again, tmp_path / "b")
    assert ckpt.epoch == again.epoch == 3
    assert again.history["loss"] == first.history["loss"]
    assert again.optimizer.t == first.optimizer.t and again.schedule.t == first.schedule.t
    np.testing.assert_array_equal(again.optimizer._velocity, first.optimizer._velocity)
    # the dropout layer's generator (build_mlp's) continues where it was
    drop = next(la for la in again.net.layers if la.needs_rng)
    assert (
        drop.rng.bit_generator.state
        == next(la for la in first.net.layers if la.needs_rng).rng.bit_generator.state
    )
    assert again.rng.bit_generator.state == first.rng.bit_generator.state
    again.fit(X, y, epochs=4)
    np.testing.assert_array_equal(again.net.flat_params, straight.net.flat_params)
    assert again.history["loss"] == straight.history["loss"]
    assert again.history["lr"] == straight.history["lr"]
    assert again.epoch == 7


def test_shared_generators_stay_shared(tmp_path):
    from glassnet.layers.activations import ReLU

    from glassnet.layers import Dense, Dropout
    from glassnet.network import Sequential
    from glassnet.optim import Adam
    from glassnet.training import Trainer

    def make():
        gen = np.random.default_rng(5)
        net = Sequential(
            [Dense(5, 8, rng=0), ReLU(), Dropout(0.2, rng=gen), Dense(8, 3, rng=1)], "softmax_cross_entropy"
        )
        return Trainer(net, Adam(0.01), batch_size=32, seed=gen)

    t = make()
    t.fit(X, y, epochs=2)
    checkpoint.save_checkpoint(tmp_path / "c.npz", t)
    t2 = make()
    resume(t2, tmp_path / "c.npz")
    assert t2.net.layers[2].rng is t2.rng  # one generator before, one after


def test_sigkill_mid_epoch_resumes_from_the_last_complete_checkpoint(tmp_path):
    folder = tmp_path / "ckpt"
    slow = BUILD + textwrap.dedent(
        f"""
        import time

        class Slow:  # makes each epoch last long enough to be killed in the middle of one
            def on_batch_end(self, trainer, batch, logs):
                time.sleep(0.01)

        trainer = build({str(folder)!r}, dropout=0.3, extra=[Slow()])
        trainer.fit(X, y, epochs=300)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", slow], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while latest_checkpoint(folder) is None:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.005)
        time.sleep(0.03)  # now inside a later epoch (6 batches of 10 ms each)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    names = sorted(p.name for p in folder.iterdir())
    assert all(
        n.startswith("checkpoint-") and n.endswith(".npz") or n.endswith(".gntmp") or n == "best.npz"
        for n in names
    ), names
    for path in checkpoint.list_checkpoints(folder):
        load_checkpoint(path)  # every checkpoint file is complete: the checksums hold
    last = load_checkpoint(folder)
    assert 1 <= last.epoch < 300
    resumed = build(folder, dropout=0.3, every=0)
    resume(resumed, folder)
    resumed.fit(X, y, epochs=3)
    straight = build(tmp_path / "straight", dropout=0.3, every=0)
    straight.fit(X, y, epochs=last.epoch + 3)
    np.testing.assert_array_equal(resumed.net.flat_params, straight.net.flat_params)


def test_a_failed_write_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    trainer = build(tmp_path)
    trainer.fit(X, y, epochs=1)
    path = tmp_path / "checkpoint-0001.npz"
    before = path.read_bytes()

    def broken(f, **arrays):
        f.write(b"PK\x03\x04 half a zip")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="No space"):
        checkpoint.save_checkpoint(path, trainer)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "best.npz",
        "checkpoint-0001.npz",
    ]  # no temporary left


def test_every_keep_last_and_best(tmp_path):
    from glassnet.callbacks import EpochScoring

    trainer = build(tmp_path / "unused")
    mc = ModelCheckpoint(tmp_path / "c", every=3, monitor="val_accuracy", keep_last=2)
    trainer.callbacks = [EpochScoring(["accuracy"], data=(X, y)), mc]
    trainer.fit(X, y, epochs=10)
    names = sorted(p.name for p in (tmp_path / "c").iterdir())
    assert names == ["best.npz", "checkpoint-0009.npz", "checkpoint-0010.npz"]  # 3, 6 deleted; 10 = the last
    best = load_checkpoint(tmp_path / "c" / "best.npz")
    acc = trainer.history["val_accuracy"]
    assert best.epoch == mc.best_epoch + 1 == int(np.argmax(acc)) + 1
    assert best.history["val_accuracy"] == acc[: best.epoch]


def test_the_final_checkpoint_has_the_last_weights_not_the_restored_best(tmp_path):
    from glassnet.callbacks import EarlyStopping

    trainer = build(tmp_path, every=None)
    trainer.callbacks.append(EarlyStopping(monitor="loss", patience=100))
    trainer.fit(
        X, y, epochs=5
    )  # EarlyStopping restores the best weights at the end, after the checkpoint's turn
    final = load_checkpoint(tmp_path / "checkpoint-0005.npz")
    again = build(tmp_path / "x", every=0)
    resume(again, final)
    reference = build(tmp_path / "y", every=0)
    reference.fit(X, y, epochs=5)
    np.testing.assert_array_equal(again.net.flat_params, reference.net.flat_params)


# --- refusals --------------------------------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path):
    trainer = build(tmp_path / "c", every=2)
    trainer.fit(X, y, epochs=2)
    return tmp_path / "c" / "checkpoint-0002.npz"


def test_another_architecture_is_refused_and_nothing_changes(saved, tmp_path):
    from glassnet.mlp import build_mlp
    from glassnet.optim import Adam
    from glassnet.training import Trainer

    other = Trainer(build_mlp([5, 7, 3], seed=0), Adam(0.02), batch_size=16, seed=1)
    before = other.net.flat_params.copy()
    with pytest.raises(CheckpointError, match="another architecture"):
        resume(other, saved)
    np.testing.assert_array_equal(other.net.flat_params, before)
    assert other.epoch == 0


def test_another_optimizer_or_changed_settings(saved, tmp_path):
    sgd = build(tmp_path / "x", optimizer="sgd")
    with pytest.raises(CheckpointError, match="Adam optimizer, but this run uses SGD"):
        resume(sgd, saved)
    trainer = build(tmp_path / "y")
    trainer.batch_size = 32
    with pytest.raises(CheckpointError, match=r"batch_size=32 \(checkpoint: 16\)"):
        resume(trainer, saved)
    with pytest.warns(UserWarning, match="changed settings"):
        resume(trainer, saved, strict=False)
    assert trainer.epoch == 2 and trainer.batch_size == 32


def test_newer_format_is_refused(tmp_path, monkeypatch):
    trainer = build(tmp_path)
    trainer.fit(X, y, epochs=1)
    monkeypatch.setattr(checkpoint, "FORMAT_VERSION", 99)
    checkpoint.save_checkpoint(tmp_path / "new.npz", trainer)
    monkeypatch.undo()
    with pytest.raises(CheckpointError, match="newer glassnet.*format version 99.*Upgrade"):
        load_checkpoint(tmp_path / "new.npz")


def test_corrupt_truncated_and_wrong_files(saved, tmp_path):
    data = saved.read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "cut.npz")
    # a changed weight with a zip that is otherwise intact: the checksum catches it
    with zipfile.ZipFile(saved) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    name = next(n for n in members if n.startswith("net/"))
    blob = bytearray(members[name])
    blob[-1] ^= 0xFF
    members[name] = bytes(blob)
    with zipfile.ZipFile(tmp_path / "flipped.npz", "w") as zf:
        for key, value in members.items():
            zf.writestr(key, value)
    with pytest.raises(CheckpointError, match="checksum"):
        load_checkpoint(tmp_path / "flipped.npz")
    from glassnet.io import save_model

    save_model(tmp_path / "model.npz", build(tmp_path / "m").net)
    with pytest.raises(CheckpointError, match="model file"):
        load_checkpoint(tmp_path / "model.npz")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_checkpoint(tmp_path / "empty")


def test_a_trainer_checkpoint_is_not_an_estimator(saved):
    with pytest.raises(CheckpointError, match="plain Trainer"):
        resume_estimator(saved)


# --- estimators ------------------------------------------------------------------------------------------

EST = "dict(hidden_layer_sizes=(8,), dropout=0.2, random_state=0, n_iter_no_change=1000, batch_size=16, learning_rate_init=0.01)"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_estimator_fit_checkpoints_and_resumes_exactly_in_another_process(tmp_path):
    from glassnet import MLPClassifier

    straight, first = {}, {}
    for solver in ("adam", "sgd"):
        kw = {**eval(EST), "solver": solver}  # noqa: S307 - our own literal
        straight[solver] = MLPClassifier(max_iter=10, **kw).fit(X, y)
        first[solver] = MLPClassifier(max_iter=4, **kw).fit(
            X, y, callbacks=[ModelCheckpoint(tmp_path / solver)]
        )
        assert load_checkpoint(tmp_path / solver).is_estimator
    code = BUILD + textwrap.dedent(
        f"""
        import warnings
        from sklearn.exceptions import ConvergenceWarning
        from glassnet.checkpoint import resume_estimator
        warnings.simplefilter("ignore", ConvergenceWarning)
        for solver in ("adam", "sgd"):
            est = resume_estimator({str(tmp_path)!r} + "/" + solver)
            assert est.n_iter_ == 4 and len(est.loss_curve_) == 4 and est.warm_start
            est.set_params(max_iter=6).fit(X, y)
            np.save({str(tmp_path)!r} + "/" + solver + ".npy", est.network_.flat_params)
            print(est.t_, len(est.loss_curve_))
        """
    )
    result = run_python(code, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(straight["adam"].t_), "10", str(straight["sgd"].t_), "10"]
    for solver in ("adam", "sgd"):
        weights = np.load(tmp_path / f"{solver}.npy")
        np.testing.assert_array_equal(weights, straight[solver].network_.flat_params)
        assert not np.array_equal(first[solver].network_.flat_params, weights)


def test_resumed_estimator_predicts_like_the_checkpointed_one(tmp_path):
    from glassnet import MLPClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = MLPClassifier(max_iter=3, **eval(EST)).fit(X, y, callbacks=[ModelCheckpoint(tmp_path)])  # noqa: S307
    back = resume_estimator(tmp_path / "checkpoint-0003.npz")
    np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))
    assert back.history_["loss"] == est.history_["loss"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back.set_params(max_iter=2).fit(X, y, callbacks=[ModelCheckpoint(tmp_path)])
    last = load_checkpoint(tmp_path)  # the epochs count on across the estimator's fits; the History too
    assert last.path.name == "checkpoint-0005.npz" and last.epoch == 5
    assert last.history["loss"] == back.history_["loss"] == back.loss_curve_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back.partial_fit(X, y)
    assert latest_checkpoint(tmp_path).name == "checkpoint-0005.npz"  # no callback passed: none written
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back.partial_fit(X, y, callbacks=[ModelCheckpoint(tmp_path)])
    assert latest_checkpoint(tmp_path).name == "checkpoint-0007.npz"  # partial_fit's epochs count too


# --- the command line ------------------------------------------------------------------------------------


def test_glassnet_train_checkpoint_and_resume(tmp_path, capsys):
    from glassnet.cli import main
    from glassnet.io import load_model

    common = ["train", "--dataset", "digits", "--hidden", "8", "--limit-train", "300", "--batch-size", "32",
              "--dropout", "0.2", "--no-report", "--no-progress"]  # fmt: skip
    assert main([*common, "--epochs", "5", "-o", str(tmp_path / "straight.npz")]) == 0
    folder = tmp_path / "ckpt"
    assert main([*common, "--epochs", "2", "--checkpoint", str(folder), "-o", str(tmp_path / "two.npz")]) == 0
    assert latest_checkpoint(folder).name == "checkpoint-0002.npz"
    resumed = tmp_path / "resumed.npz"
    assert (
        main(
            [
                *common,
                "--epochs",
                "5",
                "--resume",
                str(folder),
                "--checkpoint",
                str(folder),
                "-o",
                str(resumed),
            ]
        )
        == 0
    )
    assert latest_checkpoint(folder).name == "checkpoint-0005.npz"
    a, b = load_model(tmp_path / "straight.npz"), load_model(resumed)
    np.testing.assert_array_equal(a.network.flat_params, b.network.flat_params)
    assert b.info["epochs"] == 5
    capsys.readouterr()
    assert main([*common, "--epochs", "5", "--hidden", "9", "--resume", str(folder)]) == 2
    assert "another architecture" in capsys.readouterr().err
    assert main([*common, "--epochs", "5", "--resume", str(folder)]) == 2
    assert "already trained 5 epochs" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main([*common, "--epochs", "5", "--resume", str(tmp_path / "empty")]) == 2
    assert "no checkpoint" in capsys.readouterr().err


def test_validation_fraction_cannot_be_resumed_exactly(saved, tmp_path):
    trainer = build(tmp_path / "v")
    trainer.validation_fraction = 0.2
    with pytest.raises(CheckpointError, match="validation_fraction=0.2.*validation_data"):
        resume(trainer, saved)
    assert trainer.epoch == 0
    with pytest.warns(UserWarning, match="validation_fraction"):
        resume(trainer, saved, strict=False)


def test_resuming_an_early_stopping_estimator_warns(tmp_path):
    from glassnet import MLPClassifier

    kw = {**eval(EST), "early_stopping": True, "validation_fraction": 0.2}  # noqa: S307
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MLPClassifier(max_iter=2, **kw).fit(X, y, callbacks=[ModelCheckpoint(tmp_path)])
    with pytest.warns(UserWarning, match="early_stopping=True"):
        est = resume_estimator(tmp_path)
    assert est.n_iter_ == 2


def test_checkpoints_written_while_processes_share_the_weights(tmp_path):
    trainer = build(tmp_path / "c", n_jobs=2)
    trainer.fit(X, y, epochs=3)  # checkpoints 1 and 2 are written inside the data-parallel session
    again = build(tmp_path / "x", n_jobs=2, every=0)
    resume(again, tmp_path / "c" / "checkpoint-0002.npz")
    again.fit(X, y, epochs=1)
    np.testing.assert_array_equal(again.net.flat_params, trainer.net.flat_params)


def test_metadata_that_is_not_an_object_is_a_checkpoint_error(tmp_path):
    import io
    import json

    path = tmp_path / "bad.npz"
    with zipfile.ZipFile(path, "w") as zf:
        buffer = io.BytesIO()
        np.save(buffer, np.frombuffer(json.dumps([1, 2, 3]).encode(), dtype=np.uint8))
        zf.writestr(checkpoint._META_KEY + ".npy", buffer.getvalue())
    with pytest.raises(CheckpointError, match="not a glassnet checkpoint"):
        load_checkpoint(path)
