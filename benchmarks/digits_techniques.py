"""One change to the digits recipe, measured on the 5x2 folds of a CV seed: one network and the 5 averaged, each
with and without test-time rotations, beside the RBF SVC on the same folds (issue 24).

Run: python benchmarks/digits_techniques.py SEED [JSON overrides of the recipe's settings], e.g.

    python benchmarks/digits_techniques.py 0 '{"augment_translation": 0.0}'     # the recipe without the moves
    python benchmarks/digits_techniques.py 1 '{"augment_translation": 0.75}'

The networks of fold k are the recipe's ensemble seeded SEED + k (as glassnet bench accuracy_cv seeds them),
trained once without test-time rotations; each is then asked about the test images as they are and about the
images turned by -10, -5, 0, 5 and 10 degrees (glassnet.training.augment.average_over_rotations), so the four
columns come from the same networks. "one" is the mean accuracy of the 5 networks alone. CPU seconds (one BLAS
thread) are for training the 5 networks of a fold.
"""

import json
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

from glassnet.recipes import make_estimator
from glassnet.training.augment import average_over_rotations

ROTATIONS = (-10.0, -5.0, 0.0, 5.0, 10.0)


def fold_scores(model, X, y) -> dict:
    """Accuracies of the members and their average, on the images as they are and with test-time rotations."""
    members = model.estimators_
    plain = [m.predict_proba(X) for m in members]
    turned = [average_over_rotations(m.predict_proba, X, ROTATIONS) for m in members]

    def accuracy(p):
        return float(np.mean(model.classes_[np.argmax(p, axis=1)] == y))

    return {
        "one": float(np.mean([accuracy(p) for p in plain])),
        "one+tta": float(np.mean([accuracy(p) for p in turned])),
        "5": accuracy(np.mean(plain, axis=0)),
        "5+tta": accuracy(np.mean(turned, axis=0)),
    }


def main(seed: int, overrides: dict) -> dict:
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    overrides = {**overrides, "test_time_rotations": None, "n_jobs": 1}  # rotations applied by fold_scores
    rows, svc, cpu = [], [], []
    folds = RepeatedStratifiedKFold(n_splits=2, n_repeats=5, random_state=seed).split(X, y)
    with threadpool_limits(1, user_api="blas"):
        for k, (train, test) in enumerate(folds):
            start = time.process_time()
            model = make_estimator("digits", random_state=seed + k, **overrides).fit(X[train], y[train])
            cpu.append(time.process_time() - start)
            rows.append(fold_scores(model, X[test], y[test]))
            svc.append(float(SVC(C=10, gamma="scale").fit(X[train], y[train]).score(X[test], y[test])))
            print(
                f"fold {k}: "
                + ", ".join(f"{m} {a:.4f}" for m, a in rows[-1].items())
                + f", svc {svc[-1]:.4f}"
            )
    means = {m: float(np.mean([r[m] for r in rows])) for m in rows[0]}
    diff = np.round(np.array([r["5+tta"] for r in rows]) - svc, 12)
    record = {"won": int((diff > 0).sum()), "tied": int((diff == 0).sum()), "lost": int((diff < 0).sum())}
    return {"seed": seed, "overrides": overrides, "means": means, "svc": float(np.mean(svc)),
            "5+tta_vs_svc": record, "cpu_seconds_per_fold": float(np.mean(cpu)), "folds": rows}  # fmt: skip


if __name__ == "__main__":
    warnings.simplefilter("ignore")  # ConvergenceWarning: the recipe runs a fixed number of epochs
    result = main(int(sys.argv[1]), json.loads(sys.argv[2]) if len(sys.argv) > 2 else {})
    print(json.dumps({k: v for k, v in result.items() if k != "folds"}))
