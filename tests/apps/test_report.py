"""Tests of the plots and the self-contained HTML report, including a render in headless Chromium."""

import base64
import re

import numpy as np
import pytest

from glassnet.report import (
    Section,
    embed_png,
    plot_confusion_matrix,
    plot_first_layer,
    plot_loss_curves,
    plot_misclassified,
    plot_prediction_grid,
    write_report,
)
from glassnet.report.browser import check_report, find_chromium

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    out = tmp_path_factory.mktemp("fig")
    rng = np.random.default_rng(0)
    images = rng.random((12, 8, 8))
    truth = rng.integers(0, 10, 12)
    pred = truth.copy()
    pred[:3] = (pred[:3] + 1) % 10
    names = [str(i) for i in range(10)]
    return {
        "loss": plot_loss_curves(
            {"a": np.geomspace(2, 0.01, 50), "b": [1.0, 0.5], "empty": []}, out / "loss.png"
        ),
        "cm": plot_confusion_matrix(np.eye(10, dtype=int) * 5 + 1, names, out / "cm.png"),
        "grid": plot_prediction_grid(images, truth, {"A": pred, "B": truth}, names, out / "grid.png"),
        "wrong": plot_misclassified(images, truth, pred, names, out / "wrong.png"),
        "none_wrong": plot_misclassified(images, truth, truth, names, out / "nowrong.png"),
        "weights": plot_first_layer(rng.standard_normal((20, 64)), (8, 8), out / "w.png"),
    }


def test_every_plot_is_a_png(figures):
    for path in figures.values():
        assert path.read_bytes()[:8] == PNG_MAGIC, path


def test_first_layer_shape_mismatch(tmp_path):
    with pytest.raises(ValueError, match=r"W must have shape \(n_hidden, 64\)"):
        plot_first_layer(np.zeros((3, 10)), (8, 8), tmp_path / "w.png")


def test_embed_png_rejects_other_files(tmp_path):
    (tmp_path / "x.png").write_text("not a png")
    with pytest.raises(ValueError, match="not a PNG"):
        embed_png(tmp_path / "x.png")


def _report(tmp_path, figures):
    sections = [
        Section(
            "Results", ["Two <models> & more."], table=[{"model": "a", "accuracy": 0.95123, "epochs": 3}]
        ),
        Section("Pictures", figures=[(p, name) for name, p in figures.items()], pre="epoch 1 loss 0.5"),
    ]
    return write_report(tmp_path / "report.html", "glassnet test report", sections, intro="intro text")


def test_report_is_self_contained(tmp_path, figures):
    path = _report(tmp_path, figures)
    text = path.read_text()
    sources = re.findall(r'<img src="([^"]+)"', text)
    assert len(sources) == len(figures)
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == PNG_MAGIC
    # nothing to fetch: no external URL, no script, no stylesheet link
    assert "http://" not in text and "https://" not in text and "<script" not in text and "<link" not in text
    assert "Two &lt;models&gt; &amp; more." in text and "0.9512" in text
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.browser
@pytest.mark.skipif(
    find_chromium() is None, reason="headless Chromium not installed (apt-get install chromium)"
)
def test_report_renders_in_chromium_with_every_image(tmp_path, figures):
    path = _report(tmp_path, figures)
    result = check_report(path, screenshot=tmp_path / "screenshot.png")
    assert result.title == "glassnet test report"
    assert result.images == len(figures)
    assert result.loaded == result.images and result.ok
    assert result.screenshot.read_bytes()[:8] == PNG_MAGIC
    assert result.screenshot.stat().st_size > 10_000  # a rendered page, not a blank


@pytest.mark.browser
@pytest.mark.skipif(
    find_chromium() is None, reason="headless Chromium not installed (apt-get install chromium)"
)
def test_browser_check_detects_a_broken_image(tmp_path, figures):
    path = _report(tmp_path, figures)
    text = path.read_text()
    path.write_text(text.replace("data:image/png;base64,", "data:image/png;base64,AAAA", 1))
    result = check_report(path)
    assert result.images == len(figures)
    assert result.loaded == result.images - 1 and not result.ok


def _captured(monkeypatch):
    from glassnet.report import plots

    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, path, **kw: figures.append(fig))
    return plots, figures


@pytest.mark.parametrize("n_models", [1, 4])
def test_grid_titles_are_not_covered_by_the_row_above(tmp_path, monkeypatch, n_models):
    """Each picture's title (and the answers under the picture above it) stay clear of each other."""
    plots, figures = _captured(monkeypatch)
    rng = np.random.default_rng(0)
    images, truth = rng.random((24, 8, 8)), rng.integers(0, 10, 24)
    names = [str(i) for i in range(10)]
    wrong = (truth + 1) % 10
    plots.plot_misclassified(images, truth, wrong, names, tmp_path / "w.png", max_cols=12)
    plots.plot_prediction_grid(
        images, truth, {k: wrong for k in "ABCD"[:n_models]}, names, tmp_path / "g.png"
    )
    for fig in figures:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        axes = [ax for ax in fig.axes if ax.images]
        for upper in axes:
            for lower in axes:
                below = lower.get_position().y1 < upper.get_position().y0
                same_column = abs(lower.get_position().x0 - upper.get_position().x0) < 1e-6
                if not (below and same_column):
                    continue
                title = lower.title.get_window_extent(renderer)
                assert not title.overlaps(upper.get_window_extent(renderer))
                assert not title.overlaps(upper.xaxis.label.get_window_extent(renderer))


def test_html_table_groups_shades_and_scrolls():
    from glassnet.report import html_table

    rows = [{"class": "a", "A|precision": 1.0, "A|recall": 0.5, "B|precision": 0.9, "B|recall": 0.95}]
    text = html_table(rows, shade=True, digits=2)
    assert '<div class="scroll"><table>' in text  # a wide table scrolls in its box, the page does not
    assert text.count('<th class="group" colspan="2">') == 2 and ">recall</th>" in text
    assert "rgba(214, 48, 39, 0.45)" in text and "0.50" in text  # the weak recall is tinted
    assert 'style="background' not in text.split("1.00")[0].rsplit("<td", 1)[-1]  # 1.0 is left white


def test_notice_sections_open_the_report(tmp_path, figures):
    sections = [
        Section("Results", table=[{"model": "a", "accuracy": 0.5}], notes=["short note"]),
        Section("Smoke test only", ["numbers mean nothing"], kind="notice"),
        Section("Pictures", figures=[(figures["cm"], "cm")], columns=2),
        Section("More", pre="x: 1", collapsed=True),
    ]
    text = write_report(tmp_path / "r.html", "t", sections, intro="intro").read_text()
    assert text.index('<div class="notice"><strong>Smoke test only:</strong>') < text.index("intro")
    assert text.index("<nav>") < text.index('<h2 id="s-results">')
    assert text.index("<table>") < text.index("short note")
    assert '<div class="figs" style="--cols: 2">' in text and "<details><summary>" in text


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


def test_misclassified_thumbnails_have_one_size_whatever_the_count(tmp_path):
    """Few mistakes or many, a thumbnail is the same size (the report shows the pictures one above another)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    images, truth = rng.random((40, 8, 8)), rng.integers(0, 10, 40)
    names = [str(i) for i in range(10)]
    few, many = truth.copy(), (truth + 1) % 10
    few[:3] = (few[:3] + 1) % 10
    widths = []
    for name, pred in (("few", few), ("many", many)):
        path = plot_misclassified(
            images, truth, pred, names, tmp_path / f"{name}.png", max_images=24, max_cols=12
        )
        with Image.open(path) as picture:
            widths.append(picture.size[0])
    assert widths[0] == widths[1]


def test_loss_plot_shows_the_label_smoothing_floor_and_test_accuracy(tmp_path, monkeypatch):
    plots, figures = _captured(monkeypatch)
    curves = {"plain": [1.0, 0.4, 0.1], "smoothed": [1.2, 0.7, 0.55]}
    test = {"plain": [0.8, 0.9, 0.92], "smoothed": [0.85, 0.93, 0.95]}
    plots.plot_loss_curves(curves, tmp_path / "a.png", floors={"smoothed": 0.5}, test_accuracy=test)
    loss, accuracy = figures[0].axes
    floor = [line for line in loss.lines if "floor" in line.get_label()]
    assert len(floor) == 1 and "smoothed floor: 0.500 (label smoothing)" in floor[0].get_label()
    assert set(floor[0].get_ydata()) == {0.5}
    assert accuracy.get_title() == "Test accuracy"
    assert [line.get_label() for line in accuracy.lines] == [
        "plain: 0.9200 at the end",
        "smoothed: 0.9500 at the end",
    ]
    # the phone's version: the panels one above the other, each legend in a strip below its panel
    plots.plot_loss_curves(
        curves, tmp_path / "b.png", floors={"smoothed": 0.5}, test_accuracy=test, narrow=True
    )
    narrow = figures[1]
    assert narrow.get_size_inches()[0] < 5 and len(narrow.axes) == 4
    assert narrow.axes[0].get_legend() is None and narrow.axes[1].get_legend() is not None


def test_stacked_and_abbreviated_tables_and_phone_pictures(tmp_path, figures):
    from glassnet.report import html_table

    rows = [
        {"": "A", "model": "glassnet", "test accuracy": 0.95},
        {"": "B", "model": "sk", "test accuracy": 0.9},
    ]
    stacked = html_table(rows, bars=("test accuracy",), stack=True)
    assert '<table class="stack">' in stacked and 'data-label="test accuracy"' in stacked
    assert "scrolls sideways" not in stacked
    short = html_table([{"class": "0", "A|precision": 1.0, "A|recall": 0.5}], short={"precision": "P"})
    assert '<table class="compact">' in short and '<th class="num" data-short="P">precision</th>' in short
    section = Section("Pictures", figures=[(figures["wrong"], "wide and narrow", figures["grid"])])
    text = write_report(tmp_path / "r.html", "t", [section]).read_text()
    assert text.count('<picture><source media="(max-width: 700px)" srcset="data:image/png;base64,') == 1
