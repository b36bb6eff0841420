"""The engine's public names in one place: ``from glassnet.engine import Sequential, Dense, Trainer, ...``."""

from glassnet.exceptions import TrainingDivergedError
from glassnet.nn.gradcheck import GradcheckError, gradcheck_layer, gradcheck_loss, gradcheck_network
from glassnet.nn.layers import GELU, Dense, Dropout, Identity, Layer, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from glassnet.nn.losses import PoissonLoss, SigmoidBinaryCrossEntropy, SoftmaxCrossEntropy, SquaredError
from glassnet.nn.network import Sequential, build_mlp
from glassnet.nn.optim import SGD, Adam, AdamW
from glassnet.nn.schedules import AdaptiveLR, ConstantLR, CosineLR, InvScalingLR, StepLR
from glassnet.training import Trainer
from glassnet.training.callbacks import Callback, EarlyStopping, History

__all__ = [
    "GELU",
    "SGD",
    "Adam",
    "AdamW",
    "AdaptiveLR",
    "Callback",
    "ConstantLR",
    "CosineLR",
    "Dense",
    "Dropout",
    "EarlyStopping",
    "GradcheckError",
    "History",
    "Identity",
    "InvScalingLR",
    "Layer",
    "LeakyReLU",
    "PoissonLoss",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "SigmoidBinaryCrossEntropy",
    "Softmax",
    "SoftmaxCrossEntropy",
    "SquaredError",
    "StepLR",
    "Tanh",
    "Trainer",
    "TrainingDivergedError",
    "build_mlp",
    "gradcheck_layer",
    "gradcheck_loss",
    "gradcheck_network",
]
