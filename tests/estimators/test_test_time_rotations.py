"""``test_time_rotations``: predictions averaged over rotated copies of each image (test-time augmentation)."""

import numpy as np
import pytest
import scipy.sparse as sp

from glassnet import MLPClassifier
from glassnet.estimators import EnsembleClassifier
from glassnet.training.augment import affine_images

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _data(n=90, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 16)).astype(np.float32)  # 4x4 "images"
    y = np.arange(n) % 3
    return X, y


def _fit(**kwargs):
    X, y = _data()
    params = dict(hidden_layer_sizes=(12,), max_iter=5, batch_size=30, random_state=0, n_jobs=1)
    return MLPClassifier(**params, **kwargs).fit(X, y), X


def test_predictions_are_the_mean_over_the_rotated_images():
    plain, X = _fit()
    tta, _ = _fit(test_time_rotations=(-10.0, 0.0, 10.0))
    np.testing.assert_array_equal(tta.network_.flat_params, plain.network_.flat_params)  # training unchanged
    n = len(X)
    views = [affine_images(X, np.full(n, np.deg2rad(a)), np.ones(n), (4, 4)) for a in (-10.0, 10.0)]
    expected = (plain.predict_proba(views[0]) + plain.predict_proba(X) + plain.predict_proba(views[1])) / 3
    proba = tta.predict_proba(X)
    np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-7)
    assert not np.allclose(proba, plain.predict_proba(X))  # the rotations changed something
    np.testing.assert_array_equal(tta.predict(X), tta.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(tta.predict_log_proba(X), np.log(proba), rtol=1e-6)
    assert tta.score(X, np.arange(len(X)) % 3) == np.mean(tta.predict(X) == np.arange(len(X)) % 3)


def test_none_empty_and_zero_alone_are_the_plain_predictions():
    plain, X = _fit()
    for angles in (None, (), (0.0,)):
        other, _ = _fit(test_time_rotations=angles)
        np.testing.assert_allclose(other.predict_proba(X), plain.predict_proba(X), rtol=1e-6)
        np.testing.assert_array_equal(other.predict(X), plain.predict(X))


def test_the_ensemble_averages_its_members_rotated_predictions():
    X, y = _data()
    member = MLPClassifier((8,), max_iter=3, batch_size=30, n_jobs=1, test_time_rotations=(-5, 5))
    ens = EnsembleClassifier(member, n_estimators=2, random_state=0).fit(X, y)
    expected = (ens.estimators_[0].predict_proba(X) + ens.estimators_[1].predict_proba(X)) / 2
    np.testing.assert_allclose(ens.predict_proba(X), expected)


def test_bad_angles_sparse_rows_and_non_images_are_refused():
    X, y = _data()
    with pytest.raises(ValueError, match="test_time_rotations"):
        MLPClassifier(test_time_rotations=(200.0,)).fit(X, y)
    with pytest.raises(ValueError, match="test_time_rotations"):
        MLPClassifier(test_time_rotations=5.0).fit(X, y)
    tta, X = _fit(test_time_rotations=(-5.0, 5.0))
    with pytest.raises(ValueError, match="dense X"):
        tta.predict_proba(sp.csr_matrix(X))
    odd = MLPClassifier(test_time_rotations=(5.0,), max_iter=1, n_jobs=1).fit(X[:, :15], y)
    with pytest.raises(ValueError, match="image shape"):  # 15 features are no square image
        odd.predict(X[:, :15])
