"""From an :class:`~glassnet.config.MLPConfig` to engine objects: the network, its loss, optimizer and schedule.

Each function reads the settings and passes them to the engine one keyword a line, so a new setting that the
engine understands (say ``batch_norm``) is one more line here. The estimators, ``glassnet train``, ``glassnet
compare``, the recipes and the benchmarks all build through these functions (and train with
:class:`glassnet.training.Trainer`), so the same settings give the same network and the same training.
"""

from __future__ import annotations

import numpy as np

from glassnet.nn.losses import Loss, SoftmaxCrossEntropy, get_loss
from glassnet.nn.network import Sequential, build_mlp
from glassnet.nn.optim import Optimizer, optimizer_class
from glassnet.nn.registries import accepted_settings
from glassnet.nn.schedules import Schedule, schedule_class

__all__ = [
    "OUTPUT_ACTIVATIONS",
    "batch_size",
    "build_network",
    "dropout_rates",
    "hidden_sizes",
    "make_augment",
    "make_averaging",
    "make_loss",
    "make_optimizer",
    "make_schedule",
    "make_trainer",
    "output_activation",
]

#: scikit-learn's ``out_activation_`` of each classification head
OUTPUT_ACTIVATIONS = {"multiclass": "softmax", "multilabel": "logistic"}


def hidden_sizes(config) -> list[int]:
    """``hidden_layer_sizes`` as a list of ints (scikit-learn accepts a bare int)."""
    sizes = config.hidden_layer_sizes
    if np.ndim(sizes) == 0:
        return [int(sizes)]
    return [int(s) for s in sizes]


def dropout_rates(config) -> list[float]:
    """One dropout rate per hidden layer; a sequence must have one entry per hidden layer."""
    n_hidden = len(hidden_sizes(config))
    if np.ndim(config.dropout) == 0:
        return [float(config.dropout)] * n_hidden
    rates = [float(r) for r in config.dropout]
    if len(rates) != n_hidden:
        raise ValueError(
            f"dropout has {len(rates)} rates but hidden_layer_sizes has {n_hidden} hidden layers; "
            "give one rate per hidden layer or a single rate."
        )
    return rates


def batch_size(config, n_samples: int) -> int:
    """Rows per step: ``'auto'`` is ``min(200, n_samples)``; larger than the data is clipped to it."""
    if config.batch_size == "auto":
        return min(200, n_samples)
    return int(np.clip(config.batch_size, 1, n_samples))


def make_loss(config, task: str) -> Loss:
    """The loss head for ``task`` (``'multiclass'``, ``'multilabel'`` or ``'regression'``).

    Classification heads are the log-loss (softmax cross-entropy with ``label_smoothing``, or one sigmoid per
    output); regression takes ``config.loss``: a registered loss's name or a :class:`~glassnet.nn.losses.Loss`.
    """
    smoothing = float(getattr(config, "label_smoothing", 0.0) or 0.0)
    if task == "multiclass":
        return SoftmaxCrossEntropy(label_smoothing=smoothing)
    if smoothing:
        raise ValueError(
            f"label_smoothing={smoothing} needs three or more classes (a softmax output); these targets are "
            + ("binary or multi-label (one sigmoid output per label)" if task == "multilabel" else task)
            + ". Use label_smoothing=0."
        )
    if task == "multilabel":
        return get_loss("sigmoid_binary_cross_entropy")
    loss = config.loss
    return loss if isinstance(loss, Loss) else get_loss(loss)


def output_activation(config, loss: Loss) -> str:
    """scikit-learn's name for the output activation of a loss head (``out_activation_``): ``'softmax'``,
    ``'logistic'``, and for regression ``'exp'`` with ``loss='poisson'`` (its log link), else ``'identity'``."""
    if loss.task in OUTPUT_ACTIVATIONS:
        return OUTPUT_ACTIVATIONS[loss.task]
    return "exp" if config.loss == "poisson" else "identity"


def build_network(config, n_features: int, n_outputs: int, loss: Loss, dtype, rng) -> Sequential:
    """The multilayer perceptron, initialised as scikit-learn does (Glorot-uniform, factor 2 for logistic,
    biases drawn from the same distribution); ``rng`` also drives the dropout masks."""
    init = "glorot_logistic" if config.activation == "logistic" else "glorot_uniform"
    return build_mlp(
        [n_features, *hidden_sizes(config), n_outputs],
        activation=config.activation,
        loss=loss,
        dropout=dropout_rates(config),
        seed=rng,
        dtype=dtype,
        init=init,
        batch_norm=bool(config.batch_norm),
    )


def make_optimizer(config) -> Optimizer:
    """The optimizer ``config.solver`` names in :data:`glassnet.nn.optim.OPTIMIZERS`, given the settings its
    constructor takes: ``lr`` (``learning_rate_init``), ``momentum``, ``nesterov`` (``nesterovs_momentum``),
    ``beta_1``, ``beta_2``, ``epsilon`` and, when above 0, ``weight_decay`` (decoupled: Adam becomes AdamW;
    at 0 the optimizer keeps its own default, which is 0.01 for ``'adamw'``). Other arguments keep their
    defaults."""
    settings = {
        "lr": float(config.learning_rate_init),
        "momentum": float(config.momentum),
        "nesterov": bool(config.nesterovs_momentum),
        "beta_1": float(config.beta_1),
        "beta_2": float(config.beta_2),
        "epsilon": float(config.epsilon),
    }
    if config.weight_decay:
        settings["weight_decay"] = float(config.weight_decay)
    cls = optimizer_class(config.solver)
    return cls(**accepted_settings(settings, cls))


def make_schedule(config, n_batches: int, samples_seen: int = 0) -> Schedule:
    """The learning-rate schedule ``config.learning_rate`` names in :data:`glassnet.nn.schedules.SCHEDULES`.

    As in scikit-learn, ``'invscaling'`` and ``'adaptive'`` act on ``solver='sgd'`` only (other solvers keep
    a constant rate); ``'adaptive'`` is driven by the estimators' stopping rule, which divides ``lr`` by 5.
    A schedule gets the settings its constructor takes: ``lr`` (``learning_rate_init``), ``power_t``,
    ``total_steps`` (``max_iter`` epochs of ``n_batches`` steps: ``'cosine'`` spans the whole fit),
    ``warmup_steps`` (``warmup_fraction`` of them) and ``samples_seen`` (scikit-learn's ``t_``, which
    ``'invscaling'`` counts over all fits); other arguments keep their defaults.
    """
    name = config.learning_rate
    if name == "adaptive" or (name == "invscaling" and config.solver != "sgd"):
        name = "constant"
    total = max(1, int(config.max_iter) * n_batches)
    settings = {
        "power_t": float(config.power_t),
        "total_steps": total,
        "warmup_steps": min(int(config.warmup_fraction * total), total - 1),
        "samples_seen": int(samples_seen),
    }
    cls = schedule_class(name)
    return cls(float(config.learning_rate_init), **accepted_settings(settings, cls))


def make_trainer(
    config, net, n_rows: int, rng, optimizer=None, schedule=None, samples_seen: int = 0, **kwargs
):
    """The :class:`~glassnet.training.Trainer` of a stochastic solver: batch size, shuffling, L2, augmentation
    and processes from ``config``; a new optimizer and schedule unless given (``partial_fit`` keeps them).

    ``rng`` is the generator the network was initialised from: shuffling continues its stream, as the
    estimators do, so that the same settings and seed give the same training wherever it is run from.
    ``kwargs`` go to the Trainer (``validation_data``, ``scorer``, ``callbacks``, ``early_stopping``, ...).
    """
    from glassnet.training import Trainer

    batch = batch_size(config, n_rows)
    averaging = make_averaging(config)
    if averaging is not None:  # first: it sets the averaged weights before other callbacks' on_train_end
        kwargs["callbacks"] = [averaging, *kwargs.get("callbacks", ())]
    return Trainer(
        net,
        optimizer if optimizer is not None else make_optimizer(config),
        schedule=schedule
        if schedule is not None
        else make_schedule(config, -(-n_rows // batch), samples_seen),
        batch_size=batch,
        shuffle=bool(config.shuffle),
        alpha=float(config.alpha),
        seed=rng,
        augment=make_augment(config),
        n_jobs=config.n_jobs,
        **kwargs,
    )


def make_augment(config):
    """The training-time augmentation of ``config``, or ``None``: whole-pixel shifts (``augment_shift``), one
    bilinear rotation, zoom and move (``augment_rotation``, ``augment_scale``, ``augment_translation``), an
    elastic distortion (``augment_elastic``), left-right mirroring (``augment_flip``) and Gaussian input noise
    (``augment_noise``), applied in that order."""
    from glassnet.training.augment import (
        Compose,
        GaussianNoise,
        RandomAffine,
        RandomElastic,
        RandomFlip,
        RandomShift,
    )

    steps = []
    if int(config.augment_shift):
        steps.append(RandomShift(int(config.augment_shift), config.image_shape))
    rotation = float(getattr(config, "augment_rotation", 0.0))
    scale = float(getattr(config, "augment_scale", 0.0))
    translation = float(getattr(config, "augment_translation", 0.0))
    if rotation or scale or translation:
        steps.append(RandomAffine(rotation, scale, config.image_shape, translation=translation))
    elastic = float(getattr(config, "augment_elastic", 0.0))
    if elastic:
        steps.append(RandomElastic(elastic, image_shape=config.image_shape))
    if getattr(config, "augment_flip", False):
        steps.append(RandomFlip(0.5, config.image_shape))
    noise = float(getattr(config, "augment_noise", 0.0))
    if noise:
        steps.append(GaussianNoise(noise))
    if len(steps) <= 1:
        return steps[0] if steps else None
    return Compose(steps)


def make_averaging(config):
    """The :class:`~glassnet.training.averaging.WeightAveraging` callback of ``config.weight_averaging``, or
    ``None``; it starts after ``averaging_start`` of the ``max_iter`` epochs."""
    from glassnet.training.averaging import WeightAveraging

    method = getattr(config, "weight_averaging", None)
    if method is None:
        return None
    start = int(float(config.averaging_start) * int(config.max_iter))
    return WeightAveraging(method, decay=float(config.averaging_decay), start=start)
