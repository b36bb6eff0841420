"""Fitted multilayer perceptrons between scikit-learn and glassnet, with the same predictions.

Both libraries compute :math:`a_{l+1} = f(a_l C_l + c_l)` with the same activations, the same output heads
and the same decoding of outputs into labels; only the layout differs: scikit-learn's ``coefs_[l]`` is
``(n_in, n_out)``, glassnet's ``Dense.W`` its transpose. So a conversion copies the weights and the fitted
attributes that prediction reads.

The target model is built by the target library itself, so that every attribute its ``predict`` needs is
there, whatever its version keeps: each conversion fits a fresh estimator with the source's
hyper-parameters for one iteration on a few rows of made-up data with the same kind of targets (the same
classes, or the same number of outputs), then overwrites its weights and training records. Nothing but
public attributes and ``state_dict``/``load_state_dict`` is touched.

``to_sklearn`` folds batch normalisation into the preceding layer and drops dropout (both are inference
no-ops for scikit-learn's plain MLP); an activation converts under the name its layer declares as scikit-learn's
(``sklearn_name``, see :class:`glassnet.nn.layers.ActivationLayer`), and one that scikit-learn lacks (no such
name) raises.
"""

from __future__ import annotations

import warnings

import numpy as np

from glassnet.export._lower import Activation, Affine, lower_network
from glassnet.nn.layers import ACTIVATION_LAYERS

__all__ = ["from_sklearn", "to_sklearn"]

#: training records copied in both directions when the source has them
_RECORDS = (
    "n_iter_",
    "t_",
    "loss_",
    "loss_curve_",
    "best_loss_",
    "validation_scores_",
    "best_validation_score_",
    "feature_names_in_",
)


def _kind(estimator) -> str:
    """``'classifier'`` or ``'regressor'``, from scikit-learn's estimator tags."""
    from sklearn.base import is_classifier, is_regressor

    if is_classifier(estimator):
        return "classifier"
    if is_regressor(estimator):
        return "regressor"
    raise TypeError(
        f"Expected a multilayer-perceptron classifier or regressor; got {type(estimator).__name__}."
    )


def _target_kind(estimator) -> str:
    """``binary``, ``multiclass``, ``multilabel`` or ``regression`` from fitted attributes both libraries share."""
    if _kind(estimator) == "regressor":
        return "regression"
    if estimator.out_activation_ == "softmax":
        return "multiclass"
    return "binary" if estimator.n_outputs_ == 1 else "multilabel"


def _dummy_data(source, dtype):
    """A few rows with the source's width and the same kind of targets (classes, labels or outputs)."""
    kind = _target_kind(source)
    n_features = int(source.n_features_in_)
    rng = np.random.default_rng(0)
    if kind in ("binary", "multiclass"):
        classes = np.asarray(source.classes_)
        n = max(4 * len(classes), 8)
        y = np.resize(classes, n)
    elif kind == "multilabel":
        k = int(source.n_outputs_)
        y = np.tile(
            np.vstack([np.eye(k, dtype=int), 1 - np.eye(k, dtype=int)]), (2, 1)
        )  # both values per column
        n = len(y)
    else:
        k = int(source.n_outputs_)
        n = 8
        y = np.ones((n, k)) if k > 1 else np.ones(n)  # non-negative, for a Poisson loss too
    X = rng.normal(size=(n, n_features)).astype(dtype)
    return X, y


def _fit_shell(target, X, y):
    """Fit ``target`` for one quiet iteration (its architecture and fitted attributes, not its weights), then
    restore the hyper-parameters that were changed for that."""
    quick = {"max_iter": 1, "early_stopping": False, "warm_start": False, "verbose": False}
    own = target.get_params(deep=False)
    saved = {k: own[k] for k in quick if k in own}
    target.set_params(**{k: v for k, v in quick.items() if k in own})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning after one iteration: intended
        target.fit(X, y)
    target.set_params(**saved)
    return target


def _copy_records(source, target) -> None:
    for name in _RECORDS:
        if hasattr(source, name):
            value = getattr(source, name)
            setattr(target, name, value.copy() if hasattr(value, "copy") else value)
        elif name in vars(target):
            delattr(target, name)  # the one-iteration fit's records would be misleading
    if hasattr(source, "classes_"):
        target.classes_ = np.asarray(source.classes_).copy()


def _shared_params(source, target_cls, **overrides) -> dict:
    accepted = target_cls().get_params(deep=False)
    params = {k: v for k, v in source.get_params(deep=False).items() if k in accepted}
    params.update(overrides)
    return params


def _check_source(estimator, library: str) -> None:
    """Raise unless ``estimator`` is a fitted multilayer perceptron of ``library`` (sklearn or glassnet)."""
    from sklearn import neural_network
    from sklearn.utils.validation import check_is_fitted

    import glassnet.estimators as estimators

    if library == "sklearn":
        accepted, what, fitted = (
            (neural_network.MLPClassifier, neural_network.MLPRegressor),
            "scikit-learn",
            "coefs_",
        )
    else:
        accepted, what, fitted = (estimators.MLPClassifier, estimators.MLPRegressor), "glassnet", "network_"
    if not isinstance(estimator, accepted):
        name = f"{type(estimator).__module__}.{type(estimator).__name__}"
        raise TypeError(f"Expected a fitted {what} MLPClassifier or MLPRegressor; got {name}.")
    check_is_fitted(estimator, fitted)


def from_sklearn(estimator):
    """A glassnet estimator with the weights, classes and training records of a fitted scikit-learn one.

    Parameters
    ----------
    estimator : sklearn.neural_network.MLPClassifier or MLPRegressor
        Fitted.

    Returns
    -------
    glassnet.MLPClassifier or glassnet.MLPRegressor
        Same hyper-parameters; ``predict`` and ``predict_proba`` equal the source's up to rounding.

    Raises
    ------
    TypeError
        If ``estimator`` is not a scikit-learn multilayer perceptron.
    sklearn.exceptions.NotFittedError
        If it has not been fitted.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.neural_network import MLPClassifier
    >>> from glassnet.export import from_sklearn
    >>> X, y = load_iris(return_X_y=True)
    >>> sk = MLPClassifier((10,), solver="lbfgs", max_iter=300, random_state=0).fit(X, y)
    >>> gl = from_sklearn(sk)
    >>> bool((gl.predict(X) == sk.predict(X)).all())
    True
    """
    import glassnet.estimators as estimators

    _check_source(estimator, "sklearn")
    cls = estimators.MLPClassifier if _kind(estimator) == "classifier" else estimators.MLPRegressor
    dtype = np.asarray(estimator.coefs_[0]).dtype
    target = _fit_shell(cls(**_shared_params(estimator, cls)), *_dummy_data(estimator, dtype))
    network = target.network_
    dense = [i for i, spec in enumerate(network.get_config()["layers"]) if spec["type"] == "Dense"]
    if len(dense) != len(estimator.coefs_):
        raise RuntimeError(
            f"glassnet built {len(dense)} Dense layers for {len(estimator.coefs_)} scikit-learn layers; "
            "glassnet's estimator has changed how it builds its network."
        )
    state = network.state_dict()
    for i, coef, intercept in zip(dense, estimator.coefs_, estimator.intercepts_, strict=True):
        state[f"layers.{i}.W"] = np.asarray(coef).T  # (in, out) -> glassnet's (out, in)
        state[f"layers.{i}.b"] = np.asarray(intercept)
    network.load_state_dict(state)
    _copy_records(estimator, target)
    return target


def to_sklearn(estimator):
    """A scikit-learn estimator with the weights, classes and training records of a fitted glassnet one.

    Batch normalisation is folded into the preceding layer and dropout dropped (both as at prediction time).

    Parameters
    ----------
    estimator : glassnet.MLPClassifier or glassnet.MLPRegressor
        Fitted, with a hidden activation scikit-learn has (one whose layer declares its ``sklearn_name``:
        ``identity``, ``logistic``, ``tanh``, ``relu``).

    Returns
    -------
    sklearn.neural_network.MLPClassifier or MLPRegressor
        The hyper-parameters both libraries have; ``predict`` and ``predict_proba`` equal the source's up to
        rounding.

    Raises
    ------
    TypeError
        If ``estimator`` is not a glassnet estimator.
    sklearn.exceptions.NotFittedError
        If it has not been fitted.
    ValueError
        If the network uses what scikit-learn's MLP cannot express (an activation it lacks, more than one
        hidden activation, or layers other than Dense, an activation, batch norm and dropout).
    """
    from sklearn import neural_network

    _check_source(estimator, "glassnet")
    steps = lower_network(estimator.network_)
    affines, activation = _plain_mlp(steps)
    cls = neural_network.MLPClassifier if _kind(estimator) == "classifier" else neural_network.MLPRegressor
    dtype = np.dtype(estimator.network_.dtype)
    params = _shared_params(estimator, cls, activation=activation)
    params.update(_regression_loss(estimator, cls))
    target = _fit_shell(cls(**params), *_dummy_data(estimator, dtype))
    if len(target.coefs_) != len(affines):
        raise RuntimeError(f"scikit-learn built {len(target.coefs_)} layers for glassnet's {len(affines)}.")
    target.coefs_ = [
        np.ascontiguousarray(step.W.T, dtype=dtype) for step in affines
    ]  # (out, in) -> (in, out)
    target.intercepts_ = [step.b.astype(dtype) for step in affines]
    _copy_records(estimator, target)
    return target


#: the regression losses scikit-learn's MLPRegressor has
SKLEARN_REGRESSION_LOSSES = ("squared_error", "poisson")


def _regression_loss(estimator, cls) -> dict:
    """``{"loss": ...}`` for scikit-learn when glassnet's regression loss is one it lacks (``{}`` otherwise).
    The losses it lacks (Huber, absolute error, quantile) have an identity output, so the predictions do not
    depend on the loss: the model converts with ``'squared_error'`` and a warning (a further fit in
    scikit-learn minimises that)."""
    loss = getattr(estimator, "loss", None)
    if "loss" not in cls().get_params() or not isinstance(loss, str) or loss in SKLEARN_REGRESSION_LOSSES:
        return {}
    warnings.warn(
        f"scikit-learn's MLPRegressor has no loss={loss!r}: the converted model predicts the same values "
        "(an identity output), with loss='squared_error' if you fit it further.",
        UserWarning,
        stacklevel=3,
    )
    return {"loss": "squared_error"}


def _plain_mlp(steps) -> tuple[list[Affine], str]:
    """The affine layers and the one hidden activation (scikit-learn's name) of a lowered network."""
    affines = [s for s in steps if isinstance(s, Affine)]
    gaps: list[list] = [[]]
    for step in steps:
        if isinstance(step, Affine):
            gaps.append([])
        else:
            gaps[-1].append(step)
    before, hidden, after = gaps[0], gaps[1:-1], gaps[-1]
    mixed = any(not isinstance(g[0], Activation) for g in hidden if g)  # a batch norm after no Dense
    if before or after or mixed or any(len(g) > 1 for g in hidden):
        raise ValueError(
            "Only a plain multilayer perceptron (Dense, then one activation between Dense layers) converts "
            "to scikit-learn."
        )
    # glassnet's name -> scikit-learn's (None: scikit-learn lacks it); a gap without an activation is identity
    found = {g[0].name: g[0].layer.sklearn_name for g in hidden if g}
    if not all(hidden):
        found["identity"] = "identity"
    if len(found) > 1:
        raise ValueError(f"scikit-learn's MLP has one hidden activation; this network has {sorted(found)}.")
    name, sklearn_name = found.popitem()
    if sklearn_name is None:
        has = sorted({cls.sklearn_name for cls in ACTIVATION_LAYERS.values() if cls.sklearn_name})
        raise ValueError(
            f"scikit-learn's MLP has no {name!r} activation (it has {', '.join(has)}); this model cannot be "
            "converted."
        )
    return affines, sklearn_name
