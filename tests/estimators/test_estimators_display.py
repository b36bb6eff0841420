"""scikit-learn's display and tags: the HTML representation links to glassnet's documentation pages (which are
written from the docstrings and kept current), and ``__sklearn_tags__`` says what each setting accepts."""

import re
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from glassnet import MLPClassifier, MLPRegressor
from glassnet._version import __version__
from glassnet.estimators import EnsembleClassifier
from glassnet.estimators._docs import estimator_page

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

DOCS = Path(__file__).resolve().parents[2] / "docs" / "estimators"
ESTIMATORS = [MLPClassifier, MLPRegressor, EnsembleClassifier]


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_html_display_links_to_the_estimators_page(cls):
    """The "?" of the display and every row of its parameter table point at docs/estimators/<Name>.md of this
    release (a text fragment finds the parameter's heading on the page)."""
    page = f"https://github.com/glassnet/glassnet/blob/v{__version__}/docs/estimators/{cls.__name__}.md"
    assert cls()._get_doc_link() == page
    html = make_pipeline(StandardScaler(), cls())._repr_html_()
    links = set(re.findall(r'href="([^"]+)"', html))
    assert page in links
    parameter_links = [link for link in links if link.startswith(page + "#:~:text=")]
    assert len(parameter_links) == len(cls().get_params(deep=False))  # one per parameter, one "#" each
    assert all(link.count("#") == 1 for link in parameter_links)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_documentation_pages_are_written_from_the_docstrings(cls):
    path = DOCS / f"{cls.__name__}.md"
    assert path.read_text(encoding="utf-8") == estimator_page(cls), (
        f"{path} is out of date: run python -c 'from glassnet.estimators.pages import write_pages; write_pages()'"
    )
    for name in cls().get_params(deep=False):
        assert f"\n### {name}\n" in estimator_page(cls)


# --- tags that are true for every setting -----------------------------------------------------------------------

CLASSIFIER_SETTINGS = [
    {},
    {"solver": "lbfgs"},
    {"solver": "sgd", "batch_norm": True},
    {"dropout": 0.2, "augment_shift": 1},
    {"early_stopping": True},
    {"class_weight": "balanced"},
    {"label_smoothing": 0.1},
]


@pytest.mark.parametrize("params", CLASSIFIER_SETTINGS, ids=str)
def test_classifier_tags_say_what_the_setting_accepts(params):
    rng = np.random.default_rng(0)
    X = sp.random(60, 16, density=0.3, format="csr", random_state=0)  # 16 features: a 4x4 image to shift
    labels = rng.integers(0, 2, (60, 3))
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0, **params)
    tags = clf.__sklearn_tags__()
    assert tags.input_tags.sparse and not tags.input_tags.allow_nan
    clf.fit(X, rng.integers(0, 3, 60))  # sparse, multiclass: every setting
    if tags.classifier_tags.multi_label:
        assert clf.fit(X, labels).predict(X).shape == (60, 3)
    else:
        with pytest.raises(ValueError, match="multi-label|multiclass targets"):
            clf.fit(X, labels)
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(np.full((60, 16), np.nan), labels[:, 0])


@pytest.mark.parametrize("loss", ["squared_error", "poisson", "quantile", "huber"])
def test_regressor_tags_say_what_the_loss_accepts(loss):
    rng = np.random.default_rng(0)
    X, Y = sp.random(40, 4, density=0.5, format="csr", random_state=0), rng.normal(size=(40, 2))
    reg = MLPRegressor(loss=loss, hidden_layer_sizes=(5,), max_iter=3, random_state=0)
    tags = reg.__sklearn_tags__()
    assert tags.input_tags.sparse and tags.target_tags.multi_output and not tags.input_tags.allow_nan
    assert reg.fit(X, np.abs(Y)).predict(X).shape == (40, 2)
    if tags.target_tags.positive_only:
        with pytest.raises(ValueError, match="non-negative"):
            reg.fit(X, Y)
    else:
        reg.fit(X, Y)
