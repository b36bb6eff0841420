"""`glassnet compare`'s budget in words, and epoch bars that leave the fit unchanged (issue 11, item 10).

The tests of compare's terminal output and of the reports use test_cli.py's `compared` run.
"""

import numpy as np
import pytest

from glassnet.cli import main
from glassnet.cli._training import fit_estimator


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


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
