"""``glassnet train``'s options for the accuracy techniques of issue 24: distortions and weight averaging."""

import numpy as np

from glassnet.cli import main
from glassnet.io import load_model


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _train(capsys, path, *options):
    code, out, err = run(
        capsys, "train", "--dataset", "digits", "--hidden", "16", "--epochs", "2", "--seed", "0",
        "--output", str(path), "--no-report", "--no-progress", "--jobs", "1", *options,
    )  # fmt: skip
    assert code == 0, err
    return load_model(path)


def test_train_with_distortions_and_averaging(capsys, tmp_path):
    options = (
        "--augment-rotation", "10", "--augment-scale", "0.1", "--augment-noise", "0.05", "--augment-elastic", "0.2",
        "--augment-translation", "0.5", "--weight-averaging", "swa", "--averaging-start", "0.5",
    )  # fmt: skip
    a = _train(capsys, tmp_path / "a.npz", *options)
    b = _train(capsys, tmp_path / "b.npz", *options)
    plain = _train(capsys, tmp_path / "plain.npz")
    assert a.info["augment_rotation"] == 10.0 and a.info["augment_scale"] == 0.1
    assert a.info["augment_noise"] == 0.05 and a.info["weight_averaging"] == "swa"
    assert a.info["augment_elastic"] == 0.2 and a.info["augment_translation"] == 0.5
    np.testing.assert_array_equal(a.network.flat_params, b.network.flat_params)  # seeded
    assert not np.array_equal(a.network.flat_params, plain.network.flat_params)


def test_train_refuses_bad_distortions(capsys):
    code, out, err = run(capsys, "train", "--dataset", "digits", "--augment-rotation", "200")
    assert code == 2 and "--augment-rotation" in err
    code, out, err = run(capsys, "train", "--dataset", "digits", "--augment-translation", "-1")
    assert code == 2 and "--augment-translation" in err
    code, out, err = run(capsys, "train", "--dataset", "digits", "--weight-averaging", "mean")
    assert code == 2 and "--weight-averaging" in err
