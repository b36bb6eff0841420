"""glassnet.estimators.EpochProgressBar: a loss-showing bar set on the estimator, which survives clone,
Pipeline and GridSearchCV (scikit-learn's own ProgressBar must sit on the outermost estimator)."""

import io
import pickle

import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from glassnet import MLPClassifier
from glassnet.estimators import EpochProgressBar

pytest.importorskip("tqdm")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X, Y = load_iris(return_X_y=True)


def last_lines(stream: io.StringIO) -> list[str]:
    """The final state of each bar (tqdm redraws a line with carriage returns)."""
    return [line.split("\r")[-1] for line in stream.getvalue().split("\n") if line.strip()]


def test_the_bar_shows_epochs_loss_and_validation_score():
    out = io.StringIO()
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=4, early_stopping=True, random_state=0)
    clf.set_callbacks(EpochProgressBar(file=out)).fit(X, Y)
    (line,) = last_lines(out)
    assert line.startswith("MLPClassifier: 100%") and "4/4" in line
    assert f"loss={clf.loss_curve_[-1]:.4g}" in line
    assert f"val_score={clf.validation_scores_[-1]:.4f}" in line


def test_the_bar_survives_clone_pipeline_and_grid_search():
    out = io.StringIO()
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    clf.set_callbacks(EpochProgressBar(out))
    assert clone(clf)._skl_callbacks == clf._skl_callbacks
    search = GridSearchCV(make_pipeline(StandardScaler(), clf), {"mlpclassifier__alpha": [1e-4, 1e-2]}, cv=2)
    search.fit(X, Y)  # scikit-learn's ProgressBar set on clf would raise TypeError here
    lines = last_lines(out)
    assert len(lines) == 2 * 2 + 1  # 2 candidates x 2 folds, and the refit
    for line in lines:
        assert line.startswith("GridSearchCV > Pipeline #") and "> MLPClassifier: 100%" in line
        assert "loss=" in line


def test_the_bar_changes_nothing_and_pickles():
    plain = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, Y)
    bar = EpochProgressBar(io.StringIO())
    with_bar = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).set_callbacks(bar).fit(X, Y)
    assert with_bar.loss_curve_ == plain.loss_curve_
    assert bar._fits == {}  # nothing left behind after the fit
    again = pickle.loads(pickle.dumps(with_bar))
    again.fit(X, Y)
    assert again.loss_curve_ == plain.loss_curve_


def test_lbfgs_counts_iterations():
    out = io.StringIO()
    MLPClassifier(solver="lbfgs", max_iter=3, random_state=0).set_callbacks(EpochProgressBar(out)).fit(X, Y)
    (line,) = last_lines(out)
    assert "iteration" in line and "4/4" in line  # scipy's callback opens one extra, empty iteration


def test_the_bar_draws_on_a_bar_its_caller_owns():
    """glassnet compare's one bar per model: the estimator's bar advances it, and leaves it open."""
    from tqdm import tqdm

    out = io.StringIO()
    outer = tqdm(total=10, desc="model", file=out)
    bar = EpochProgressBar(bar=outer, score_name="val_acc")
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, early_stopping=True, random_state=0)
    clf.set_callbacks(bar).fit(X, Y)
    assert outer.n == 3 and not outer.disable and bar._fits == {}  # advanced, and not closed (close disables)
    outer.close()
    (line,) = last_lines(out)
    assert line.startswith("model:") and f"val_acc={clf.validation_scores_[-1]:.4f}" in line
    assert pickle.loads(pickle.dumps(bar)).bar is None  # a copy draws its own bars
