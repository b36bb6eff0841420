"""scikit-learn's own estimator checks, for both estimators and for each solver family.

One check is marked as an expected failure, for one configuration, with its reason below. (scikit-learn itself
skips a few checks when optional packages such as pandas are missing; those skips come from the checks.)
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from glassnet import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.usefixtures("one_blas_thread")

ESTIMATORS = [
    MLPClassifier(max_iter=100),
    MLPClassifier(solver="lbfgs", max_iter=100),
    MLPRegressor(max_iter=100),
    MLPRegressor(solver="sgd", max_iter=100),
    MLPClassifier(max_iter=100, n_jobs=2),  # data-parallel training in two processes
]


# Why: `check_classifiers_train` asserts `predict_log_proba(X) == log(predict_proba(X))`. glassnet computes
# `predict_log_proba` as a log-softmax of the logits (issue 3: finite where scikit-learn's `log(predict_proba)`
# gives -inf). lbfgs fits that check's well-separated blobs so confidently that some probabilities underflow
# to exactly 0, where `log` gives -inf and glassnet gives a finite number, so the equality cannot hold. The
# adam instance runs the same check and passes; test_estimators_fit.py checks the two agree wherever
# `predict_proba` is not 0.
LOG_PROBA_REASON = (
    "predict_log_proba is a finite log-softmax, while the check compares it with log(predict_proba), which is "
    "-inf where a probability underflows to 0 (lbfgs fits the check's data very confidently)."
)


def expected_failed_checks(estimator):
    if isinstance(estimator, MLPClassifier) and estimator.solver == "lbfgs":
        return {"check_classifiers_train": LOG_PROBA_REASON}
    return {}


# The checks fit with few iterations on tiny data: ConvergenceWarning is expected there, as for scikit-learn.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
