"""`glassnet evaluate` scores the rows training held out; the help says what it should; `data fetch` finds
installed data (issue 11, items 8 and 12)."""

import hashlib
import json

import numpy as np
import pytest

from glassnet.cli import main
from glassnet.io import load_model, save_model
from glassnet.network import build_mlp


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def seed5(tmp_path_factory):
    """A digits model trained with --seed 5 (a split other than evaluate's old seed 0)."""
    folder = tmp_path_factory.mktemp("seed5")
    model = folder / "m.npz"
    code = main([
        "train", "--dataset", "digits", "--hidden", "16", "--epochs", "3", "--seed", "5", "--output",
        str(model), "--no-report", "--no-progress",
    ])  # fmt: skip
    assert code == 0
    return model


def test_evaluate_scores_the_rows_training_held_out(capsys, tmp_path, seed5):
    info = load_model(seed5).info
    assert info["split"]["seed"] == 5 and info["split"]["test_size"] == 0.2
    code, out, err = run(capsys, "evaluate", str(seed5), "--out", str(tmp_path), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["split_matches_training"] is True and result["notes"] == []
    assert result["n"] == 360 and result["accuracy"] == info["test_accuracy"]  # the very same rows
    code, out, err = run(capsys, "evaluate", str(seed5), "--out", str(tmp_path))
    assert code == 0 and "the 360 test rows training held out (seed 5" in out and err == ""


def test_evaluate_says_when_the_rows_are_not_trainings(capsys, tmp_path, seed5):
    code, out, err = run(capsys, "evaluate", str(seed5), "--out", str(tmp_path), "--seed", "0", "--json")
    assert code == 0
    assert "--seed 0 (training used 5)" in err and "may include rows the model was trained on" in err
    assert json.loads(out)["split_matches_training"] is False


def test_evaluate_old_model_file_says_what_it_scores(capsys, tmp_path):
    net = build_mlp([64, 10], seed=0)
    save_model(tmp_path / "old.npz", net, classes=list(range(10)), preprocessing={"dataset": "digits",
               "scale": 16.0})  # fmt: skip
    code, out, err = run(capsys, "evaluate", str(tmp_path / "old.npz"), "--out", str(tmp_path))
    assert code == 0
    assert "does not record how training split the data" in err and "seed 0 and test size 0.2" in err


def test_evaluate_changed_data_file_is_noticed(capsys, tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 4)), np.arange(60) % 2
    np.savez(tmp_path / "d.npz", X=X, y=y)
    code, _, err = run(capsys, "train", "--dataset", str(tmp_path / "d.npz"), "--hidden", "4", "--epochs", "2",
                       "--output", str(tmp_path / "m.npz"), "--no-report", "--no-progress")  # fmt: skip
    assert code == 0, err
    np.savez(tmp_path / "d.npz", X=X + 1.0, y=y)  # the file changed after training
    code, out, err = run(capsys, "evaluate", str(tmp_path / "m.npz"), "--out", str(tmp_path))
    assert code == 0 and "differ from those training held out" in err
    (tmp_path / "d.npz").rename(tmp_path / "moved.npz")
    code, out, err = run(capsys, "evaluate", str(tmp_path / "m.npz"), "--out", str(tmp_path))
    assert code == 1 and "pass --dataset with its path" in err


@pytest.mark.parametrize(
    "argv, present, absent",
    [
        (["compare"], "(20% test split)", "%%"),
        (["data"], "glassnet data fetch NAME", "``"),
        (["evaluate"], "the data set the model was trained on", "(default: None)"),
    ],
)
def test_help_texts(capsys, argv, present, absent):
    code, out, _ = run(capsys, *argv, "--help")
    flat = " ".join(out.split())
    assert code == 0 and present in flat and absent not in flat


def test_help_states_defaults(capsys):
    code, out, _ = run(capsys, "train", "--help")
    flat = " ".join(out.split())
    assert "validation fraction of the training data; 0 = none (default 0.1; with --recipe 0" in flat
    assert "compute type (default float32, or --recipe's)" in flat


@pytest.mark.parametrize(
    "argv, points_to",
    [
        (["train", "--bogus"], "glassnet train --help"),
        (["evaluate", "m.npz", "--bogus"], "glassnet evaluate --help"),
        (["data", "fetch", "mnist", "--bogus"], "glassnet data fetch --help"),
        (["--bogus"], "glassnet --help"),
    ],
)
def test_unknown_option_points_to_the_commands_help(capsys, argv, points_to):
    code, _, err = run(capsys, *argv)
    assert code == 2 and "unrecognized arguments: --bogus" in err and f"(see `{points_to}`)" in err


@pytest.fixture
def installed_mnist(tmp_path, monkeypatch):
    """A tiny MNIST in $GLASSNET_DATA/mnist, with the published checksums replaced by its own."""
    from glassnet.data import SOURCES, DataSource, FileSpec, write_idx
    from glassnet.data import sources as sources_module

    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    specs = []
    for name, shape in [("train-images-idx3-ubyte.gz", (6, 28, 28)), ("train-labels-idx1-ubyte.gz", (6,)),
                        ("t10k-images-idx3-ubyte.gz", (3, 28, 28)), ("t10k-labels-idx1-ubyte.gz", (3,))]:  # fmt: skip
        write_idx(folder / name, rng.integers(0, 10, shape, dtype=np.uint8))
        specs.append(FileSpec(name, md5=hashlib.md5((folder / name).read_bytes()).hexdigest()))
    source = DataSource("mnist", ("http://127.0.0.1:9/never/",), *specs, SOURCES["mnist"].class_names)
    monkeypatch.setitem(sources_module.SOURCES, "mnist", source)
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return folder


def test_data_fetch_finds_the_installed_copy(capsys, installed_mnist, monkeypatch):
    import glassnet.data

    monkeypatch.setattr(glassnet.data, "fetch", lambda *a, **k: pytest.fail("downloaded although installed"))
    code, out, err = run(capsys, "data", "fetch", "mnist")
    assert code == 0, err
    assert f"already installed in {installed_mnist}" in out and "nothing downloaded" in out


def test_data_fetch_replaces_a_corrupt_installed_copy(capsys, installed_mnist, monkeypatch):
    import glassnet.data

    (installed_mnist / "t10k-labels-idx1-ubyte.gz").write_bytes(b"broken")
    calls = []
    monkeypatch.setattr(glassnet.data, "fetch", lambda *a, **k: calls.append(a) or installed_mnist)
    code, out, err = run(capsys, "data", "fetch", "mnist", "--no-progress")
    assert code == 0 and calls and "checksum mismatch" in err and "downloading a fresh copy" in err
