"""The divergence rule's chance level is the loss of the best constant output, and a loss below it is not
"saturated" (issue 20 item 12: sgd on signal-free data comes down to the chance level and below, as
scikit-learn's does, and glassnet called it divergence)."""

from types import SimpleNamespace

import numpy as np
import pytest

from glassnet.nn.losses import PinballLoss, SigmoidBinaryCrossEntropy, SoftmaxCrossEntropy
from glassnet.training.divergence import PATIENCE, DivergenceRule, best_constant_loss


def entropy(p):
    p = np.asarray(p, dtype=float)
    return float(-np.sum(p * np.log(p)))


def test_best_constant_loss_is_the_targets_entropy():
    y = np.repeat([0, 1, 2], [60, 30, 10])
    assert best_constant_loss(SoftmaxCrossEntropy(), y, 3) == pytest.approx(entropy([0.6, 0.3, 0.1]))
    assert best_constant_loss(SoftmaxCrossEntropy(), np.eye(3)[y], 3) == pytest.approx(
        entropy([0.6, 0.3, 0.1])
    )
    labels = np.column_stack([y == 0, y == 2]).astype(float)  # two labels, frequencies 0.6 and 0.1
    expected = entropy([0.6, 0.4]) + entropy([0.1, 0.9])
    assert best_constant_loss(SigmoidBinaryCrossEntropy(), labels, 2) == pytest.approx(expected)
    targets = np.arange(10.0)
    assert best_constant_loss(PinballLoss(0.5), targets, 1) == PinballLoss(0.5).chance_loss(targets, 1)


def run_rule(losses, y, head):
    """Feed a course of epoch losses to the rule; the epoch at which it calls divergence, or None."""
    rule = DivergenceRule(factor=3.0)
    rule.first_loss(losses[0], SimpleNamespace(loss=head, n_outputs=int(np.max(y)) + 1), y)
    for epoch, loss in enumerate(losses):
        if rule.epoch_diverged(loss, epoch_start=epoch):
            return epoch
    return None


def test_a_spike_then_the_chance_level_is_divergence_but_below_it_is_not():
    y = np.repeat([0, 1], [70, 30])
    chance = entropy([0.7, 0.3])
    spike = [4.75, 18.2, 5.1, 1.1, 0.8]
    # saturated units: the loss settles at the best constant's and stays there
    assert (
        run_rule(spike + [chance * 1.004, chance * 1.001] + [chance] * 5, y, SoftmaxCrossEntropy())
        == len(spike) + PATIENCE - 1
    )
    # a network still reading its inputs comes down to the chance level and then below it
    below = spike + [chance * 1.004, chance * 1.001] + [chance * (1 - 1e-3 * k) for k in range(1, 6)]
    assert run_rule(below, y, SoftmaxCrossEntropy()) is None
