"""The command line keeps its promises (issue 20, items 3 and 13): standardised features, binary estimator files,
thin strokes, the input a picture became, and small things (--top, evaluate --out, export -o)."""

import json

import numpy as np
import pytest

from glassnet.cli import main
from glassnet.io import load_model


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("digits") / "m.npz"
    argv = ["train", "--hidden", "16", "--epochs", "3", "--no-report", "--no-progress", "-o", str(path)]
    assert main(argv) == 0
    return path


@pytest.fixture(scope="module")
def cancer_csv(tmp_path_factory):
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    path = tmp_path_factory.mktemp("cancer") / "cancer.csv"
    header = ",".join(f"f{j}" for j in range(X.shape[1])) + ",label"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header=header, comments="", fmt="%.6g")
    return path, X


# --- --standardize --------------------------------------------------------------------------------------------


def test_unscaled_features_get_a_hint(capsys, tmp_path, cancer_csv):
    path, _ = cancer_csv
    code, _, err = run(capsys, "train", "--dataset", str(path), "--hidden", "8", "--epochs", "2", "--no-report",
                       "--no-progress", "-o", str(tmp_path / "raw.npz"))  # fmt: skip
    assert code == 0 and "far from unit scale" in err and "--standardize" in err
    assert not load_model(tmp_path / "raw.npz").info["standardize"]


def test_standardize_is_stored_and_applied_by_evaluate_and_predict(capsys, tmp_path, cancer_csv):
    from sklearn.preprocessing import StandardScaler

    path, X = cancer_csv
    out = tmp_path / "std.npz"
    code, _, err = run(capsys, "train", "--dataset", str(path), "--standardize", "--hidden", "8", "--epochs", "20",
                       "--no-report", "--no-progress", "-o", str(out))  # fmt: skip
    assert code == 0 and "far from unit scale" not in err
    model = load_model(out)
    spec = model.preprocessing["standardize"]
    assert model.info["standardize"] and len(spec["mean"]) == len(spec["scale"]) == 30
    assert model.info["test_accuracy"] > 0.9  # raw features give about 0.6 in 20 epochs of this small network
    # evaluate scores the held-out rows as train did: the same standardisation applied
    code, text, err = run(capsys, "evaluate", str(out), "--json", "--out", str(tmp_path / "ev"))
    assert code == 0, err
    assert json.loads(text)["accuracy"] == pytest.approx(model.info["test_accuracy"])
    # predict applies it to raw rows too
    np.save(tmp_path / "rows.npy", X[:5])
    code, text, err = run(capsys, "predict", str(out), str(tmp_path / "rows.npy"), "--json")
    assert code == 0, err
    scaler = StandardScaler().fit(np.asarray(X[:1]).repeat(2, 0))  # only to get the class; numbers set below
    scaler.mean_, scaler.scale_ = np.array(spec["mean"]), np.array(spec["scale"])
    expected = model.network.predict_proba(scaler.transform(X[:5]).astype(np.float32))
    got = [
        [t["probability"] for t in sorted(r["top"], key=lambda t: str(t["label"]))] for r in json.loads(text)
    ]
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_export_folds_the_standardisation_into_the_graph(capsys, tmp_path, cancer_csv):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    path, X = cancer_csv
    out = tmp_path / "std.npz"
    assert main(["train", "--dataset", str(path), "--standardize", "--hidden", "8", "--epochs", "2",
                 "--no-report", "--no-progress", "-o", str(out)]) == 0  # fmt: skip
    code, _, err = run(capsys, "export", str(out), "-o", str(tmp_path / "m.onnx"))
    assert code == 0, err
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    rows = X[:7].astype(np.float32)
    (proba,) = session.run(["probabilities"], {"X": rows})
    model = load_model(out)
    from glassnet.cli._model import class_probabilities

    np.testing.assert_allclose(proba, class_probabilities(model, rows), rtol=1e-4, atol=1e-6)


# --- binary estimators ----------------------------------------------------------------------------------------


def test_predict_and_evaluate_a_binary_estimator_file(capsys, tmp_path):
    from glassnet import MLPClassifier
    from glassnet.io import save_estimator

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4))
    y = np.where(X[:, 0] > 0, "yes", "no")
    est = MLPClassifier(hidden_layer_sizes=(5,), max_iter=300, tol=1e-2, random_state=0).fit(X, y)
    save_estimator(tmp_path / "bin.npz", est)
    np.save(tmp_path / "rows.npy", X[:4])
    code, text, err = run(capsys, "predict", str(tmp_path / "bin.npz"), str(tmp_path / "rows.npy"), "--json")
    assert code == 0, err
    results = json.loads(text)
    assert [r["label"] for r in results] == list(est.predict(X[:4]))
    expected = est.predict_proba(X[:4])
    for r, p in zip(results, expected, strict=True):
        shown = {t["label"]: t["probability"] for t in r["top"]}
        assert shown["no"] == pytest.approx(p[0], rel=1e-5) and shown["yes"] == pytest.approx(p[1], rel=1e-5)


# --- pictures: thin strokes and the input shown ----------------------------------------------------------------


def _drawing(width: int, size: int = 280) -> np.ndarray:
    """A hand-drawn "1": a slanted line of ``width`` pixels, dark on white, as grey levels in [0, 1]."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (size, size), 255)
    ImageDraw.Draw(image).line([(150, 40), (130, 240)], fill=0, width=width)
    return np.asarray(image, dtype=np.float64) / 255.0


@pytest.mark.parametrize("width", [2, 4, 30])
def test_thin_and_thick_strokes_give_the_digits_ink(width):
    from glassnet.data.images import DIGITS_INK_SHARE, image_to_row

    pre = {"image_shape": [8, 8], "scale": 16.0, "light_on_dark": True, "fit": "bbox", "box": 8}
    counts = image_to_row(_drawing(width), pre).reshape(8, 8) * 16  # inked pixels of each 4x4 block
    assert np.allclose(counts, np.round(counts))  # counts of a 32x32 bitmap, as the data set's
    ink = counts.sum() / 1024
    assert DIGITS_INK_SHARE <= ink < DIGITS_INK_SHARE + 0.1  # a one-pixel line would hold about 0.04
    assert (counts.max(axis=1) == 16).sum() >= 6  # a solid stroke from top to bottom, not a faint line


def test_the_data_sets_own_digits_read_back_as_they_are():
    from PIL import Image
    from sklearn.datasets import load_digits

    from glassnet.data.images import image_to_row

    pre = {"image_shape": [8, 8], "scale": 16.0, "light_on_dark": True, "fit": "bbox", "box": 8}
    digits = load_digits()
    for k in range(0, 200, 20):
        big = Image.fromarray((255 - digits.images[k] * 255 / 16).astype(np.uint8)).resize((256, 256))
        row = image_to_row(np.asarray(big, dtype=np.float64) / 255, pre)
        assert np.corrcoef(row, digits.data[k] / 16)[0, 1] > 0.8, k


def test_predict_shows_and_saves_the_input_it_built(capsys, tmp_path, digits_model):
    from PIL import Image

    picture = tmp_path / "one.png"
    Image.fromarray(np.round(_drawing(3) * 255).astype(np.uint8)).save(picture)
    code, text, err = run(capsys, "predict", str(digits_model), str(picture), "--show-input",
                          "--save-input", str(tmp_path / "seen"))  # fmt: skip
    assert code == 0, err
    grid = [line.split() for line in text.splitlines() if line.strip() and ":" not in line]
    assert len(grid) == 8 and all(len(line) == 8 for line in grid)
    values = np.array(grid, dtype=int)
    assert values.min() == 0 and values.max() == 16
    with Image.open(tmp_path / "seen" / "one-input.png") as saved:
        assert saved.size == (160, 160)
    code, text, _ = run(capsys, "predict", str(digits_model), str(picture), "--show-input", "--json")
    assert len(json.loads(text)[0]["model_input"]) == 64


# --- small things ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("top", ["0", "-5"])
def test_predict_top_must_be_positive(capsys, tmp_path, digits_model, top):
    np.save(tmp_path / "row.npy", np.zeros(64))
    code, _, err = run(capsys, "predict", str(digits_model), str(tmp_path / "row.npy"), "--top", top)
    assert code == 2 and "expected a positive integer" in err


def test_evaluate_out_that_is_a_file(capsys, tmp_path, digits_model):
    (tmp_path / "taken").write_text("mine")
    code, _, err = run(capsys, "evaluate", str(digits_model), "--out", str(tmp_path / "taken"))
    assert code == 2 and "is a file, not a folder" in err and "Errno" not in err
    assert (tmp_path / "taken").read_text() == "mine"


def test_export_to_a_read_only_folder_names_the_output(capsys, tmp_path, digits_model, monkeypatch):
    pytest.importorskip("onnx")
    import errno
    import os

    import glassnet._files as files

    folder = tmp_path / "ro"
    folder.mkdir()
    real_open = os.open

    def refuse(path, *args, **kwargs):  # a read-only folder, also for root (who may write anywhere)
        if os.path.dirname(os.fspath(path)) == str(folder):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(files.os, "open", refuse)
    code, _, err = run(capsys, "export", str(digits_model), "-o", str(folder / "m.onnx"))
    assert code == 1 and f"cannot write {folder / 'm.onnx'}" in err
    assert ".tmp" not in err and "Permission denied" in err


# --- the report folder and train --recipe (item 4) -------------------------------------------------------------


def _tiny_results(data, shorts):
    from glassnet.cli._training import ModelResult

    rng = np.random.default_rng(0)
    results = []
    for short in shorts:
        proba = rng.dirichlet(np.ones(len(data.classes)), size=len(data.y_test))
        results.append(ModelResult(f"model {short}", short, 0.5, 0.1, 2, 0.3, [0.9, 0.3], proba.argmax(1), proba,
                                   rng.normal(size=(4, data.n_features))))  # fmt: skip
    return results


def test_a_reused_report_folder_drops_the_previous_runs_pictures_only(tmp_path):
    from glassnet.cli._report import write_results_report
    from glassnet.data import load_digits

    data = load_digits(test_size=0.1, seed=0)
    out = tmp_path / "report"
    out.mkdir()
    (out / "holiday.png").write_bytes(b"the user's own picture")
    (out / "notes.txt").write_text("mine")
    write_results_report(out, data, _tiny_results(data, "AB"), title="t", intro="i", n_grid=4)
    assert (out / "misclassified_b.png").is_file() and (out / "first_layer_b-narrow.png").is_file()
    write_results_report(out, data, _tiny_results(data, "A"), title="t", intro="i", n_grid=4)
    names = {p.name for p in out.iterdir()}
    assert not any(name.endswith(("_b.png", "_b-narrow.png")) for name in names)  # B's pictures are gone
    assert {
        "misclassified_a.png",
        "report.html",
        "holiday.png",
        "notes.txt",
    } <= names  # A's and the user's stay


def test_a_tampered_report_list_removes_nothing_outside(tmp_path):
    from glassnet.cli._report import MANIFEST, _replace_manifest

    outside = tmp_path / "keep.png"
    outside.write_bytes(b"x")
    out = tmp_path / "report"
    out.mkdir()
    (out / "keep.html").write_text("x")
    (out / MANIFEST).write_text(json.dumps({"files": ["../keep.png", str(outside), "keep.html", MANIFEST]}))
    _replace_manifest(out, {"keep.html"})
    assert outside.exists() and (out / "keep.html").exists()
    assert json.loads((out / MANIFEST).read_text())["files"] == ["keep.html"]


def test_train_recipe_trains_as_compare_does(capsys, tmp_path):
    from glassnet.cli import recipes
    from glassnet.data import load_digits

    out = tmp_path / "recipe.npz"
    code, _, err = run(capsys, "train", "--recipe", "digits", "--epochs", "2", "--no-report", "--no-progress",
                       "-o", str(out))  # fmt: skip
    assert code == 0 and "training on all 1437 training rows, as the recipe's estimator" in err
    data = load_digits(test_size=0.2, seed=0)
    estimator = recipes.recommended_estimator(0, epochs_scale=0.02)  # compare --quick's B: 2 epochs
    estimator.fit(data.X_train, data.y_train)
    model = load_model(out)
    np.testing.assert_array_equal(model.network.parameters()["layers.0.W"], estimator.coefs_[0].T)
    assert model.info["validation_split"] == 0.0
    # asked for, the validation rows are held out as before
    code, _, err = run(capsys, "train", "--recipe", "digits", "--epochs", "1", "--validation-split", "0.1",
                       "--no-report", "--no-progress", "-o", str(tmp_path / "v.npz"))  # fmt: skip
    assert code == 0 and "training on all" not in err
    assert load_model(tmp_path / "v.npz").info["validation_split"] == 0.1
