"""Tests of the `glassnet` command: in-process `main([...])`, plus one subprocess run of `python -m glassnet`."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from glassnet.cli import main
from glassnet.io import load_model, save_model
from glassnet.network import build_mlp
from glassnet.report.browser import check_report, find_chromium

COMMANDS = ["compare", "train", "evaluate", "predict", "data", "bench"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_python_dash_m_help():
    done = subprocess.run(
        [sys.executable, "-m", "glassnet", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    for command in COMMANDS:
        assert command in done.stdout


@pytest.mark.parametrize("command", [*COMMANDS, "data fetch", "data info"])
def test_every_subcommand_has_help(capsys, command):
    code, out, _ = run(capsys, *command.split(), "--help")
    assert code == 0 and "usage: glassnet" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["compare", "--bogus"], "unrecognized arguments: --bogus"),
        (["train", "--epochs", "0"], "expected a positive integer"),
        (["compare", "--models", "lab,nope"], "unknown model(s) ['nope']"),
        (["train", "--hidden", "a,b"], "expected sizes like 256,128"),
    ],
)
def test_bad_usage_is_one_line_exit_2(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("glassnet: error: ") and message in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["evaluate", "/nonexistent/model.npz"], "model file not found"),
        (["train", "--dataset", "/nonexistent/data.csv"], "data file not found"),
        (["train", "--dataset", "cifar"], "unknown data set 'cifar'"),
    ],
)
def test_errors_are_one_line_exit_1(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 1
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_missing_image_data_set_says_how_to_get_it(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    code, _, err = run(capsys, "train", "--dataset", "mnist")
    assert code == 1 and "glassnet data fetch mnist" in err


def test_debug_shows_the_traceback(capsys):
    with pytest.raises(FileNotFoundError):
        main(["--debug", "evaluate", "/nonexistent/model.npz"])


def test_bench_forwards_or_says_it_is_missing(capsys, monkeypatch):
    import types

    seen = []
    fake = types.ModuleType("glassnet.bench.speed")
    fake.main = lambda argv: seen.append(argv) or 0
    monkeypatch.setitem(sys.modules, "glassnet.bench.speed", fake)
    code, _, _ = run(capsys, "bench", "speed", "--sizes", "64", "-n", "3")
    assert code == 0 and seen == [["--sizes", "64", "-n", "3"]]
    monkeypatch.setitem(sys.modules, "glassnet.bench.accuracy", None)  # import fails as if absent
    code, _, err = run(capsys, "bench", "accuracy")
    assert code != 0 and err.count("\n") == 1


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """`glassnet compare --quick` with its progress bars (module scope: run once for the tests below)."""
    import contextlib
    import io

    out = tmp_path_factory.mktemp("compare") / "report"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["compare", "--quick", "--out", str(out), "--grid", "8"])
    assert code == 0, stderr.getvalue()
    return out, stdout.getvalue(), stderr.getvalue()


def test_compare_quick_writes_table_and_report(compared):
    out, stdout, err = compared
    for name in [
        "glassnet, lab recipe",
        "glassnet, recommended",
        "scikit-learn, lab settings",
        "scikit-learn, defaults",
    ]:
        assert name in stdout
    assert "test accuracy" in stdout and "final loss" in stdout
    names = {p.name for p in out.iterdir()}
    assert {
        "report.html",
        "loss_curves.png",
        "predictions.png",
        "confusion_a.png",
        "misclassified_d.png",
    } <= names
    assert "first_layer_a.png" in names and "first_layer_c.png" in names
    assert "A glassnet, lab recipe" in err  # progress on stderr
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 12


@pytest.mark.browser
@pytest.mark.skipif(
    find_chromium() is None, reason="headless Chromium not installed (apt-get install chromium)"
)
def test_compare_report_renders_in_chromium(compared, tmp_path):
    """Open the real report in headless Chromium: every image must load; keep a screenshot."""
    import os
    import shutil

    out, _, _ = compared
    result = check_report(out / "report.html", screenshot=tmp_path / "compare-report.png")
    assert result.title.startswith("glassnet compare")
    assert result.images >= 12 and result.loaded == result.images
    assert result.screenshot.stat().st_size > 10_000
    keep = os.environ.get("GLASSNET_SCREENSHOT_DIR")  # CI keeps the screenshot as an artifact
    if keep:
        os.makedirs(keep, exist_ok=True)
        shutil.copy(result.screenshot, keep)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small digits model trained through `glassnet train` (module scope: trained once)."""
    folder = tmp_path_factory.mktemp("train")
    model = folder / "digits.npz"
    code = main([
        "train", "--dataset", "digits", "--hidden", "32", "--epochs", "15", "--output", str(model),
        "--report", str(folder / "report"), "--no-progress", "--seed", "1",
    ])  # fmt: skip
    assert code == 0
    return model


def test_train_writes_model_and_report(trained):
    model = load_model(trained)
    assert model.preprocessing["dataset"] == "digits" and model.preprocessing["scale"] == 16.0
    assert model.classes == list(range(10)) and model.info["epochs"] == 15
    assert model.info["test_accuracy"] > 0.8
    assert (trained.parent / "report" / "report.html").is_file()


def test_train_user_csv(capsys, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = np.where(X[:, 0] > 0, "yes", "no")
    lines = ["a,b,c,answer"] + [f"{r[0]},{r[1]},{r[2]},{t}" for r, t in zip(X, y, strict=True)]
    (tmp_path / "d.csv").write_text("\n".join(lines))
    code, out, err = run(
        capsys, "train", "--dataset", str(tmp_path / "d.csv"), "--label-column", "answer", "--hidden", "8",
        "--epochs", "5", "--output", str(tmp_path / "m.npz"), "--no-report", "--no-progress",
    )  # fmt: skip
    assert code == 0, err
    assert load_model(tmp_path / "m.npz").classes == ["no", "yes"]


def test_train_recipe_and_accuracy_options(capsys, tmp_path):
    code, out, err = run(
        capsys, "train", "--dataset", "digits", "--recipe", "digits", "--epochs", "3", "--hidden", "32",
        "--output", str(tmp_path / "r.npz"), "--no-report", "--no-progress",
    )  # fmt: skip
    assert code == 0, err
    info = load_model(tmp_path / "r.npz").info
    # the recipe's settings, with the explicit options winning
    assert info["recipe"] == "digits" and info["label_smoothing"] == 0.1 and info["schedule"] == "cosine"
    assert info["hidden"] == [32] and info["epochs"] == 3 and info["lr"] == 3e-3
    code, out, err = run(
        capsys, "train", "--dataset", "digits", "--hidden", "16", "--epochs", "2", "--batch-norm",
        "--augment-shift", "1", "--label-smoothing", "0.2", "--schedule", "cosine",
        "--output", str(tmp_path / "b.npz"), "--no-report", "--no-progress",
    )  # fmt: skip
    assert code == 0, err
    model = load_model(tmp_path / "b.npz")
    assert model.info["batch_norm"] and model.info["augment_shift"] == 1
    assert "BatchNorm" in [layer["type"] for layer in model.network.get_config()["layers"]]
    code, out, err = run(capsys, "train", "--dataset", "digits", "--augment-shift", "-1")
    assert code == 2 and "--augment-shift" in err


def test_train_recipe_sets_the_compute_type_unless_dtype_is_given(capsys, tmp_path, monkeypatch):
    """``--recipe`` trains in the recipe's ``dtype`` (its estimator's), ``--dtype`` wins."""
    import dataclasses

    from glassnet import recipes

    float64 = dataclasses.replace(recipes.RECIPES["digits"], params={**recipes.RECIPES["digits"].params,
                                                                     "dtype": "float64"})  # fmt: skip
    monkeypatch.setitem(recipes.RECIPES, "digits", float64)
    common = ("train", "--dataset", "digits", "--recipe", "digits", "--epochs", "1", "--hidden", "8",
              "--no-report", "--no-progress")  # fmt: skip
    code, _, err = run(capsys, *common, "--output", str(tmp_path / "a.npz"))
    assert code == 0, err
    assert load_model(tmp_path / "a.npz").network.dtype == np.float64
    code, _, err = run(capsys, *common, "--dtype", "float32", "--output", str(tmp_path / "b.npz"))
    assert code == 0, err
    assert load_model(tmp_path / "b.npz").network.dtype == np.float32


def test_train_with_two_processes_matches_one(capsys, tmp_path):
    """--jobs 2 trains data-parallel; the saved weights equal the one-process ones to float32 rounding."""
    from glassnet import parallel
    from glassnet.network import build_mlp
    from glassnet.optim import SGD

    if parallel.unsupported_reason(build_mlp([2, 2]), SGD()) is not None:
        pytest.skip("no data parallelism on this platform")
    weights = []
    for jobs in ("1", "2"):
        code, out, err = run(
            capsys, "train", "--dataset", "digits", "--hidden", "16", "--epochs", "3", "--jobs", jobs,
            "--output", str(tmp_path / f"j{jobs}.npz"), "--no-report", "--no-progress",
        )  # fmt: skip
        assert code == 0, err
        weights.append(load_model(tmp_path / f"j{jobs}.npz").network.flat_params)
    np.testing.assert_allclose(weights[1], weights[0], rtol=1e-3, atol=1e-4)
    code, out, err = run(capsys, "train", "--dataset", "digits", "--jobs", "0", "--no-report")
    assert code != 0 and "--jobs must be a positive number of processes, or -1" in err


def test_train_ctrl_c_saves_what_was_trained(capsys, tmp_path, monkeypatch):
    from glassnet.cli import _training

    original = _training.TqdmProgress.on_epoch_end

    def interrupt(self, trainer, epoch, logs):
        original(self, trainer, epoch, logs)
        if epoch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(_training.TqdmProgress, "on_epoch_end", interrupt)
    code, out, err = run(
        capsys, "train", "--hidden", "8", "--epochs", "50", "--output", str(tmp_path / "m.npz"), "--no-report",
    )  # fmt: skip
    assert code == 130
    assert "interrupted" in err
    assert load_model(tmp_path / "m.npz").info["interrupted"] is True


def test_evaluate(capsys, tmp_path, trained):
    code, out, err = run(capsys, "evaluate", str(trained), "--out", str(tmp_path), "--seed", "1")
    assert code == 0, err
    assert "accuracy" in out and "precision" in out and "recall" in out
    assert (tmp_path / "confusion.png").read_bytes()[:4] == b"\x89PNG"
    code, out, _ = run(capsys, "evaluate", str(trained), "--out", str(tmp_path), "--json", "--seed", "1")
    result = json.loads(out)
    assert result["n"] == 360 and 0.8 < result["accuracy"] <= 1.0


def test_evaluate_on_other_data_is_refused(capsys, tmp_path, trained):
    np.savez(tmp_path / "other.npz", X=np.zeros((20, 10)), y=np.arange(20) % 2)
    code, _, err = run(capsys, "evaluate", str(trained), "--dataset", str(tmp_path / "other.npz"))
    assert code == 1 and "expects 64 features (trained on digits)" in err
    np.savez(tmp_path / "same.npz", X=np.zeros((20, 64)), y=np.arange(20) % 2)
    code, _, err = run(capsys, "evaluate", str(trained), "--dataset", str(tmp_path / "same.npz"))
    assert code == 1 and "trained on digits, not on same.npz" in err


def test_evaluate_corrupt_model(capsys, tmp_path, trained):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(trained.read_bytes()[:500])
    code, _, err = run(capsys, "evaluate", str(bad))
    assert code == 1 and "truncated or corrupt" in err and err.count("\n") == 1


def test_predict_rows_and_json(capsys, tmp_path, trained):
    from sklearn.datasets import load_digits

    digits = load_digits()
    np.save(tmp_path / "rows.npy", digits.data[:5])  # raw units 0..16
    code, out, err = run(capsys, "predict", str(trained), str(tmp_path / "rows.npy"), "--json")
    assert code == 0, err
    results = json.loads(out)
    assert len(results) == 5 and len(results[0]["top"]) == 3
    assert sum(r["label"] == t for r, t in zip(results, digits.target[:5], strict=True)) >= 4
    probs = [t["probability"] for t in results[0]["top"]]
    assert probs == sorted(probs, reverse=True)
    (tmp_path / "rows.csv").write_text("\n".join(",".join(str(v) for v in row) for row in digits.data[:2]))
    code, out, _ = run(capsys, "predict", str(trained), str(tmp_path / "rows.csv"))
    assert code == 0 and out.count("\n") == 2


def _digit_picture(digit_image, dark_on_light, size=64):
    from PIL import Image

    x = (digit_image / 16.0 * 255).astype(np.uint8)  # ink high
    if dark_on_light:
        x = 255 - x
    pad = np.full((12, 12), 255 if dark_on_light else 0, dtype=np.uint8)
    pad[2:10, 2:10] = x
    return Image.fromarray(pad).resize((size, size), Image.Resampling.NEAREST)


@pytest.mark.parametrize("dark_on_light", [False, True])
def test_predict_png_either_polarity(capsys, tmp_path, trained, dark_on_light):
    from sklearn.datasets import load_digits

    digits = load_digits()
    paths = []
    for i in range(10):
        path = tmp_path / f"digit{i}.png"
        _digit_picture(digits.images[i], dark_on_light).save(path)
        paths.append(str(path))
    code, out, err = run(capsys, "predict", str(trained), *paths, "--json")
    assert code == 0, err
    labels = [r["label"] for r in json.loads(out)]
    assert sum(lab == t for lab, t in zip(labels, digits.target[:10], strict=True)) >= 7, labels


def test_predict_rgba_jpeg_and_bad_image(capsys, tmp_path, trained):
    from PIL import Image

    rgba = Image.new("RGBA", (30, 30), (0, 0, 0, 0))
    rgba.paste((0, 0, 0, 255), (12, 3, 18, 27))  # an opaque black bar on a transparent background: a "1"
    rgba.save(tmp_path / "one.png")
    Image.new("RGB", (40, 40), "white").save(tmp_path / "white.jpg")
    code, out, err = run(
        capsys, "predict", str(trained), str(tmp_path / "one.png"), str(tmp_path / "white.jpg")
    )
    assert code == 0, err
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    code, _, err = run(capsys, "predict", str(trained), str(tmp_path / "broken.png"))
    assert code == 1 and "cannot decode image" in err and err.count("\n") == 1
    code, _, err = run(capsys, "predict", str(trained), str(tmp_path / "missing.png"))
    assert code == 1 and "missing.png" in err


def test_predict_wrong_row_length(capsys, tmp_path, trained):
    np.save(tmp_path / "short.npy", np.zeros(10))
    code, _, err = run(capsys, "predict", str(trained), str(tmp_path / "short.npy"))
    assert code == 1 and "expects 64" in err


def test_data_info(capsys):
    code, out, _ = run(capsys, "data", "info")
    assert code == 0 and "fashion-mnist" in out and "mnist" in out


def test_model_file_from_the_api_works_with_predict(capsys, tmp_path):
    net = build_mlp([4, 3], seed=0)
    save_model(tmp_path / "m.npz", net, classes=["a", "b", "c"], preprocessing={"scale": 1.0})
    np.save(tmp_path / "x.npy", np.ones((2, 4)))
    code, out, _ = run(capsys, "predict", str(tmp_path / "m.npz"), str(tmp_path / "x.npy"))
    assert code == 0 and out.count("\n") == 2


def test_compare_lab_step_diverges_and_is_rerun(capsys, tmp_path):
    """The lab's summed-gradient step (14.37 on the mean gradient) diverges; compare says so and reruns."""
    code, out, err = run(
        capsys, "compare", "--models", "lab", "--epochs-scale", "0.004", "--out", str(tmp_path), "--grid", "4",
        "--no-progress",
    )  # fmt: skip
    assert code == 0, err
    assert "diverged in epoch" in out and "reran with step 1" in out


def lines(err: str) -> list[str]:
    """The terminal lines as a person would see them: each carriage return redraws its line."""
    return [line.split("\r")[-1] for line in err.split("\n")]


def test_compare_diverged_attempt_leaves_no_dead_bar(compared):
    _, _, err = compared
    shown = [line.strip() for line in lines(err) if line.strip()]
    diverged = [i for i, line in enumerate(shown) if "diverged in epoch" in line]
    assert len(diverged) == 1, shown
    line = shown[diverged[0]]
    assert re.match(r"A glassnet, lab recipe: diverged in epoch \d+ with the lab's step", line)
    assert "retrying with the mean-gradient step 1" in line
    # the first attempt's bar was erased: the line before says what the run is, the one after is the retry
    assert "%|" not in shown[diverged[0] - 1]
    assert re.search(r"A glassnet, lab recipe: 100%\|.*\| 100/100", shown[diverged[0] + 1])


@pytest.mark.parametrize(
    "model, epochs", [("A glassnet, lab recipe", "100/100"), ("B glassnet, recommended", "2/2"),
                      ("C scikit-learn, lab settings", "20/20"), ("D scikit-learn, defaults", "4/4")],
)  # fmt: skip
def test_compare_every_bar_counts_epochs_with_time_left(compared, model, epochs):
    _, _, err = compared
    final = [line for line in lines(err) if line.startswith(model) and "%|" in line]
    assert final, err
    assert f"| {epochs} [" in final[-1] and "<" in final[-1]  # [elapsed<remaining, rate]


def test_compare_quick_says_it_is_a_smoke_test(compared):
    out, stdout, err = compared
    header = lines(err)[0]
    assert "epochs x" not in header and "each model trains for 2% of its epochs: a smoke test" in header
    assert "SMOKE TEST ONLY" in stdout and "say nothing about the models" in stdout
    assert "C 0.108: guessing gives 0.10" in stdout  # scikit-learn's lab settings, 20 epochs: chance level
    html = (out / "report.html").read_text()
    assert '<div class="notice"><strong>Smoke test only:</strong>' in html


def test_compare_report_layout(compared):
    out, _, _ = compared
    html = (out / "report.html").read_text()
    results = html.index('<h2 id="s-results">')
    # Results open with the table, then short notes; the jargon is on the model cards
    assert (
        html.index("<table", results)
        < html.index('<ul class="notes">', results)
        < html.index("<h2", results + 1)
    )
    assert "Most accurate:" in html and "is no better than guessing" in html
    for setting in ("64 → 80 → 70 → 10", "64 → 256 → 256 → 10", "L2 penalty (alpha)", "learning rate"):
        assert setting in html
    assert html.count('class="card"') == 4
    assert "Per-class precision and recall" in html and "A|" not in html and ">precision</th>" in html
    assert '<div class="figs" style="--cols: 2">' in html  # confusion matrices two by two


def test_train_report_shows_validation_and_settings(trained):
    html = (trained.parent / "report" / "report.html").read_text()
    assert "Training and validation" in html and "accuracy on the validation rows" in html
    assert "64 → 32 → 10" in html and ">precision</th>" in html and ">recall</th>" in html


@pytest.mark.browser
@pytest.mark.skipif(
    find_chromium() is None, reason="headless Chromium not installed (apt-get install chromium)"
)
@pytest.mark.parametrize("width", [390])
def test_report_fits_a_phone(compared, trained, width):
    """No page wider than its window: wide tables scroll inside their box, pictures shrink."""
    out, _, _ = compared
    for report in (out / "report.html", trained.parent / "report" / "report.html"):
        result = check_report(report, window_size=(width, 2000))
        assert result.ok and result.viewport_width == width
        assert result.page_width <= width, report
        assert result.table_overflow == 0, report  # the results stack, the per-class table fits
        # pictures drawn for a phone: their 8-point labels are shown at 8 pixels or more, not 2 or 3
        assert result.image_scale >= 0.65, report


def test_compare_report_explains_the_loss_floor_and_draws_test_accuracy(compared):
    """Issue 20, item 5: the best model's higher loss is explained, accuracy curves for every model, one
    thumbnail size, and pictures drawn for a phone."""
    out, _, _ = compared
    html = (out / "report.html").read_text()
    assert "Training loss and test accuracy" in html
    assert "B trains with label smoothing: its loss cannot fall below 0.500" in html
    assert '<table class="stack">' in html  # the results table stacks on a phone
    narrow = {p.name for p in out.iterdir() if p.name.endswith("-narrow.png")}
    assert {"loss_curves-narrow.png", "predictions-narrow.png", "misclassified_b-narrow.png",
            "confusion_d-narrow.png", "first_layer_c-narrow.png"} <= narrow  # fmt: skip
    assert html.count("<picture>") == len(narrow)
    from PIL import Image

    widths = set()
    for short in "abcd":
        with Image.open(out / f"misclassified_{short}.png") as picture:
            widths.add(picture.size[0])
    assert len(widths) == 1


def test_compare_scores_every_model_after_every_epoch():
    """The test-accuracy curves: glassnet's models through EpochScoring, scikit-learn's through the hook its
    loop calls at each epoch's end, without changing its training."""
    from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier

    from glassnet.cli import compare
    from glassnet.data import load_digits

    data = load_digits(test_size=0.2, seed=0)
    plain = SklearnMLPClassifier(hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    scored = compare._scored_sklearn(plain, data)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain.fit(data.X_train, data.y_train)
        scored.fit(data.X_train, data.y_train)
    np.testing.assert_array_equal(plain.coefs_[0], scored.coefs_[0])  # the same training
    assert len(scored.test_accuracy_curve_) == 3
    assert scored.test_accuracy_curve_[-1] == pytest.approx(plain.score(data.X_test, data.y_test))


def test_compare_scores_a_test_time_rotated_model_as_its_final_accuracy():
    """A model that averages over rotated copies is scored each epoch through the estimator (EpochScoring's
    'accuracy' during an estimator's fit is scikit-learn's scorer): the curve's last point is the final
    accuracy, rotations included (the network alone scores 0.2333 here, with rotations 0.2361)."""
    import glassnet
    from glassnet.cli import compare
    from glassnet.data import load_digits

    data = load_digits(test_size=0.2, seed=0)
    model = glassnet.MLPClassifier(
        hidden_layer_sizes=(16,), max_iter=3, random_state=0, test_time_rotations=(-10, 0, 10)
    )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(data.X_train, data.y_train, callbacks=[compare._test_scoring(data)])
    curve = model.history_.records["test_accuracy"]
    assert len(curve) == 3 and curve[-1] == pytest.approx(model.score(data.X_test, data.y_test))
