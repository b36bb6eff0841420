"""``MLPClassifier``: scikit-learn's multilayer-perceptron classifier on glassnet's engine."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import ClassifierMixin
from sklearn.callback import with_callbacks
from sklearn.metrics import accuracy_score
from sklearn.utils import column_or_1d
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted

from glassnet.config.params import CLASSIFIER_PARAMS, make_init
from glassnet.estimators._base import BaseMultilayerPerceptron
from glassnet.estimators._docs import build_docstring, document_validation
from glassnet.estimators._validation import validation_arguments
from glassnet.training.augment import average_over_rotations

_SUMMARY = r"""Multilayer-perceptron classifier: scikit-learn's ``MLPClassifier`` on glassnet's engine.

It minimises the log-loss (softmax cross-entropy for several classes, one sigmoid per output for binary and
multi-label targets) with L-BFGS, SGD or Adam. Change ``from sklearn.neural_network import MLPClassifier`` to
``from glassnet import MLPClassifier`` and the rest of the code stays the same."""

_EXTRA_ATTRIBUTES = r"""classes_ : ndarray of shape (n_classes,)
    The class labels (for multi-label targets, ``arange(n_labels)``).
target_type_ : {'binary', 'multiclass', 'multilabel-indicator'}
    The kind of target seen by ``fit``: it fixes the output layer (one logistic unit, a softmax, or one
    logistic unit per label) and how outputs are decoded into labels.
"""

_EXAMPLES = r"""Examples
--------
>>> from sklearn.datasets import load_iris
>>> from glassnet import MLPClassifier
>>> X, y = load_iris(return_X_y=True)
>>> clf = MLPClassifier(hidden_layer_sizes=(20,), solver="lbfgs", max_iter=500, random_state=0).fit(X, y)
>>> clf.predict(X[:3])
array([0, 0, 0])
>>> clf.predict_proba(X[:1]).shape
(1, 3)
>>> bool(clf.score(X, y) > 0.95)
True"""


def _plain(label):
    """A NumPy scalar label as a plain Python value, for readable messages (``'a'``, not ``np.str_('a')``)."""
    return label.item() if isinstance(label, np.generic) else label


class MLPClassifier(ClassifierMixin, BaseMultilayerPerceptron):
    __doc__ = build_docstring(_SUMMARY, CLASSIFIER_PARAMS, _EXTRA_ATTRIBUTES, ", ``class_weight``", _EXAMPLES)

    _declared_params = CLASSIFIER_PARAMS
    #: scikit-learn's ``loss`` attribute: the classifier always minimises the log-loss
    loss = "log_loss"
    __init__ = make_init(CLASSIFIER_PARAMS)
    _score_function = staticmethod(accuracy_score)

    @with_callbacks
    @document_validation
    def fit(
        self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None, eval_set=None,
        callbacks=None,
    ):  # fmt: skip
        """Fit the model to ``X`` and the labels ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training inputs; float32 input trains a float32 network, anything else float64.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels (any hashable type), or a 0/1 indicator matrix for multi-label targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights (multiplied by ``class_weight`` when set), finite and non-negative, with a
            positive sum. scikit-learn accepts negative weights; glassnet refuses them, since a row with a
            negative weight rewards a larger loss on it, so the weighted loss has no lower bound and training
            runs away.
        {validation}
        callbacks : list, default=None
            glassnet engine callbacks (:mod:`glassnet.training.callbacks`: any object with ``on_epoch_end(trainer, epoch,
            logs)`` and the other hooks) for this fit of the ``'sgd'`` and ``'adam'`` solvers, e.g. a progress
            bar or a checkpoint. scikit-learn's own callbacks are set with ``set_callbacks``.

        Returns
        -------
        self : MLPClassifier
            The fitted estimator.
        """
        validation = validation_arguments(X_val, y_val, sample_weight_val, eval_set)
        return self._fit(
            X, y, sample_weight, validation=validation, incremental=False, callbacks=callbacks or ()
        )

    @available_if(lambda est: est._check_solver())
    @with_callbacks
    @document_validation
    def partial_fit(
        self, X, y, sample_weight=None, classes=None, *, X_val=None, y_val=None, sample_weight_val=None,
        eval_set=None, callbacks=None,
    ):  # fmt: skip
        """One epoch over ``X, y`` (solvers ``'sgd'`` and ``'adam'`` only).

        A validation set (``X_val, y_val``) is scored after each call. With ``early_stopping=True`` it is
        required, and the stream stops (later calls change nothing, with a warning) once ``n_iter_no_change``
        calls pass without improvement, with the best weights restored; scikit-learn refuses early stopping in
        ``partial_fit`` (its issue #25693).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
        sample_weight : array-like of shape (n_samples,), default=None
        classes : array-like of shape (n_classes,), default=None
            All the classes of the stream; required on the first call, for single-label targets.
        {validation}
        callbacks : list, default=None
            glassnet engine callbacks for this call (see ``fit``).

        Returns
        -------
        self : MLPClassifier
        """
        if not hasattr(self, "network_") and classes is None and type_of_target(y) != "multilabel-indicator":
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if (
            hasattr(self, "classes_")
            and classes is not None
            and not np.array_equal(np.unique(classes), self.classes_)
        ):
            raise ValueError(
                f"classes={classes!r} is not the same as on the first call to partial_fit, "
                f"which was {self.classes_!r}."
            )
        return self._fit(
            X,
            y,
            sample_weight=sample_weight,
            validation=validation_arguments(X_val, y_val, sample_weight_val, eval_set),
            incremental=True,
            classes=classes,
            callbacks=callbacks or (),
        )

    # --- targets --------------------------------------------------------------------------------------------

    def _validate_targets(self, y, dtype, first_pass, incremental, classes, is_eval=False):
        """Check the labels, fix ``classes_`` on a first fit, and encode them for the loss."""
        if sp.issparse(y):
            y = y.toarray()
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        target = type_of_target(y)  # once: each call inspects the whole of y (about 0.3 ms for the digits)
        if target == "multiclass-multioutput":
            raise ValueError(f"{type(self).__name__} does not support multi-output multiclass targets.")
        if is_eval:
            _check_validation_labels(y, self.classes_, self.target_type_)
        if first_pass:
            self._set_classes(y, classes, target)
        else:
            self._check_classes(y, same_classes=self.warm_start and not incremental and not is_eval)
        return y, self._encode(y, dtype)

    def _set_classes(self, y, classes, target: str) -> None:
        """``classes_`` and ``target_type_`` from the labels ``y`` of type ``target`` (``type_of_target``)."""
        if target == "multilabel-indicator":
            self.classes_ = np.arange(y.shape[1])
            self.target_type_ = "multilabel-indicator"
            return
        if classes is None:  # y's type is known: unique_labels need not find it again
            self.classes_ = unique_labels(y, ys_types={target})
        else:
            self.classes_ = unique_labels(np.asarray(classes))
        # a single class (as scikit-learn allows) is a binary target, as type_of_target says: one sigmoid unit
        # (out_activation_ 'logistic') trained towards 0, "not another class", as scikit-learn's LabelBinarizer
        # encodes it; the class is always predicted, with probability 1
        self.target_type_ = "binary" if len(self.classes_) <= 2 else "multiclass"
        if classes is not None:
            self._check_classes(y, same_classes=False)  # partial_fit: y must use the declared classes

    def _check_classes(self, y, same_classes: bool) -> None:
        if self.target_type_ == "multilabel-indicator":
            if y.ndim != 2 or y.shape[1] != len(self.classes_):
                n_labels = len(self.classes_)
                raise ValueError(f"y must be an indicator matrix with {n_labels} columns, as in fit.")
            return
        if y.ndim != 1:
            raise ValueError("y must be a 1-D array of class labels, as in fit.")
        labels = unique_labels(y)
        if same_classes and not np.array_equal(labels, self.classes_):
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as in the previous call to fit. "
                f"Previously got {self.classes_}, `y` has {labels}"
            )
        unseen = np.setdiff1d(labels, self.classes_)
        if len(unseen):
            raise ValueError(
                f"`y` has classes not in `self.classes_`: {unseen}. `self.classes_` has {self.classes_}."
            )

    def _encode(self, y, dtype) -> np.ndarray:
        if self.target_type_ == "multiclass":
            return np.searchsorted(self.classes_, y).astype(np.intp)  # class indices (N,)
        if self.target_type_ == "binary" and len(self.classes_) == 1:
            return np.zeros((len(y), 1), dtype=dtype)  # (N, 1) of 0: one class, "not another one"
        if self.target_type_ == "binary":
            return (y == self.classes_[-1]).astype(dtype).reshape(-1, 1)  # (N, 1) of 0/1 (1: the last class)
        return np.asarray(y, dtype=dtype)  # multi-label indicators (N, K)

    def _task(self) -> str:
        """The loss head: a softmax over the classes, or one sigmoid per output (binary and multi-label)."""
        return "multiclass" if self.target_type_ == "multiclass" else "multilabel"

    def _apply_class_weight(self, y, Y, sample_weight, incremental, dtype):
        """Multiply ``class_weight`` into the sample weights; refuse weights that leave a single class."""
        if self.class_weight is not None:
            if self.target_type_ == "multilabel-indicator":
                raise ValueError("class_weight is not supported for multi-label targets; pass sample_weight.")
            if incremental and isinstance(self.class_weight, str):
                raise ValueError(
                    "class_weight='balanced' is not supported by partial_fit, which sees one batch at a "
                    "time. Compute the weights on the whole data with "
                    "sklearn.utils.class_weight.compute_class_weight and pass them as a dict."
                )
            # 'balanced' counts the weighted samples, as scikit-learn's LogisticRegression does: a row of
            # weight k counts as k rows; a class of total weight 0 (divided by) weighs nothing
            with np.errstate(divide="ignore"):
                per_class = compute_class_weight(
                    self.class_weight, classes=self.classes_, y=y, sample_weight=sample_weight
                )
            per_class = np.where(np.isfinite(per_class), per_class, 0.0)
            per_sample = per_class[np.searchsorted(self.classes_, y)].astype(dtype)
            sample_weight = per_sample if sample_weight is None else sample_weight * per_sample
        one_label = self.target_type_ == "multilabel-indicator" or len(self.classes_) == 1
        if sample_weight is not None and not incremental and not one_label:
            weighted = np.unique(y[sample_weight > 0])
            if len(weighted) < 2:
                raise ValueError(
                    f"Only one class ({_plain(weighted[0])!r}) has a non-zero sample_weight; "
                    f"{type(self).__name__} needs weighted samples of at least 2 classes."
                )
        return sample_weight

    # --- prediction -----------------------------------------------------------------------------------------

    def _predict_from_logits(self, z: np.ndarray) -> np.ndarray:
        decided = self.network_.loss.predict(z)  # class indices (softmax head) or 0/1 indicators (sigmoid)
        if self.target_type_ == "multiclass":
            return self.classes_[decided]
        if self.target_type_ == "binary":
            return self.classes_[np.minimum(decided[:, 0], len(self.classes_) - 1)]  # one class: always it
        return decided

    def predict(self, X):
        """Predicted labels, shape ``(n_samples,)`` (or ``(n_samples, n_labels)`` for multi-label targets)."""
        check_is_fitted(self)
        if not getattr(self, "test_time_rotations", None):  # (getattr: estimators pickled before it existed)
            return self._predict_from_logits(self._logits(X))
        proba = _averaged_proba(self, X)  # the class of highest mean probability over the rotated copies
        if self.target_type_ == "multilabel-indicator":
            return (proba > 0.5).astype(int)
        return self.classes_[np.argmax(proba, axis=1)]

    def predict_proba(self, X):
        """Class probabilities of shape ``(n_samples, n_classes)``, in the order of ``classes_``."""
        check_is_fitted(self)
        if getattr(self, "test_time_rotations", None):
            return _averaged_proba(self, X)
        return self._probabilities(self._logits(X), log=False)

    def predict_log_proba(self, X):
        """Log-probabilities from a log-softmax (or log-sigmoid) of the logits.

        Unlike ``log(predict_proba(X))`` (scikit-learn's definition), it stays finite when a probability
        underflows to 0 (with ``test_time_rotations``, the log of the mean probability, clipped at the
        smallest positive float).
        """
        check_is_fitted(self)
        if getattr(self, "test_time_rotations", None):
            return np.log(np.maximum(_averaged_proba(self, X), np.finfo(np.float64).tiny))
        return self._probabilities(self._logits(X), log=True)

    def _probabilities(self, z: np.ndarray, log: bool) -> np.ndarray:
        """The loss head's (log-)probabilities; a binary target's one sigmoid output gives the two columns
        ``f(-z), f(z)`` (as ``1 - sigmoid(z) = sigmoid(-z)``), and a single class has probability 1."""
        f = self.network_.loss.log_proba if log else self.network_.loss.link
        if self.target_type_ != "binary":
            return f(z)
        if len(self.classes_) == 1:
            return np.zeros_like(z) if log else np.ones_like(z)
        return np.column_stack([f(-z[:, :1])[:, 0], f(z[:, :1])[:, 0]])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # indicator targets train one sigmoid per label, unless a setting needs single-label targets
        tags.classifier_tags.multi_label = self.class_weight is None and not self.label_smoothing
        return tags


def _averaged_proba(est: MLPClassifier, X) -> np.ndarray:
    """``test_time_rotations``: the mean probabilities over the rotated copies of each image row."""
    X = est._validate_x(X)
    if sp.issparse(X):
        raise ValueError(
            "test_time_rotations rotates the rows as images and needs a dense X; got a sparse matrix "
            "(call X.toarray() first, or set test_time_rotations=None)."
        )

    def proba(view):
        return est._probabilities(est._logits(view, validate=False), log=False)

    return average_over_rotations(proba, X, est.test_time_rotations, est.image_shape)


def _check_validation_labels(y_val, classes, target_type: str) -> None:
    """``y_val`` in the training targets' form, with no class that training has not seen."""
    if target_type == "multilabel-indicator":
        if y_val.ndim != 2 or y_val.shape[1] != len(classes):
            raise ValueError(
                f"y_val must be an indicator matrix with {len(classes)} columns, as the training "
                f"targets y; got shape {y_val.shape}."
            )
        return
    if y_val.ndim != 1:
        raise ValueError(
            f"y_val must be a 1-D array of class labels, as the training targets y; got shape {y_val.shape}."
        )
    unseen = np.setdiff1d(unique_labels(y_val), classes)
    if len(unseen):
        raise ValueError(
            f"y_val has classes that the training targets y do not: {unseen}; the model knows "
            f"{classes}. Remove those rows from the validation set (or, with partial_fit, declare "
            "every class with classes=... on the first call)."
        )
