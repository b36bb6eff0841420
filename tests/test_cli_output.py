"""What `glassnet compare` prints and what the reports show (issue 11, items 10 and 11)."""

import re

import numpy as np
import pytest

from glassnet.cli import main
from glassnet.cli._training import fit_estimator
from glassnet.report.browser import check_report, find_chromium

needs_chromium = pytest.mark.skipif(
    find_chromium() is None, reason="headless Chromium not installed (apt-get install chromium)"
)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def lines(err: str) -> list[str]:
    """The terminal lines as a person would see them: each carriage return redraws its line."""
    return [line.split("\r")[-1] for line in err.split("\n")]


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """`glassnet compare --quick` with its progress bars, as a terminal shows them."""
    import contextlib
    import io

    out = tmp_path_factory.mktemp("quick")
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["compare", "--quick", "--out", str(out), "--grid", "8"])
    assert code == 0, stderr.getvalue()
    return out, stdout.getvalue(), stderr.getvalue()


def test_compare_diverged_attempt_leaves_no_dead_bar(quick):
    _, _, err = quick
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
def test_compare_every_bar_counts_epochs_with_time_left(quick, model, epochs):
    _, _, err = quick
    final = [line for line in lines(err) if line.startswith(model) and "%|" in line]
    assert final, err
    assert f"| {epochs} [" in final[-1] and "<" in final[-1]  # [elapsed<remaining, rate]


def test_compare_quick_says_it_is_a_smoke_test(quick):
    out, stdout, err = quick
    header = lines(err)[0]
    assert "epochs x" not in header and "each model trains for 2% of its epochs: a smoke test" in header
    assert "SMOKE TEST ONLY" in stdout and "say nothing about the models" in stdout
    assert "C 0.108: guessing gives 0.10" in stdout  # scikit-learn's lab settings, 20 epochs: chance level
    html = (out / "report.html").read_text()
    assert '<div class="notice"><strong>Smoke test only:</strong>' in html


def test_full_budget_is_said_in_words(capsys, tmp_path):
    code, out, err = run(capsys, "compare", "--models", "sklearn-default", "--epochs-scale", "0.5",
                         "--out", str(tmp_path), "--grid", "4", "--no-progress")  # fmt: skip
    assert code == 0 and "50% of its epochs: the accuracies will be lower" in err
    assert "SMOKE TEST" not in out


@pytest.mark.parametrize("which", ["sklearn", "glassnet"])
def test_epoch_bar_does_not_change_the_fit(which):
    """The bar reads the fit (callbacks, loss_curve_); the weights are the same with and without it."""
    from sklearn.datasets import load_digits

    if which == "sklearn":
        from sklearn.neural_network import MLPClassifier
    else:
        from glassnet import MLPClassifier
    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16, y[:300]
    fits = []
    for progress in (True, False):
        est = MLPClassifier(hidden_layer_sizes=(16,), max_iter=6, random_state=0)
        fit_estimator(est, X, y, "test", progress=progress)
        fits.append(est)
    assert fits[0].n_iter_ == fits[1].n_iter_ == 6
    np.testing.assert_array_equal(fits[0].coefs_[0], fits[1].coefs_[0])
    assert not hasattr(fits[0], "_skl_callbacks")  # the bar's callback is removed after the fit


def test_compare_report_layout(quick):
    out, _, _ = quick
    html = (out / "report.html").read_text()
    results = html.index('<h2 id="s-results">')
    # Results open with the table, then short notes; the jargon is on the model cards
    assert (
        html.index("<table>", results)
        < html.index('<ul class="notes">', results)
        < html.index("<h2", results + 1)
    )
    assert "Most accurate:" in html and "is no better than guessing" in html
    for setting in ("64 → 80 → 70 → 10", "64 → 256 → 256 → 10", "L2 penalty (alpha)", "learning rate"):
        assert setting in html
    assert html.count('class="card"') == 4
    assert "Per-class precision and recall" in html and "A|" not in html and ">precision</th>" in html
    assert '<div class="figs" style="--cols: 2">' in html  # confusion matrices two by two


@pytest.fixture(scope="module")
def train_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train-report")
    code = main(["train", "--dataset", "digits", "--hidden", "16", "--epochs", "4", "--output",
                 str(folder / "m.npz"), "--report", str(folder / "r"), "--no-progress"])  # fmt: skip
    assert code == 0
    return folder / "r" / "report.html"


def test_train_report_shows_validation_and_settings(train_report):
    html = train_report.read_text()
    assert "Training and validation" in html and "accuracy on the validation rows" in html
    assert "64 → 16 → 10" in html and ">precision</th>" in html and ">recall</th>" in html


def test_loss_plot_has_a_validation_accuracy_panel(tmp_path, monkeypatch):
    from glassnet.report import plots

    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.append(fig))
    plots.plot_loss_curves({"m": [1.0, 0.5, 0.3]}, tmp_path / "a.png")
    plots.plot_loss_curves({"m": [1.0, 0.5]}, tmp_path / "b.png", validation_loss={"m": [1.1, 0.7]},
                           validation_accuracy={"m": [0.8, 0.9]})  # fmt: skip
    assert len(figures[0].axes) == 1 and len(figures[1].axes) == 2
    assert [line.get_label() for line in figures[1].axes[0].lines] == ["training loss", "validation loss"]


def test_confusion_matrix_leaves_zeros_blank(tmp_path, monkeypatch):
    from glassnet.report import plots

    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.append(fig))
    cm = np.array([[9, 0, 1], [0, 10, 0], [2, 0, 8]])
    plots.plot_confusion_matrix(cm, ["a", "b", "c"], tmp_path / "cm.png")
    ax = figures[0].axes[0]
    assert sorted(t.get_text() for t in ax.texts) == ["1", "10", "2", "8", "9"]  # no "0" anywhere
    rgba = ax.images[0].get_array()
    assert np.all(rgba[0, 1, :3] == 1.0)  # a zero cell is white
    assert rgba[2, 0, 0] > rgba[2, 0, 2] and rgba[0, 0, 2] > rgba[0, 0, 0]  # errors red, hits blue
    assert "3 of 30 wrong" in ax.get_title()


def test_first_layer_weights_have_one_colour_scale(tmp_path, monkeypatch):
    from glassnet.report import plots

    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.append(fig))
    plots.plot_first_layer(np.random.default_rng(0).normal(size=(6, 64)), (8, 8), tmp_path / "w.png")
    fig = figures[0]
    pictures = [ax.images[0] for ax in fig.axes if ax.images]
    assert len({p.get_clim() for p in pictures}) == 1  # every unit on the same scale
    assert any(ax.get_ylabel() == "weight" for ax in fig.axes)  # the colour bar


@pytest.mark.browser
@needs_chromium
@pytest.mark.parametrize("width", [390])
def test_report_fits_a_phone_and_a_desktop(quick, train_report, tmp_path, width):
    """No page wider than its window: wide tables scroll inside their box, pictures shrink."""
    out, _, _ = quick
    for report in (out / "report.html", train_report):
        result = check_report(report, window_size=(width, 2000))
        assert result.ok and result.viewport_width == width
        assert result.page_width <= width, report
