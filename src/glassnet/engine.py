"""The engine's public names in one place: ``from glassnet.engine import Sequential, Dense, Trainer, ...``."""

from glassnet.callbacks import Callback, EarlyStopping, History
from glassnet.exceptions import TrainingDivergedError
from glassnet.gradcheck import GradcheckError, gradcheck_layer, gradcheck_loss, gradcheck_network
from glassnet.layers import GELU, Dense, Dropout, Identity, Layer, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from glassnet.losses import PoissonLoss, SigmoidBinaryCrossEntropy, SoftmaxCrossEntropy, SquaredError
from glassnet.network import Sequential, build_mlp
from glassnet.optim import SGD, Adam, AdamW
from glassnet.schedules import AdaptiveLR, ConstantLR, CosineLR, InvScalingLR, StepLR
from glassnet.training import Trainer

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
