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


def test_train_with_test_time_rotations_records_them_for_predict_and_evaluate(capsys, tmp_path):
    from glassnet.cli._model import class_probabilities
    from glassnet.data import load_dataset
    from glassnet.training.augment import average_over_rotations

    model = _train(capsys, tmp_path / "tta.npz", "--test-time-rotations=-10,0,10")
    plain = _train(capsys, tmp_path / "plain.npz")
    np.testing.assert_array_equal(model.network.flat_params, plain.network.flat_params)  # training unchanged
    assert model.preprocessing["test_time_rotations"] == [-10.0, 0.0, 10.0]
    assert model.info["test_time_rotations"] == [-10.0, 0.0, 10.0]
    X = np.asarray(load_dataset("digits", seed=0).X_test[:20], dtype=np.float32)
    expected = average_over_rotations(model.network.predict_proba, X, [-10, 0, 10], (8, 8))
    np.testing.assert_allclose(class_probabilities(model, X), expected, rtol=1e-6)
    assert not np.allclose(class_probabilities(plain, X), expected)
    code, out, err = run(capsys, "evaluate", str(tmp_path / "tta.npz"), "--dataset", "digits", "--seed", "0")
    assert code == 0, err
    assert f"{model.info['test_accuracy']:.4f}" in out  # evaluate scores the held-out rows as train did


def test_train_refuses_bad_distortions(capsys):
    code, out, err = run(capsys, "train", "--dataset", "digits", "--augment-rotation", "200")
    assert code == 2 and "--augment-rotation" in err
    code, out, err = run(capsys, "train", "--dataset", "digits", "--augment-translation", "-1")
    assert code == 2 and "--augment-translation" in err
    code, out, err = run(capsys, "train", "--dataset", "digits", "--test-time-rotations=5,x")
    assert code == 2 and "--test-time-rotations" in err
    code, out, err = run(capsys, "train", "--dataset", "digits", "--weight-averaging", "mean")
    assert code == 2 and "--weight-averaging" in err
