"""Optimizers and schedules: step-by-step against the formulas and torch.optim; schedule shapes."""

import math

import numpy as np
import pytest

from glassnet.optim import SGD, Adam, AdamW, get_optimizer
from glassnet.schedules import AdaptiveLR, CosineLR, InvScalingLR, StepLR, get_schedule

rng = np.random.default_rng(0)
P0 = rng.standard_normal(12)
GRADS = [rng.standard_normal(12) for _ in range(5)]
MASK = np.r_[np.ones(8), np.zeros(4)]


def run(opt, mask=None):
    p = P0.copy()
    for g in GRADS:
        opt.update(p, g, mask)
    return p


def test_sgd_momentum_and_nesterov_follow_scikit_learn_formulas():
    p, v = P0.copy(), np.zeros(12)
    for g in GRADS:
        v = 0.9 * v - 0.1 * g
        p = p + 0.9 * v - 0.1 * g  # nesterov
    np.testing.assert_allclose(run(SGD(0.1, momentum=0.9, nesterov=True)), p)
    np.testing.assert_allclose(run(SGD(0.1)), P0 - 0.1 * np.sum(GRADS, axis=0))


def test_adam_follows_algorithm_1():
    p, m, v = P0.copy(), np.zeros(12), np.zeros(12)
    for t, g in enumerate(GRADS, start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        p = p - 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    np.testing.assert_allclose(run(Adam(0.01)), p, rtol=1e-12)


def test_adamw_decays_weights_only():
    no_grad = [np.zeros(12)] * 3
    opt = AdamW(0.1, weight_decay=0.5)
    p = P0.copy()
    for g in no_grad:
        opt.update(p, g, MASK)
    np.testing.assert_allclose(p[:8], P0[:8] * (1 - 0.05) ** 3)
    np.testing.assert_allclose(p[8:], P0[8:])


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda: SGD(0.05, momentum=0.9), lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.9)),
        (
            lambda: SGD(0.05, momentum=0.9, nesterov=True),
            lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
        ),
        (lambda: Adam(0.01), lambda t, p: t.optim.Adam(p, lr=0.01)),
        (lambda: AdamW(0.01, weight_decay=0.1), lambda t, p: t.optim.AdamW(p, lr=0.01, weight_decay=0.1)),
    ],
    ids=["sgd-momentum", "sgd-nesterov", "adam", "adamw"],
)
def test_optimizers_match_torch_step_by_step(ours, theirs):
    torch = pytest.importorskip("torch")
    param = torch.nn.Parameter(torch.tensor(P0.copy()))
    topt = theirs(torch, [param])
    opt, p = ours(), P0.copy()
    for g in GRADS:
        param.grad = torch.tensor(g.copy())
        topt.step()
        opt.update(p, g)
        np.testing.assert_allclose(p, param.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_bad_hyper_parameters_name_the_range():
    with pytest.raises(ValueError, match=r"lr must be a float in the range \(0, inf\); got 0"):
        SGD(0)
    with pytest.raises(ValueError, match=r"momentum must be a float in the range \[0, 1\)"):
        SGD(0.1, momentum=1.5)
    with pytest.raises(ValueError, match="expected one of"):
        get_optimizer("rmsprop")
    assert isinstance(get_optimizer("Adam", lr=0.1), Adam)


def test_invscaling_counts_samples_like_scikit_learn():
    s = InvScalingLR(0.1, power_t=0.5)
    for _ in range(3):
        s.on_batch_end(100)
    s.on_epoch_end(0, 1.0)
    assert s.lr == pytest.approx(0.1 / 301**0.5)


def test_adaptive_divides_by_five_on_plateau_and_stops():
    s = AdaptiveLR(1e-3, patience=2, tol=1e-4)
    s.on_epoch_end(0, 1.0)
    s.on_epoch_end(1, 1.0)
    s.on_epoch_end(2, 1.0)
    assert s.lr == pytest.approx(2e-4)
    for e in range(3, 40):
        s.on_epoch_end(e, 1.0)
    assert s.done


def test_adaptive_judges_the_loss_by_the_stopping_callbacks_rule():
    from glassnet.nn.improvement import Improvement

    losses = [2.0, 1.5, 1.4999, 1.49995, float("nan"), 1.49, 1.49, 1.49, 1.3, 1.3, 1.3, 1.3, 1.2]
    s, rule, lrs = AdaptiveLR(1.0, patience=2, tol=1e-4), Improvement(-1.0, 1e-4, inclusive=True), []
    for epoch, loss in enumerate(losses):
        improved, _ = rule.step(loss)
        s.on_epoch_end(epoch, loss)
        assert s.best == -rule.best  # the same best loss, whatever the schedule did to its count
        if rule.wait >= 2:
            rule.wait = 0
        assert s.bad_epochs == rule.wait
        lrs.append(s.lr)
    # a fall of exactly tol counts (1.5 -> 1.4999); NaN is no fall (it used to reset the count)
    assert lrs == pytest.approx([1.0, 1.0, 1.0, 1.0, 0.2, 0.2, 0.2, 0.04, 0.04, 0.04, 0.008, 0.008, 0.008])
    assert all(
        isinstance(v, (int, float)) for v in vars(s).values()
    )  # plain numbers: a checkpoint keeps them


def test_step_and_cosine_with_warmup():
    s = StepLR(1.0, step_size=2, gamma=0.5)
    lrs = []
    for e in range(5):
        s.on_epoch_end(e, 0.0)
        lrs.append(s.lr)
    assert lrs == [1.0, 0.5, 0.5, 0.25, 0.25]
    c = CosineLR(1.0, total_steps=10, warmup_steps=2, min_lr=0.1)
    seen = [c.lr]
    for _ in range(10):
        c.on_batch_end(32)
        seen.append(c.lr)
    assert seen[0] == pytest.approx(0.5) and seen[1] == pytest.approx(1.0)
    assert seen[-1] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(seen[1:], seen[2:], strict=False))
    assert c._rate(6) == pytest.approx(0.1 + 0.45 * (1 + math.cos(math.pi * 0.5)))
    with pytest.raises(ValueError, match="expected one of"):
        get_schedule("exponential", 0.1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_agrees_with_the_line_by_line_reference(dtype):
    from glassnet.optim import adam_reference_step

    rng = np.random.default_rng(0)
    theta = rng.normal(size=50).astype(dtype)
    m, v = np.zeros(50), np.zeros(50)
    reference = theta.astype(np.float64)
    adam = Adam(lr=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-7)
    for t in range(1, 21):
        g = rng.normal(size=50).astype(dtype)
        adam.update(theta, g)
        reference, m, v = adam_reference_step(reference, g.astype(np.float64), m, v, t, 0.01, 0.8, 0.99, 1e-7)
    np.testing.assert_allclose(theta, reference, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)
