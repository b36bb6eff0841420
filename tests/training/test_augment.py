"""Random-shift augmentation: exact shifts, randomness, validation, and its use by the estimators."""

import numpy as np
import pytest

from glassnet.augment import RandomShift, infer_image_shape, random_shift, shift_images

# short fits on purpose: max_iter is reached before convergence
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_shift_images_moves_pixels_and_fills_border():
    X = np.arange(1.0, 10.0).reshape(1, 9)  # 3x3 image 1..9
    down_right = shift_images(X, np.array([[1, 1]]), (3, 3)).reshape(3, 3)
    np.testing.assert_array_equal(down_right, [[0, 0, 0], [0, 1, 2], [0, 4, 5]])
    up_left = shift_images(X, np.array([[-1, -1]]), (3, 3), fill=-1.0).reshape(3, 3)
    np.testing.assert_array_equal(up_left, [[5, 6, -1], [8, 9, -1], [-1, -1, -1]])
    same = shift_images(X, np.array([[0, 0]]), (3, 3))
    np.testing.assert_array_equal(same, X)


def test_each_row_gets_its_own_shift_and_rectangular_images_work():
    rng = np.random.default_rng(0)
    X = rng.random((5, 6))  # 2x3 images
    shifts = np.array([[0, 1], [1, 0], [-1, 0], [0, -2], [0, 0]])
    out = shift_images(X, shifts, (2, 3))
    for row, (dy, dx) in zip(range(5), shifts, strict=True):
        image = X[row].reshape(2, 3)
        expected = np.zeros((2, 3))
        for i in range(2):
            for j in range(3):
                if 0 <= i - dy < 2 and 0 <= j - dx < 3:
                    expected[i, j] = image[i - dy, j - dx]
        np.testing.assert_array_equal(out[row].reshape(2, 3), expected)


def test_random_shift_is_reproducible_and_keeps_dtype_and_input():
    X = np.random.default_rng(1).random((50, 64)).astype(np.float32)
    before = X.copy()
    a = random_shift(X, 1, rng=3)
    b = random_shift(X, 1, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32 and a.shape == X.shape
    np.testing.assert_array_equal(X, before)  # input untouched
    assert not np.array_equal(a, X)
    np.testing.assert_array_equal(random_shift(X, 0, rng=0), X)


def test_random_shift_preserves_mass_of_centred_images():
    X = np.zeros((20, 25))
    X[:, 12] = 1.0  # centre pixel of 5x5 images: a shift of <= 2 keeps it inside
    out = RandomShift(2)(X, np.random.default_rng(0))
    np.testing.assert_array_equal(out.sum(axis=1), 1.0)
    assert len({int(np.argmax(row)) for row in out}) > 1


def test_infer_image_shape_and_errors():
    assert infer_image_shape(64) == (8, 8)
    assert infer_image_shape(784) == (28, 28)
    assert infer_image_shape(6, (2, 3)) == (2, 3)
    with pytest.raises(ValueError, match="square"):
        infer_image_shape(10)
    with pytest.raises(ValueError, match="height \\* width == 6"):
        infer_image_shape(6, (2, 2))
    with pytest.raises(ValueError, match="max_shift"):
        random_shift(np.zeros((2, 4)), -1, rng=0)
    with pytest.raises(ValueError, match="max_shift"):
        RandomShift(1.5)
    with pytest.raises(ValueError, match="smaller than the image"):
        shift_images(np.zeros((1, 4)), np.array([[2, 0]]), (2, 2))
    with pytest.raises(ValueError, match="shifts must have shape"):
        shift_images(np.zeros((2, 4)), np.array([[0, 0]]), (2, 2))


def test_estimator_trains_with_shift_augmentation():
    from glassnet import MLPClassifier

    rng = np.random.default_rng(0)
    X = rng.random((60, 16))
    y = np.arange(60) % 3
    clf = MLPClassifier((8,), augment_shift=1, max_iter=3, random_state=0).fit(X, y)
    assert clf.predict(X).shape == (60,)
    with pytest.raises(ValueError, match="image shape"):
        MLPClassifier((8,), augment_shift=1, max_iter=2).fit(rng.random((20, 10)), np.arange(20) % 2)
    with pytest.raises(ValueError, match="stochastic solver"):
        MLPClassifier((8,), augment_shift=1, solver="lbfgs").fit(X, y)
