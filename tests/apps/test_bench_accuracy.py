"""The accuracy benchmark says what it ran (issue 20, item 6): the epochs trained, and folds drawn with --seed."""

import numpy as np
import pytest

from glassnet.bench import accuracy


class _Recorder:
    """A stand-in estimator that remembers the rows it was fitted on and scores 1."""

    seen: list = []

    def __init__(self, **params):
        self.params = params

    def fit(self, X, y):
        _Recorder.seen.append(X[:5].copy())
        return self

    def score(self, X, y):
        return 1.0


@pytest.fixture
def recorded(monkeypatch):
    _Recorder.seen = []
    monkeypatch.setattr(
        "glassnet.recipes.make_estimator", lambda name, random_state=None, **kw: _Recorder(**kw)
    )
    return _Recorder


def test_quick_digits_label_the_epochs_trained(recorded):
    result = accuracy.run_digits(quick=True, log=lambda *_: None)
    assert "40 epochs" in result["recipe"] and "100 epochs" not in result["recipe"]
    assert result["params"]["max_iter"] == 40
    report = accuracy.format_report({"digits": result})
    assert "40 epochs" in report and "100 epochs" not in report and "2-fold (quick)" in report


def test_the_seed_draws_the_digits_folds(recorded):
    accuracy.run_digits(quick=True, seed=0, log=lambda *_: None)
    first = [x.copy() for x in recorded.seen]
    recorded.seen = []
    result = accuracy.run_digits(quick=True, seed=3, log=lambda *_: None)
    assert "random_state=3" in result["protocol"]
    assert not all(np.array_equal(a, b) for a, b in zip(first, recorded.seen, strict=True))
    assert "folds drawn with seed 3" in accuracy.format_report({"digits": result})


@pytest.mark.parametrize(
    "summary, epochs, expected",
    [
        (
            "64-256-256-10 ReLU, 100 epochs, label smoothing 0.1",
            40,
            "64-256-256-10 ReLU, 40 epochs, label smoothing 0.1",
        ),
        ("784-1024-1024-10 ReLU, batch 128, 20 epochs", 5, "784-1024-1024-10 ReLU, batch 128, 5 epochs"),
        ("a recipe without a count", 7, "a recipe without a count, 7 epochs"),
    ],
)
def test_recipe_summary_states_the_epochs(summary, epochs, expected):
    assert accuracy.recipe_summary(summary, {"max_iter": epochs}) == expected


def test_quick_says_how_long_it_takes(capsys):
    with pytest.raises(SystemExit):
        accuracy.build_parser().parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "about 3 minutes on two cores" in text and "40 epochs" in text
