"""label_smoothing on targets without a softmax head: the error names what the targets are."""

import numpy as np
import pytest

import glassnet


@pytest.mark.parametrize(
    "y",
    [np.arange(40) % 2, np.stack([np.arange(40) % 2, np.arange(40) // 20], axis=1)],
    ids=["binary", "multilabel"],
)
def test_label_smoothing_on_sigmoid_targets_says_binary_or_multilabel(y):
    X = np.random.default_rng(0).normal(size=(40, 3))
    with pytest.raises(ValueError, match=r"three or more classes .* binary or multi-label"):
        glassnet.MLPClassifier(label_smoothing=0.1, max_iter=5).fit(X, y)


def test_label_smoothing_on_regression_names_the_task():
    from glassnet.config import MLPConfig
    from glassnet.config.build import make_loss

    with pytest.raises(ValueError, match="these targets are regression"):
        make_loss(MLPConfig(label_smoothing=0.1), "regression")
