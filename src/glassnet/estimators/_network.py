"""From hyper-parameters to engine objects: the network, its optimiser and its learning-rate schedule.

Each function reads the estimator's hyper-parameters and passes them to the engine, one keyword a line, so a
new hyper-parameter that the engine understands (say ``batch_norm``) is one more line here.
"""

from __future__ import annotations

import numpy as np

from glassnet.losses import Loss, SoftmaxCrossEntropy
from glassnet.network import Sequential, build_mlp
from glassnet.optim import SGD, Adam, Optimizer
from glassnet.schedules import ConstantLR, CosineLR, InvScalingLR, Schedule

#: output activation (scikit-learn's ``out_activation_``) -> engine loss head
OUTPUT_LOSSES = {
    "softmax": "softmax_cross_entropy",
    "logistic": "sigmoid_binary_cross_entropy",
    "identity": "squared_error",
    "exp": "poisson",
}


def hidden_sizes(estimator) -> list[int]:
    """``hidden_layer_sizes`` as a list of ints (scikit-learn accepts a bare int)."""
    sizes = estimator.hidden_layer_sizes
    if np.ndim(sizes) == 0:
        return [int(sizes)]
    return [int(s) for s in sizes]


def dropout_rates(estimator) -> list[float]:
    """One dropout rate per hidden layer; a sequence must have one entry per hidden layer."""
    n_hidden = len(hidden_sizes(estimator))
    if np.ndim(estimator.dropout) == 0:
        return [float(estimator.dropout)] * n_hidden
    rates = [float(r) for r in estimator.dropout]
    if len(rates) != n_hidden:
        raise ValueError(
            f"dropout has {len(rates)} rates but hidden_layer_sizes has {n_hidden} hidden layers; "
            "give one rate per hidden layer or a single rate."
        )
    return rates


def build_network(estimator, n_features: int, n_outputs: int, out_activation: str, dtype, rng) -> Sequential:
    """The estimator's multilayer perceptron, initialised as scikit-learn does (Glorot-uniform, factor 2 for
    logistic, biases drawn from the same distribution)."""
    init = "glorot_logistic" if estimator.activation == "logistic" else "glorot_uniform"
    return build_mlp(
        [n_features, *hidden_sizes(estimator), n_outputs],
        activation=estimator.activation,
        loss=make_loss(estimator, out_activation),
        dropout=dropout_rates(estimator),
        seed=rng,
        dtype=dtype,
        init=init,
        batch_norm=bool(estimator.batch_norm),
    )


def make_loss(estimator, out_activation: str) -> Loss | str:
    """The loss head; the classifier's ``label_smoothing`` applies to the softmax cross-entropy only."""
    smoothing = float(getattr(estimator, "label_smoothing", 0.0))
    if not smoothing:
        return OUTPUT_LOSSES[out_activation]
    if out_activation != "softmax":
        raise ValueError(
            f"label_smoothing={smoothing} needs multiclass targets (a softmax output); these targets give a "
            f"{out_activation!r} output. Use label_smoothing=0."
        )
    return SoftmaxCrossEntropy(label_smoothing=smoothing)


def make_optimizer(estimator) -> Optimizer:
    """SGD (with momentum) or Adam; ``weight_decay > 0`` makes them decoupled (AdamW for Adam)."""
    if estimator.solver == "sgd":
        return SGD(
            lr=float(estimator.learning_rate_init),
            momentum=float(estimator.momentum),
            nesterov=bool(estimator.nesterovs_momentum),
            weight_decay=float(estimator.weight_decay),
        )
    return Adam(
        lr=float(estimator.learning_rate_init),
        beta_1=float(estimator.beta_1),
        beta_2=float(estimator.beta_2),
        epsilon=float(estimator.epsilon),
        weight_decay=float(estimator.weight_decay),
    )


def make_schedule(estimator, n_batches: int) -> Schedule:
    """The learning-rate schedule of the stochastic solvers.

    As in scikit-learn, ``'invscaling'`` and ``'adaptive'`` act on ``solver='sgd'`` only (Adam keeps a
    constant rate); ``'adaptive'`` is driven by the estimator's stopping logic, which divides ``lr`` by 5.
    ``'cosine'`` spans ``max_iter`` epochs of ``n_batches`` steps and works with both solvers.
    """
    lr = float(estimator.learning_rate_init)
    if estimator.learning_rate == "cosine":
        total = max(1, int(estimator.max_iter) * n_batches)
        warmup = min(int(estimator.warmup_fraction * total), total - 1)
        return CosineLR(lr, total_steps=total, warmup_steps=warmup)
    if estimator.learning_rate == "invscaling" and estimator.solver == "sgd":
        schedule = InvScalingLR(lr, power_t=float(estimator.power_t))
        schedule.t = getattr(estimator, "t_", 0)  # scikit-learn counts samples over all fits
        return schedule
    return ConstantLR(lr)
