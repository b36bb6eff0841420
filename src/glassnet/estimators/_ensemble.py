r"""``EnsembleClassifier``: the same classifier trained from several random seeds, probabilities averaged.

Networks trained from different initialisations (and mini-batch orders) make partly independent errors;
averaging their class probabilities,

.. math:: p(k \mid x) = \frac1M \sum_{m=1}^{M} p_m(k \mid x),

cancels part of them; members that differ in more than their seed (``member_params``: with and without batch
normalisation, say) make less correlated errors and cancel more. It costs :math:`M` times the training and prediction time, and on small data sets it
is one of the most reliable ways to gain accuracy (glassnet's digits recipe uses it).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils.validation import check_is_fitted

from glassnet.config.params import InvalidParameterError
from glassnet.estimators._docs import DocumentationLinkMixin


class EnsembleClassifier(DocumentationLinkMixin, MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Average the predicted probabilities of ``n_estimators`` copies of ``estimator``, each with its own seed.

    Parameters
    ----------
    estimator : classifier, default=None
        The member; it must have a ``random_state`` parameter and ``predict_proba``. ``None`` uses
        :class:`glassnet.MLPClassifier` with its defaults.
    n_estimators : int, default=5
        Number of members :math:`M`.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the members' ``random_state`` (member ``m`` gets the ``m``-th number drawn from it).
    member_params : list of dict or None, default=None
        Settings that vary between members: member ``m`` is ``estimator`` with ``member_params[m % len]`` set
        (after its seed), e.g. ``[{"batch_norm": True}, {"batch_norm": False}]`` alternates batch
        normalisation. ``None``: every member has the estimator's settings.
    n_jobs : int or None, default=None
        Members fitted at once, each in its own process (joblib; ``-1``: one per core; never more processes
        than members). ``None`` fits them one after another, each using the machine as it would alone.
        Processes share nothing, so two members on two cores take about half the wall time of two in turn;
        joblib limits each process's BLAS to the cores divided by the processes, and the members are the
        same, bit for bit, as with ``n_jobs=None``.

    Attributes
    ----------
    estimators_ : list of classifiers
        The fitted members.
    classes_ : ndarray of shape (n_classes,)
        The class labels (the members' ``classes_``).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from glassnet import MLPClassifier
    >>> from glassnet.estimators import EnsembleClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> member = MLPClassifier(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=300)
    >>> ens = EnsembleClassifier(member, n_estimators=3, random_state=0).fit(X, y)
    >>> ens.predict_proba(X[:2]).shape
    (2, 3)
    """

    def __init__(
        self, estimator=None, n_estimators: int = 5, random_state=None, member_params=None, n_jobs=None
    ) -> None:
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.random_state = random_state
        self.member_params = member_params
        self.n_jobs = n_jobs

    def _member_template(self):
        if self.estimator is None:
            from glassnet.estimators._classifier import MLPClassifier

            return MLPClassifier()
        return self.estimator

    def fit(self, X, y, **fit_params):
        """Fit every member on ``X, y`` (``fit_params``, e.g. ``sample_weight``, are passed on).

        Returns
        -------
        self : EnsembleClassifier
        """
        n = self.n_estimators
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise InvalidParameterError(
                f"The 'n_estimators' parameter of EnsembleClassifier must be an int in the range [1, inf). "
                f"Got {n!r} instead."
            )
        template = self._member_template()
        if "random_state" not in template.get_params():
            raise ValueError(
                f"{type(template).__name__} has no random_state parameter to vary between members."
            )
        rng = (
            self.random_state
            if isinstance(self.random_state, np.random.Generator)
            else np.random.default_rng(self.random_state)
        )
        seeds = rng.integers(0, 2**31 - 1, size=n)
        varied = self._member_params()
        members = [
            clone(template).set_params(random_state=int(seed), **varied[m % len(varied)])
            for m, seed in enumerate(seeds)
        ]
        self.estimators_ = self._fit_members(members, X, y, fit_params)
        first = self.estimators_[0]
        self.classes_ = first.classes_
        if hasattr(first, "n_features_in_"):
            self.n_features_in_ = first.n_features_in_
        if hasattr(first, "feature_names_in_"):
            self.feature_names_in_ = first.feature_names_in_
        return self

    def _member_params(self) -> list[dict]:
        varied = self.member_params
        if varied is None:
            return [{}]
        if (
            not isinstance(varied, (list, tuple))
            or not varied
            or not all(isinstance(d, dict) and "random_state" not in d for d in varied)
        ):
            raise InvalidParameterError(
                "The 'member_params' parameter of EnsembleClassifier must be None or a non-empty list of dicts "
                f"of the estimator's parameters (without random_state). Got {varied!r} instead."
            )
        return list(varied)

    def _fit_members(self, members, X, y, fit_params) -> list:
        """The members fitted in turn, or ``n_jobs`` at a time in processes."""
        n_jobs = self.n_jobs
        if n_jobs is not None and (
            isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0
        ):
            raise InvalidParameterError(
                f"The 'n_jobs' parameter of EnsembleClassifier must be a nonzero int or None. Got {n_jobs!r} instead."
            )
        if n_jobs is None or n_jobs == 1 or len(members) == 1:
            return [member.fit(X, y, **fit_params) for member in members]
        from joblib import Parallel, delayed, effective_n_jobs

        # no more processes than members, so that joblib's BLAS limit per process (cores / processes) leaves
        # no core idle
        n_jobs = min(effective_n_jobs(n_jobs), len(members))
        return Parallel(n_jobs=n_jobs)(delayed(member.fit)(X, y, **fit_params) for member in members)

    def predict_proba(self, X) -> np.ndarray:
        """The members' mean class probabilities, shape ``(n_samples, n_classes)``."""
        check_is_fitted(self)
        total = self.estimators_[0].predict_proba(X)
        for member in self.estimators_[1:]:
            total = total + member.predict_proba(X)
        return total / len(self.estimators_)

    def predict(self, X) -> np.ndarray:
        """The class of highest mean probability."""
        proba = self.predict_proba(X)
        if proba.ndim == 2 and getattr(self.estimators_[0], "target_type_", None) == "multilabel-indicator":
            return (proba > 0.5).astype(int)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
