"""Tests of the data set loaders (glassnet.data.datasets)."""

from pathlib import Path

import numpy as np
import pytest

from glassnet.data import DataError, DataNotFoundError, load_dataset, search_dirs, write_idx

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


def test_digits_split_is_seeded_and_scaled():
    a = load_dataset("digits", seed=3)
    b = load_dataset("digits", seed=3)
    c = load_dataset("digits", seed=4)
    assert a.X_train.shape == (1437, 64) and a.X_test.shape == (360, 64)
    assert a.X_train.dtype == np.float32 and 0.0 <= a.X_train.min() and a.X_train.max() <= 1.0
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.y_test, c.y_test)
    assert a.preprocessing == {
        "dataset": "digits", "n_features": 64, "image_shape": [8, 8], "scale": 16.0,
        "light_on_dark": True, "fit": "bbox", "box": 8,
    }  # fmt: skip


def _tiny_set(folder, n=6):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    write_idx(folder / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.arange(n, dtype=np.uint8) % 10)
    write_idx(folder / "t10k-images-idx3-ubyte", rng.integers(0, 256, (3, 28, 28), dtype=np.uint8))
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.arange(3, dtype=np.uint8))


def test_search_order_data_dir_then_env(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "env"))
    dirs = search_dirs("fashion-mnist", tmp_path / "cli")
    assert dirs[:4] == [
        tmp_path / "cli" / "fashion-mnist",
        tmp_path / "cli",
        tmp_path / "env" / "fashion-mnist",
        tmp_path / "env",
    ]
    assert dirs[-1] == DEBIAN_FASHION


def test_env_folder_is_used_and_plain_names_accepted(tmp_path, monkeypatch):
    _tiny_set(tmp_path / "env" / "mnist")
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "env"))
    data = load_dataset("mnist")
    assert data.X_train.shape == (6, 784) and data.X_test.shape == (3, 784)
    assert data.image_shape == (28, 28) and data.scale == 255.0
    assert data.class_names[3] == "3"


def test_missing_data_set_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "nothing"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(DataNotFoundError, match="glassnet data fetch mnist"):
        load_dataset("mnist")


def test_label_count_mismatch_is_reported(tmp_path):
    _tiny_set(tmp_path / "mnist")
    write_idx(tmp_path / "mnist" / "train-labels-idx1-ubyte.gz", np.zeros(5, dtype=np.uint8))
    with pytest.raises(DataError, match="6 images but .* 5 labels"):
        load_dataset("mnist", data_dir=tmp_path)


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_debian_fashion_mnist(tmp_path, monkeypatch):
    monkeypatch.delenv("GLASSNET_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    data = load_dataset("fashion-mnist")
    assert data.X_train.shape == (60000, 784) and data.X_test.shape == (10000, 784)
    assert data.class_names[9] == "Ankle boot"
    assert np.bincount(data.y_test).tolist() == [1000] * 10


def test_npz_with_images(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (40, 5, 5), dtype=np.uint8)
    y = np.array(["cat", "dog"] * 20)
    np.savez(tmp_path / "mine.npz", X=X, y=y)
    data = load_dataset(str(tmp_path / "mine.npz"), seed=0)
    assert data.image_shape == (5, 5) and data.scale == 255.0
    assert data.classes == ["cat", "dog"]
    assert data.X_train.shape == (32, 25) and data.X_test.shape == (8, 25)


def test_npz_presplit(tmp_path):
    np.savez(
        tmp_path / "s.npz",
        X_train=np.ones((4, 3)),
        y_train=[0, 1, 0, 1],
        X_test=np.zeros((2, 3)),
        y_test=[1, 2],
    )
    data = load_dataset(str(tmp_path / "s.npz"))
    assert data.classes == [0, 1, 2]
    assert data.y_test.tolist() == [1, 2]


def test_npz_without_arrays_is_a_clear_error(tmp_path):
    np.savez(tmp_path / "w.npz", A=np.ones(3))
    with pytest.raises(DataError, match="expected arrays 'X' and 'y'"):
        load_dataset(str(tmp_path / "w.npz"))


def test_csv_with_header_and_named_label(tmp_path):
    lines = ["a,b,species"] + [f"{i},{i * 2},{'x' if i % 2 else 'y'}" for i in range(20)]
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    data = load_dataset(str(tmp_path / "d.csv"), label_column="species")
    assert data.classes == ["x", "y"] and data.n_features == 2


def test_csv_without_header_uses_last_column(tmp_path):
    (tmp_path / "d.csv").write_text("".join(f"{i},{i % 3}\n" for i in range(30)))
    data = load_dataset(str(tmp_path / "d.csv"))
    assert data.classes == [0, 1, 2] and data.n_features == 1


def test_csv_bad_value_names_the_line(tmp_path):
    (tmp_path / "d.csv").write_text("1,0\n2,1\nfoo,bar,1\n")
    with pytest.raises(DataError, match="line 3"):
        load_dataset(str(tmp_path / "d.csv"))


def test_unknown_name():
    with pytest.raises(DataError, match="unknown data set 'cifar'"):
        load_dataset("cifar")


def test_npz_that_is_not_a_zip(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(DataError, match="cannot read as .npz"):
        load_dataset(str(tmp_path / "bad.npz"))
