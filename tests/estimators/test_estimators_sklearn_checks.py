"""scikit-learn's own estimator checks, for both estimators and for each solver family.

One check is marked as an expected failure, for one configuration, with its reason below; so are the three that
compare float64 fits to 1e-7 for the ``dtype='float32'`` instances, and the class-weight check with sgd and tanh,
at the end, where scikit-learn's own estimator is as borderline. (scikit-learn itself
skips a few checks when optional packages such as pandas are missing; those skips come from the checks.)
"""

import pytest
from sklearn.utils.estimator_checks import (
    check_class_weight_classifiers,
    check_sample_weight_equivalence_on_dense_data,
    check_sample_weight_equivalence_on_sparse_data,
    parametrize_with_checks,
)

from glassnet import MLPClassifier, MLPRegressor
from glassnet.estimators import EnsembleClassifier

pytestmark = pytest.mark.usefixtures("one_blas_thread")

ESTIMATORS = [
    MLPClassifier(max_iter=100),
    MLPClassifier(solver="lbfgs", max_iter=100),
    MLPRegressor(max_iter=100),
    MLPRegressor(solver="sgd", max_iter=100),
    MLPClassifier(max_iter=100, n_jobs=2),  # data-parallel training in two processes
    # sgd on the checks' unscaled data: the loss overshoots, then settles at the chance level, which is all that
    # check_n_features_in's signal-free data allows; not divergence (issue 20 item 12)
    MLPClassifier(solver="sgd", max_iter=100),
    EnsembleClassifier(MLPClassifier(max_iter=100), n_estimators=2),
    EnsembleClassifier(MLPClassifier(max_iter=50), n_estimators=2, member_params=[{"alpha": 1e-3}, {}]),
    # float64 input trained in float32 (the recipes' and the command line's precision)
    MLPClassifier(max_iter=100, dtype="float32"),
    MLPRegressor(max_iter=100, dtype="float32"),
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


# Why: these checks compare float64 fits to 1e-7 or ask for float64 predictions, which a network that computes
# in float32 on purpose (dtype='float32') cannot give. Repeating a row twice and weighting it 2 sum the batch in
# another order, and float32's rounding (1e-7 relative) then grows over 100 epochs. With the default dtype=None
# (float64 input trained in float64) both estimators pass them.
FLOAT32_REASON = (
    "dtype='float32' trains in float32 on purpose; the check compares float64 fits to rtol 1e-7 (sample weights "
    "against repeated rows) or asks for float64 predictions."
)
FLOAT32_CHECKS = (
    "check_sample_weight_equivalence_on_dense_data",
    "check_sample_weight_equivalence_on_sparse_data",
    "check_regressor_multioutput",
)


def expected_failed_checks(estimator):
    if getattr(estimator, "dtype", None) == "float32":
        return dict.fromkeys(FLOAT32_CHECKS, FLOAT32_REASON)
    if isinstance(estimator, MLPClassifier) and estimator.solver == "lbfgs":
        return {"check_classifiers_train": LOG_PROBA_REASON}
    return {}


# The checks fit with few iterations on tiny data: ConvergenceWarning is expected there, as for scikit-learn.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# --- the checks that failed only for glassnet's early stopping and class weights (issue 20 item 12) ------------
# The whole list above is not run with early_stopping=True: there scikit-learn's own MLP fails several checks
# too (partial_fit refuses early stopping; the checks' 1-feature and NaN data are too small to hold out a
# validation set). These are the checks that it failed where scikit-learn's estimator does not.

TANH_REASON = (
    "sgd with tanh on the check's unscaled blobs (std 20) learns slowly (one full-batch step per epoch, "
    "saturated units) and scikit-learn's stopping rule ends the fit after about 580 epochs: 0.86 of the test rows "
    "go to the heavy class, against the check's 0.87. scikit-learn's MLPClassifier given the same weights as "
    "sample_weight scores 0.80-0.96 over seeds 0-5 (0.88 at seed 0), glassnet 0.86-0.88: the check is borderline "
    "for both, not a weighting error."
)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    ("check", "estimator"),
    [
        (check_class_weight_classifiers, MLPClassifier(max_iter=100, early_stopping=True)),
        (check_class_weight_classifiers, MLPClassifier(max_iter=100, solver="sgd", early_stopping=True)),
        (check_class_weight_classifiers, MLPClassifier(max_iter=100, solver="sgd")),
        pytest.param(
            check_class_weight_classifiers,
            MLPClassifier(max_iter=100, solver="sgd", activation="tanh"),
            marks=pytest.mark.xfail(reason=TANH_REASON, strict=False),
        ),
        (check_sample_weight_equivalence_on_dense_data, MLPClassifier(max_iter=100, early_stopping=True)),
        (check_sample_weight_equivalence_on_dense_data, MLPRegressor(max_iter=100, early_stopping=True)),
        (check_sample_weight_equivalence_on_sparse_data, MLPRegressor(max_iter=100, early_stopping=True)),
        # class_weight='balanced' counts weighted rows (a row of weight k as k rows), as LogisticRegression does
        (
            check_sample_weight_equivalence_on_dense_data,
            MLPClassifier(max_iter=100, early_stopping=True, class_weight="balanced"),
        ),
    ],
    ids=lambda value: value.__name__ if callable(value) and not hasattr(value, "fit") else repr(value),
)
def test_checks_with_early_stopping_and_class_weights(check, estimator):
    check(type(estimator).__name__, estimator)
