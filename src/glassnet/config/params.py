"""Hyper-parameter declarations and their validation.

Every constructor parameter of the estimators is declared once, in :data:`COMMON_PARAMS`,
:data:`CLASSIFIER_PARAMS` or :data:`REGRESSOR_PARAMS`, with its default, its allowed values and its
documentation. From these declarations come

- the estimator's ``__init__`` signature (:func:`make_init`), which scikit-learn's ``get_params``,
  ``clone`` and ``repr`` read;
- the numpydoc "Parameters" section of the class docstring (:func:`params_docstring`);
- the checks that ``fit`` runs (:func:`validate_params`), which give scikit-learn's sentences, e.g.
  ``The 'learning_rate_init' parameter of MLPClassifier must be a float in the range (0.0, inf). Got 0
  instead.``

Adding a hyper-parameter is therefore one :class:`Param` here plus the one line that uses it (usually in
``_network.py``). scikit-learn's private ``sklearn.utils._param_validation`` is not imported: the few
constraint types needed are written below.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from glassnet.nn.layers import ACTIVATION_LAYERS, hidden_activations
from glassnet.nn.optim import OPTIMIZERS
from glassnet.nn.schedules import SCHEDULES

__all__ = [
    "CLASSIFIER_PARAMS",
    "COMMON_PARAMS",
    "LOSS_OPTIONS",
    "REGRESSOR_PARAMS",
    "InvalidParameterError",
    "Param",
    "loss_options",
    "make_init",
    "params_docstring",
    "validate_params",
]


class InvalidParameterError(ValueError, TypeError):
    """A hyper-parameter has a value outside its declared range or of the wrong type.

    It subclasses both ``ValueError`` and ``TypeError``, as scikit-learn's error of the same name does,
    so that code catching either keeps working.
    """


# --- constraints ------------------------------------------------------------------------------------------
# Each constraint answers `is_satisfied_by(value)` and describes itself in words (`str`), the words that go
# into the error message.


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _fmt_bound(value, integer: bool) -> str:
    if value is None:
        return "inf"
    return str(int(value)) if integer else str(float(value))


@dataclass(frozen=True)
class Interval:
    """A real or integer number between ``left`` and ``right`` (``None``: unbounded).

    ``closed`` is one of ``"left"``, ``"right"``, ``"both"`` or ``"neither"``.
    """

    kind: str  # "int" or "float"
    left: float | None
    right: float | None
    closed: str = "left"

    def is_satisfied_by(self, value) -> bool:
        type_ok = _is_int(value) if self.kind == "int" else _is_real(value)
        if not type_ok or np.isnan(value):
            return False
        if self.left is not None:
            if value < self.left or (value == self.left and self.closed in ("right", "neither")):
                return False
        if self.right is not None:
            if value > self.right or (value == self.right and self.closed in ("left", "neither")):
                return False
        return True

    def __str__(self) -> str:
        integer = self.kind == "int"
        left_bracket = "[" if self.closed in ("left", "both") and self.left is not None else "("
        right_bracket = "]" if self.closed in ("right", "both") and self.right is not None else ")"
        left = "-inf" if self.left is None else _fmt_bound(self.left, integer)
        right = _fmt_bound(self.right, integer)
        article = "an int" if integer else "a float"
        return f"{article} in the range {left_bracket}{left}, {right}{right_bracket}"


@dataclass(frozen=True)
class Options:
    """One value from a fixed set (strings or numbers)."""

    values: tuple

    def is_satisfied_by(self, value) -> bool:
        if isinstance(value, str):
            return value in self.values
        numbers = [option for option in self.values if not isinstance(option, str)]
        return _is_real(value) and any(value == option for option in numbers)

    def __str__(self) -> str:
        if all(isinstance(v, str) for v in self.values):
            return "a str among {" + ", ".join(repr(v) for v in sorted(self.values)) + "}"
        return "one of {" + ", ".join(repr(v) for v in self.values) + "}"


class Registered:
    """A name that a registry holds when the check runs (:mod:`glassnet.nn.registries`), so that a choice
    registered after import is accepted; ``before``: names offered ahead of the registry's (``'lbfgs'``)."""

    def __init__(self, names: Callable[[], tuple[str, ...]], before: tuple[str, ...] = ()) -> None:
        self.names, self.before = names, tuple(before)

    @property
    def values(self) -> tuple[str, ...]:
        return (*self.before, *self.names())

    def is_satisfied_by(self, value) -> bool:
        return isinstance(value, str) and value in self.values

    def __str__(self) -> str:
        return str(Options(self.values))

    # a container of the names, e.g. for argparse's choices
    def __contains__(self, value) -> bool:
        return self.is_satisfied_by(value)

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)


def _choices_doc(names) -> str:
    """The numpydoc type of a choice among ``names``: ``{'a', 'b'}``."""
    return "{" + ", ".join(repr(name) for name in names) + "}"


def _summary(cls: type) -> str:
    """A class's docstring's first paragraph, on one line."""
    return " ".join(inspect.getdoc(cls).split("\n\n")[0].split()) if cls.__doc__ else cls.__name__


class Boolean:
    """``True`` or ``False`` (Python or NumPy booleans)."""

    def is_satisfied_by(self, value) -> bool:
        return isinstance(value, (bool, np.bool_))

    def __str__(self) -> str:
        return "a bool"


class NoneValue:
    """Exactly ``None``."""

    def is_satisfied_by(self, value) -> bool:
        return value is None

    def __str__(self) -> str:
        return "None"


class FloatDtype:
    """``float32`` or ``float64``: a name (``'float32'``), a NumPy type (``np.float32``) or a dtype."""

    def is_satisfied_by(self, value) -> bool:
        if value is None or isinstance(value, (numbers.Number, np.bool_)):
            return False
        try:
            return np.dtype(value).name in ("float32", "float64")
        except TypeError:
            return False

    def __str__(self) -> str:
        return "float32 or float64 (a name such as 'float32', a NumPy type or a dtype)"


class RandomStateLike:
    """An int seed, a ``numpy.random.RandomState`` (as in scikit-learn) or a ``numpy.random.Generator``."""

    def is_satisfied_by(self, value) -> bool:
        if isinstance(value, (np.random.RandomState, np.random.Generator)):
            return True
        return _is_int(value) and 0 <= value <= 2**32 - 1

    def __str__(self) -> str:
        return "an int in the range [0, 4294967295], a numpy.random.RandomState, a numpy.random.Generator"


@dataclass(frozen=True)
class SequenceOf:
    """A list, tuple or 1-D array whose every element satisfies ``element`` (empty allowed)."""

    element: object

    def is_satisfied_by(self, value) -> bool:
        if isinstance(value, (str, bytes, dict, Iterator)) or not hasattr(value, "__iter__"):
            return False  # an iterator is not a sequence: listing it here would consume it
        try:
            items = list(value)
        except TypeError:
            return False
        return all(self.element.is_satisfied_by(item) for item in items)

    def __str__(self) -> str:
        return f"a sequence of elements that are each {self.element}"


class DictOfWeights:
    """A dict mapping class labels to non-negative weights."""

    def is_satisfied_by(self, value) -> bool:
        return isinstance(value, dict) and all(_is_real(w) and w >= 0 for w in value.values())

    def __str__(self) -> str:
        return "a dict of non-negative weights"


# --- declarations -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One hyper-parameter: name, default, allowed values and documentation.

    Parameters
    ----------
    name : str
        Attribute and keyword name.
    default : object
        Default value (immutable: a tuple, not a list).
    constraints : tuple
        The value must satisfy at least one of these.
    type_doc : str
        The numpydoc type, e.g. ``"float"`` or ``"{'lbfgs', 'sgd', 'adam'}"``.
    doc : str
        The description (several sentences allowed; indentation is added).
    positional : bool
        Whether the parameter may be passed by position (scikit-learn allows this only for the first ones).
    """

    name: str
    default: object
    constraints: tuple
    type_doc: str
    doc: str
    positional: bool = False


_POSITIVE_FLOAT = Interval("float", 0, None, "neither")
_NON_NEGATIVE_FLOAT = Interval("float", 0, None, "left")
_UNIT_FLOAT = Interval("float", 0, 1, "left")
_DROP_RATE = Interval("float", 0, 1, "left")
_POSITIVE_INT = Interval("int", 1, None, "left")

HIDDEN_LAYER_SIZES = Param(
    "hidden_layer_sizes",
    (100,),
    (_POSITIVE_INT, SequenceOf(_POSITIVE_INT)),
    "int or array-like of shape (n_layers - 2,)",
    "The ith element is the number of neurons in the ith hidden layer. An empty tuple gives a model "
    "without hidden layers (a linear model).",
    positional=True,
)


def _activation_doc() -> str:
    """What ``activation`` documents, from the declarations of the activations registered at import."""
    names = hidden_activations()
    formulas = "; ".join(f"``{name!r}``: ``{ACTIVATION_LAYERS[name].formula}``" for name in names)
    additions = ", ".join(f"``{name!r}``" for name in names if ACTIVATION_LAYERS[name].sklearn_name is None)
    return (
        f"Activation of the hidden layers, by name from glassnet's registry "
        f"(:data:`glassnet.nn.layers.ACTIVATION_LAYERS`): {formulas}. {additions} are glassnet additions "
        "(scikit-learn lacks them). An activation of your own works once registered "
        "(:func:`glassnet.nn.layers.register_activation`)."
    )


def _solver_doc() -> str:
    """What ``solver`` documents, from the optimizers registered at import."""
    optimizers = " ".join(f"``{name!r}``: {_summary(cls)}" for name, cls in OPTIMIZERS.items())
    return (
        "Weight optimiser: ``'lbfgs'`` is scipy's L-BFGS-B on the full batch (good for small data); the others "
        "train on mini-batches with an optimizer from glassnet's registry (:data:`glassnet.nn.optim.OPTIMIZERS`), "
        f"given the settings its constructor takes. {optimizers} An optimizer of your own works once registered "
        "(:func:`glassnet.nn.optim.register_optimizer`)."
    )


ACTIVATION = Param(
    "activation",
    "relu",
    (Registered(hidden_activations),),
    _choices_doc(hidden_activations()),
    _activation_doc(),
    positional=True,
)

COMMON_PARAMS: tuple[Param, ...] = (
    HIDDEN_LAYER_SIZES,
    ACTIVATION,
    Param(
        "solver",
        "adam",
        (Registered(lambda: tuple(OPTIMIZERS), before=("lbfgs",)),),
        _choices_doc(("lbfgs", *OPTIMIZERS)),
        _solver_doc(),
    ),
    Param(
        "alpha",
        0.0001,
        (_NON_NEGATIVE_FLOAT,),
        "float",
        "Strength of the L2 penalty ``alpha / (2 n) * sum ||W||^2`` on the weights (not the biases). "
        "Unlike scikit-learn, ``n`` is the (weighted) size of the whole training set, not of the mini-batch, "
        "so the regularisation does not depend on ``batch_size``; with ``solver='lbfgs'`` (one full batch) "
        "the two coincide.",
    ),
    Param(
        "batch_size",
        "auto",
        (_POSITIVE_INT, Options(("auto",))),
        "int or 'auto'",
        "Mini-batch size of the stochastic solvers; ``'auto'`` is ``min(200, n_samples)``. Ignored by lbfgs.",
    ),
    Param(
        "learning_rate",
        "constant",
        (Registered(lambda: tuple(SCHEDULES)),),
        _choices_doc(SCHEDULES),
        "Learning-rate schedule. ``'constant'``: ``learning_rate_init``. ``'invscaling'``: "
        "``learning_rate_init / (t + 1) ** power_t`` with ``t`` the number of samples seen (sgd only, as in "
        "scikit-learn). ``'adaptive'``: divided by 5 each time ``n_iter_no_change`` epochs pass without "
        "improvement; training stops when it falls below 1e-6 (sgd only). ``'cosine'`` (glassnet): half a "
        "cosine from ``learning_rate_init`` to 0 over ``max_iter`` epochs after a linear warm-up of "
        "``warmup_fraction`` of them (sgd and adam). The others in glassnet's registry "
        "(:data:`glassnet.nn.schedules.SCHEDULES`, such as ``'step'``, and those registered with "
        ":func:`glassnet.nn.schedules.register_schedule`) start from ``learning_rate_init`` with their own "
        "defaults.",
    ),
    Param(
        "learning_rate_init",
        0.001,
        (_POSITIVE_FLOAT,),
        "float",
        "Initial learning rate of the stochastic solvers.",
    ),
    Param(
        "power_t",
        0.5,
        (_NON_NEGATIVE_FLOAT,),
        "float",
        "Exponent of ``learning_rate='invscaling'``.",
    ),
    Param(
        "max_iter",
        200,
        (_POSITIVE_INT,),
        "int",
        "Maximum number of epochs (stochastic solvers) or of L-BFGS iterations.",
    ),
    Param("shuffle", True, (Boolean(),), "bool", "Whether to shuffle the samples at each epoch."),
    Param(
        "random_state",
        None,
        (RandomStateLike(), NoneValue()),
        "int, RandomState instance, numpy.random.Generator or None",
        "Source of randomness for the initial weights, the shuffling, the early-stopping split and "
        "dropout. Pass an int for reproducible fits.",
    ),
    Param(
        "dtype",
        None,
        (FloatDtype(), NoneValue()),
        "{'float32', 'float64'}, NumPy float type or None",
        "The precision the network computes and stores its weights in. ``None`` (default) keeps the input's "
        "dtype, as scikit-learn's MLP does: float32 stays float32, anything else is trained in float64. "
        "``'float32'`` trains float64 input in float32, as PyTorch and Keras do: half the memory, about half "
        "the time of every matrix product, the same accuracy, and predictions in float32. ``partial_fit`` and "
        "``warm_start`` keep the dtype of the network they continue. glassnet addition.",
    ),
    Param(
        "tol",
        1e-4,
        (_NON_NEGATIVE_FLOAT,),
        "float",
        "Tolerance: training stops when the loss (or, with early stopping, the validation score) has not "
        "improved by at least ``tol`` for ``n_iter_no_change`` epochs; for lbfgs it is the gradient "
        "tolerance ``gtol``.",
    ),
    Param(
        "verbose",
        False,
        (Boolean(), Interval("int", 0, None, "left")),
        "bool or int",
        "Print progress: scikit-learn's ``Iteration i, loss = ...`` lines.",
    ),
    Param(
        "warm_start",
        False,
        (Boolean(),),
        "bool",
        "Reuse the previous solution as the starting point of the next ``fit`` (a new optimiser is made).",
    ),
    Param(
        "momentum",
        0.9,
        (Interval("float", 0, 1, "both"),),
        "float",
        "Momentum of ``solver='sgd'``, in [0, 1].",
    ),
    Param(
        "nesterovs_momentum",
        True,
        (Boolean(),),
        "bool",
        "Use Nesterov's momentum (``solver='sgd'`` with ``momentum > 0``).",
    ),
    Param(
        "early_stopping",
        False,
        (Boolean(),),
        "bool",
        "Stop when the validation score (accuracy or R^2) has not improved by ``tol`` for "
        "``n_iter_no_change`` epochs, and restore the best epoch's weights; an epoch whose score is within "
        "``tol`` of the best one's improves on it by a validation loss lower by ``tol`` (accuracy on a small "
        "validation set, or with strong class weights, stops rising long before the model stops improving; "
        "scikit-learn compares scores only). The validation set is ``X_val, y_val`` when given to ``fit``, "
        "else a (stratified) ``validation_fraction`` of the training data. Stochastic solvers only.",
    ),
    Param(
        "validation_fraction",
        0.1,
        (_UNIT_FLOAT,),
        "float",
        "Fraction of the training data set aside for early stopping, in [0, 1): of its weight, with "
        "``sample_weight``, so that a row of weight k and k copies of it give the same split. Identical rows "
        "stay together, rows of weight 0 stay in training, and at least two distinct rows are held out.",
    ),
    Param("beta_1", 0.9, (_UNIT_FLOAT,), "float", "Adam's decay rate of the first moment, in [0, 1)."),
    Param("beta_2", 0.999, (_UNIT_FLOAT,), "float", "Adam's decay rate of the second moment, in [0, 1)."),
    Param("epsilon", 1e-8, (_POSITIVE_FLOAT,), "float", "Adam's numerical-stability constant."),
    Param(
        "n_iter_no_change",
        10,
        (_POSITIVE_INT, Options((np.inf,))),
        "int or np.inf",
        "Number of epochs without an improvement of ``tol`` before training stops (stochastic solvers).",
    ),
    Param(
        "max_fun",
        15000,
        (_POSITIVE_INT,),
        "int",
        "Maximum number of loss evaluations of lbfgs.",
    ),
    # --- glassnet additions -------------------------------------------------------------------------------
    Param(
        "dropout",
        0.0,
        (_DROP_RATE, SequenceOf(_DROP_RATE)),
        "float or array-like of shape (n_layers - 2,)",
        "Dropout rate after each hidden layer (one rate for all, or one per hidden layer), in [0, 1). "
        "Inverted dropout: active in training only. glassnet addition.",
    ),
    Param(
        "weight_decay",
        0.0,
        (_NON_NEGATIVE_FLOAT,),
        "float",
        "Decoupled weight decay (Loshchilov and Hutter): each step shrinks the weights by "
        "``lr * weight_decay * W``, apart from the gradient; with ``solver='adam'`` this is AdamW. Not used "
        "by lbfgs (use ``alpha``). glassnet addition.",
    ),
    Param(
        "warmup_fraction",
        0.0,
        (_UNIT_FLOAT,),
        "float",
        "With ``learning_rate='cosine'``, the fraction of ``max_iter`` epochs during which the learning "
        "rate rises linearly from 0, in [0, 1). glassnet addition.",
    ),
    Param(
        "batch_norm",
        False,
        (Boolean(),),
        "bool",
        "Batch normalisation (:class:`glassnet.nn.layers.BatchNorm`) between each hidden layer's affine map and "
        "its activation; predictions use the running statistics gathered in training. Stochastic solvers "
        "only. glassnet addition.",
    ),
    Param(
        "augment_shift",
        0,
        (Interval("int", 0, None, "left"),),
        "int",
        "Data augmentation for images stored as rows: each training sample is shifted by a random offset of "
        "up to ``augment_shift`` pixels on each axis, anew at every epoch (:func:`glassnet.training.augment."
        "random_shift`; the border is filled with 0). 0 turns it off. Stochastic solvers only. glassnet "
        "addition.",
    ),
    Param(
        "n_jobs",
        None,
        (NoneValue(), _POSITIVE_INT, Interval("int", None, -1, "right")),
        "int or None",
        "Processes that share each training step of the stochastic solvers (:mod:`glassnet.training.parallel`). "
        "``None`` (default) chooses for the work (:mod:`glassnet.training.workplan`): a large step is cut into as many "
        "shards as this process has cores and computed by as many processes as are idle; a small one trains "
        "in this process. The model depends on the shards, not on how busy the machine is. ``1`` is the plain "
        "one-process path (the same model on every machine with the same BLAS), ``k`` uses ``k`` shards in "
        "``k`` processes, ``-1`` every core, ``-2`` all but one. The model equals the one-process model up to "
        "rounding (dropout and augmentation draw from each shard's own random stream). Processes are forked "
        "on Linux only, and never from a daemon process, outside the main thread or where BLAS is limited to "
        "one thread (joblib's and Dask's workers); ``batch_norm`` and lbfgs train in one process. glassnet "
        "addition.",
    ),
    Param(
        "image_shape",
        None,
        (NoneValue(), SequenceOf(_POSITIVE_INT)),
        "tuple (height, width) or None",
        "Shape of the images for ``augment_shift``; ``None`` assumes square images (8x8 for 64 features, "
        "28x28 for 784). glassnet addition.",
    ),
    Param(
        "augment_rotation",
        0.0,
        (Interval("float", 0, 180, "both"),),
        "float",
        "Data augmentation for images stored as rows: each training image is rotated about its centre by an "
        "angle drawn uniformly from [-augment_rotation, augment_rotation] degrees, anew at every epoch, with "
        "bilinear interpolation (:class:`glassnet.training.augment.RandomAffine`). 0 turns it off. Stochastic "
        "solvers only. glassnet addition.",
    ),
    Param(
        "augment_scale",
        0.0,
        (_UNIT_FLOAT,),
        "float",
        "Data augmentation: each training image is zoomed about its centre by a factor drawn uniformly from "
        "[1 - augment_scale, 1 + augment_scale], in [0, 1) (with ``augment_rotation``, one bilinear resampling "
        "does both). 0 turns it off. Stochastic solvers only. glassnet addition.",
    ),
    Param(
        "augment_translation",
        0.0,
        (_NON_NEGATIVE_FLOAT,),
        "float",
        "Data augmentation: each training image is moved by a distance drawn uniformly from "
        "[-augment_translation, augment_translation] pixels along each axis, fractions of a pixel read "
        "bilinearly (with ``augment_rotation``, one resampling does both; unlike ``augment_shift``'s whole "
        "pixels). 0 turns it off. Stochastic solvers only. glassnet addition.",
    ),
    Param(
        "augment_elastic",
        0.0,
        (_NON_NEGATIVE_FLOAT,),
        "float",
        "Data augmentation: an elastic distortion of each training image (:class:`glassnet.training.augment."
        "RandomElastic`), a smooth random field moving pixels by ``augment_elastic`` pixels (root mean square "
        "along each axis; smoothed over an eighth of the image's side). 0 turns it off. Stochastic solvers "
        "only. glassnet addition.",
    ),
    Param(
        "augment_flip",
        False,
        (Boolean(),),
        "bool",
        "Data augmentation: each training image is mirrored left to right with probability 1/2 "
        "(:class:`glassnet.training.augment.RandomFlip`); for classes that look the same in a mirror "
        "(garments), not for digits. Stochastic solvers only. glassnet addition.",
    ),
    Param(
        "augment_noise",
        0.0,
        (_NON_NEGATIVE_FLOAT,),
        "float",
        "Data augmentation for any inputs: Gaussian noise of this standard deviation is added to every "
        "training input, anew for every batch (:class:`glassnet.training.augment.GaussianNoise`). 0 turns it "
        "off. Stochastic solvers only. glassnet addition.",
    ),
    Param(
        "weight_averaging",
        None,
        (NoneValue(), Options(("ema", "swa"))),
        "{'ema', 'swa'} or None",
        "Predict with an average of the weights training passed through "
        "(:class:`glassnet.training.averaging.WeightAveraging`): ``'ema'``, an exponential moving average "
        "updated after every step with ``averaging_decay``; ``'swa'``, the mean of the weights at the end of "
        "each epoch. Averaging starts after ``averaging_start`` of the ``max_iter`` epochs. ``None`` (default) "
        "keeps the last weights. Stochastic solvers only; each ``partial_fit`` call averages on its own. "
        "glassnet addition.",
    ),
    Param(
        "averaging_start",
        0.0,
        (_UNIT_FLOAT,),
        "float",
        "With ``weight_averaging``, the fraction of the ``max_iter`` epochs trained before averaging starts, "
        "in [0, 1). glassnet addition.",
    ),
    Param(
        "averaging_decay",
        0.999,
        (_UNIT_FLOAT,),
        "float",
        "With ``weight_averaging='ema'``, the decay of the moving average in [0, 1): it remembers about "
        "``1 / (1 - averaging_decay)`` steps. glassnet addition.",
    ),
)

CLASSIFIER_PARAMS: tuple[Param, ...] = COMMON_PARAMS + (
    Param(
        "class_weight",
        None,
        (DictOfWeights(), Options(("balanced",)), NoneValue()),
        "dict, 'balanced' or None",
        "Weights of the classes, multiplied into ``sample_weight``: ``{label: weight}``, or ``'balanced'`` "
        "for ``n_samples / (n_classes * bincount(y))``. Not for multi-label targets. glassnet addition.",
    ),
    Param(
        "label_smoothing",
        0.0,
        (_UNIT_FLOAT,),
        "float",
        "Label smoothing of the softmax cross-entropy, in [0, 1): the target of each sample becomes "
        "``(1 - label_smoothing) * one_hot + label_smoothing / n_classes``, which keeps the network from "
        "growing ever more confident. Multiclass targets only. glassnet addition.",
    ),
    Param(
        "test_time_rotations",
        None,
        (NoneValue(), SequenceOf(Interval("float", -180, 180, "both"))),
        "sequence of float or None",
        "Test-time augmentation for images stored as rows: ``predict``, ``predict_proba``, "
        "``predict_log_proba`` and ``score`` average the class probabilities of the image rotated by each of "
        "these angles in degrees (0 is the image itself), e.g. ``(-10, -5, 0, 5, 10)``, at that many times the "
        "cost (:func:`glassnet.training.augment.average_over_rotations`). For networks trained with "
        "``augment_rotation``. ``None`` or empty (default): the image alone. Dense inputs only; the validation "
        "score during training and an ONNX export (which warns) use the image alone. glassnet addition.",
    ),
)


class RegressionLoss:
    """The name of a registered regression loss (:data:`glassnet.nn.losses.LOSSES`), or a
    :class:`~glassnet.nn.losses.Loss` instance whose ``task`` is ``'regression'``."""

    def is_satisfied_by(self, value) -> bool:
        from glassnet.nn.losses import LOSSES, Loss

        if isinstance(value, Loss):
            return value.task == "regression"
        return isinstance(value, str) and value in LOSSES and LOSSES[value].task == "regression"

    def __str__(self) -> str:
        from glassnet.nn.losses import LOSSES

        names = sorted(name for name, cls in LOSSES.items() if cls.task == "regression")
        return "a str among {" + ", ".join(repr(n) for n in names) + "} or a regression Loss instance"


#: the regression losses' own parameters (after the common ones: keyword-only)
LOSS_PARAMS: tuple[Param, ...] = (
    Param(
        "quantile",
        None,
        (NoneValue(), Interval("float", 0, 1, "neither")),
        "float or None",
        "The quantile that ``loss='quantile'`` predicts, in (0, 1); ``None`` is the median, 0.5. Used by that "
        "loss only (an error with another), as in scikit-learn's ``HistGradientBoostingRegressor``.",
    ),
    Param(
        "huber_delta",
        None,
        (NoneValue(), _POSITIVE_FLOAT),
        "float or None",
        "The residual at which ``loss='huber'`` turns from quadratic to linear, in units of ``y``; ``None`` "
        "is 1.0. Used by that loss only (an error with another). scikit-learn's ``SGDRegressor`` and "
        "``HuberRegressor`` call it ``epsilon``, which names Adam's constant here. glassnet addition.",
    ),
)

LOSS = Param(
    "loss",
    "squared_error",
    (RegressionLoss(),),
    "str or Loss",
    "Loss, by name from glassnet's registry of regression losses: ``'squared_error'`` (half the mean "
    "squared error), ``'poisson'`` (half the Poisson deviance, exponential output, for non-negative "
    "targets such as counts), ``'absolute_error'``, ``'huber'`` (threshold ``huber_delta``) and "
    "``'quantile'`` (alias ``'pinball'``: the ``quantile``-th quantile, as scikit-learn's "
    "``HistGradientBoostingRegressor(loss='quantile', quantile=0.9)``); or a "
    ":class:`glassnet.nn.losses.Loss` instance, e.g. ``PinballLoss(quantile=0.9)``. A loss of your own "
    "works once registered (:func:`glassnet.nn.losses.register_loss`).",
    positional=True,
)

REGRESSOR_PARAMS: tuple[Param, ...] = (LOSS, *COMMON_PARAMS, *LOSS_PARAMS)

#: the regression losses' parameters: the estimator's name -> the name in the loss's constructor
LOSS_OPTIONS = {"quantile": "quantile", "huber_delta": "delta"}


# --- use of the declarations ------------------------------------------------------------------------------


def validate_params(estimator, params: tuple[Param, ...]) -> None:
    """Check each declared parameter; raise :class:`InvalidParameterError` at the first bad one.

    The message follows scikit-learn's: ``The 'alpha' parameter of MLPClassifier must be a float in the
    range [0.0, inf). Got -1 instead.``
    """
    for param in params:
        value = getattr(estimator, param.name)
        if any(constraint.is_satisfied_by(value) for constraint in param.constraints):
            continue
        descriptions = [str(constraint) for constraint in param.constraints]
        if len(descriptions) == 1:
            allowed = descriptions[0]
        else:
            allowed = ", ".join(descriptions[:-1]) + " or " + descriptions[-1]
        raise InvalidParameterError(
            f"The {param.name!r} parameter of {type(estimator).__name__} must be {allowed}. "
            f"Got {value!r} instead."
        )


def make_init(params: tuple[Param, ...]):
    """Build an ``__init__`` that stores each declared parameter unchanged, as scikit-learn requires.

    The function carries an explicit ``__signature__`` (the names, defaults and the keyword-only marker after
    the positional parameters), so ``inspect.signature``, ``get_params``, ``clone``, ``repr`` and IDEs see
    the real parameters; no validation happens here (scikit-learn validates in ``fit``).
    """
    kinds = {True: inspect.Parameter.POSITIONAL_OR_KEYWORD, False: inspect.Parameter.KEYWORD_ONLY}
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    signature = inspect.Signature(
        [self_param] + [inspect.Parameter(p.name, kinds[p.positional], default=p.default) for p in params]
    )

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for name, value in bound.arguments.items():
            if name != "self":
                setattr(self, name, value)

    __init__.__signature__ = signature
    return __init__


def params_docstring(params: tuple[Param, ...], indent: str = "    ") -> str:
    """The numpydoc ``Parameters`` section for ``params``, built from their declarations."""
    import textwrap

    lines = ["Parameters", "----------"]
    for param in params:
        lines.append(f"{param.name} : {param.type_doc}, default={param.default!r}")
        wrapped = textwrap.wrap(param.doc, width=100)
        lines.extend(indent + line for line in wrapped)
        lines.append("")
    return "\n".join(lines)


def loss_options(estimator) -> dict:
    """The keyword arguments that ``quantile`` and ``huber_delta`` give the regression loss's constructor.

    A value that the chosen loss does not take is refused (scikit-learn's ``HistGradientBoostingRegressor``
    ignores ``quantile`` with another loss; here ``MLPRegressor(loss='huber', quantile=0.9)`` is a mistake
    worth a sentence). With a :class:`~glassnet.nn.losses.Loss` instance as ``loss``, its own parameters rule.
    """
    from glassnet.nn.losses import LOSSES

    loss, options = estimator.loss, {}
    for name, keyword in LOSS_OPTIONS.items():
        value = getattr(estimator, name, None)
        if value is None:
            continue
        if not isinstance(loss, str):
            raise InvalidParameterError(
                f"{name}={value!r} is given together with loss={loss!r}, a Loss instance that has its own "
                f"parameters; pass the loss by name (e.g. loss='quantile', quantile=0.9) or leave {name}=None."
            )
        if keyword not in inspect.signature(LOSSES[loss]).parameters:
            takers = sorted(n for n, cls in LOSSES.items() if keyword in inspect.signature(cls).parameters)
            raise InvalidParameterError(
                f"{name}={value!r} is used only by loss in {takers}; loss={loss!r} does not take it. "
                f"Choose one of those losses, or leave {name}=None."
            )
        options[keyword] = float(value)
    return options
