"""Rotations and zooms (bilinear), mirroring, input noise and their composition; wired to the estimators."""

import numpy as np
import pytest

from glassnet.config import MLPConfig
from glassnet.config.build import make_augment
from glassnet.training.augment import (
    Compose,
    GaussianNoise,
    RandomAffine,
    RandomFlip,
    RandomShift,
    affine_images,
)


def _images(n=5, side=8, seed=0):
    return np.random.default_rng(seed).random((n, side * side)).astype(np.float32)


def test_identity_angle_and_scale_return_the_image():
    X = _images()
    out = affine_images(X, np.zeros(5), np.ones(5), (8, 8))
    np.testing.assert_allclose(out, X, atol=1e-6)
    assert out.dtype == np.float32 and out.shape == X.shape


def test_quarter_turns_match_rot90():
    X = _images(3, 6)
    turned = affine_images(X, np.full(3, np.pi / 2), np.ones(3), (6, 6)).reshape(3, 6, 6)
    np.testing.assert_allclose(turned, np.rot90(X.reshape(3, 6, 6), k=1, axes=(1, 2)), atol=1e-5)
    back = affine_images(turned.reshape(3, 36), np.full(3, -np.pi / 2), np.ones(3), (6, 6))
    np.testing.assert_allclose(back, X, atol=1e-5)


def test_half_pixel_geometry_interpolates_between_neighbours():
    # a huge zoom reads every output pixel from the centre, between the four pixels: their mean
    X = np.array([[0.0, 1.0, 2.0, 3.0]])
    np.testing.assert_allclose(affine_images(X, np.zeros(1), np.array([1e6]), (2, 2)), [[1.5] * 4], atol=1e-5)
    # shrinking by 1/2: the corner pixel reads half a pixel outside on both axes, a quarter of the image
    half = affine_images(np.ones((1, 4)), np.zeros(1), np.array([0.5]), (2, 2))
    np.testing.assert_allclose(half, [[0.25] * 4])


def test_translations_move_by_fractions_of_a_pixel():
    # whole pixels agree with shift_images (which fills with 0, as the bilinear read does outside)
    from glassnet.training.augment import shift_images

    X = _images(4)
    moves = np.array([[1, 0], [0, -1], [-2, 3], [0, 0]])
    moved = affine_images(X, np.zeros(4), np.ones(4), (8, 8), translations=moves)
    np.testing.assert_allclose(moved, shift_images(X, moves, (8, 8)), atol=1e-6)
    # on a ramp along x, a move of t pixels to the right subtracts t, exactly (bilinear is exact on a line)
    ramp = np.tile(np.arange(8.0) + 100.0, (8, 1)).reshape(1, 64).repeat(2, axis=0)
    half = affine_images(
        ramp, np.zeros(2), np.ones(2), (8, 8), translations=np.array([[0.0, 0.5], [0.0, -0.25]])
    )
    inside = (slice(None), slice(None), slice(1, -1))
    np.testing.assert_allclose(half.reshape(2, 8, 8)[inside][0], ramp.reshape(2, 8, 8)[inside][0] - 0.5)
    np.testing.assert_allclose(half.reshape(2, 8, 8)[inside][1], ramp.reshape(2, 8, 8)[inside][1] + 0.25)
    with pytest.raises(ValueError, match="translations must be"):
        affine_images(X, np.zeros(4), np.ones(4), (8, 8), translations=np.zeros((4, 3)))


def test_random_affine_translation_stays_within_its_range_and_keeps_the_angles_stream():
    ramp = np.tile(np.arange(8.0) + 100.0, (8, 1)).reshape(1, 64).repeat(300, axis=0)
    out = RandomAffine(rotation=0.0, translation=0.4)(ramp, 0).reshape(300, 8, 8)
    moved = ramp.reshape(300, 8, 8)[:, 2, 2] - out[:, 2, 2]  # the x-move of each image, away from the border
    assert moved.min() >= -0.4 - 1e-9 and moved.max() <= 0.4 + 1e-9
    assert moved.max() - moved.min() > 0.6  # spread over the range, not one value
    with pytest.raises(ValueError, match="translation must be"):
        RandomAffine(translation=-1.0)
    # the moves are drawn after the angles: the same seed turns the images by the same angles as before
    X = _images(50)
    turned = RandomAffine(10.0)(X, 3)
    turned_and_moved = RandomAffine(10.0, translation=1e-9)(X, 3)
    np.testing.assert_allclose(turned_and_moved, turned, atol=1e-6)


def test_average_over_rotations_is_the_mean_of_the_rotated_views():
    from glassnet.training.augment import average_over_rotations

    X = _images(6)
    seen = []

    def model(view):  # records what it was asked about; "probabilities" of two classes
        seen.append(view)
        return np.column_stack([view[:, 0], view[:, -1]])

    out = average_over_rotations(model, X, [-7.5, 0, 12])
    assert len(seen) == 3 and seen[1] is X  # angle 0: the image itself, not resampled
    turned = affine_images(X, np.full(6, np.deg2rad(12.0)), np.ones(6), (8, 8))
    np.testing.assert_allclose(seen[2], turned)
    np.testing.assert_allclose(out, sum(model(v) for v in seen[:3]) / 3, rtol=1e-6)
    with pytest.raises(ValueError, match="angles must be"):
        average_over_rotations(model, X, [])
    with pytest.raises(ValueError, match="image shape"):
        average_over_rotations(model, X[:, :10], [5.0])


def test_outside_reads_fill_and_input_untouched():
    X = np.ones((1, 16))
    before = X.copy()
    small = affine_images(X, np.zeros(1), np.array([0.5]), (4, 4), fill=0.0).reshape(4, 4)
    np.testing.assert_array_equal(X, before)
    assert small[1:3, 1:3].min() == 1.0  # the centre still reads the image
    big = affine_images(X, np.array([np.pi / 4]), np.ones(1), (4, 4), fill=0.0).reshape(4, 4)
    assert big[0, 0] < 1.0  # a corner turned by 45 degrees reads partly outside


def test_affine_rejects_bad_input():
    with pytest.raises(ValueError, match="shape"):
        affine_images(np.ones((2, 10)), np.zeros(2), np.ones(2), (3, 3))
    with pytest.raises(ValueError, match="angles and scales"):
        affine_images(np.ones((2, 9)), np.zeros(3), np.ones(2), (3, 3))
    with pytest.raises(ValueError, match="positive"):
        affine_images(np.ones((2, 9)), np.zeros(2), np.zeros(2), (3, 3))
    with pytest.raises(ValueError, match=r"rotation must be a float in \[0.0, 180.0\]"):
        RandomAffine(rotation=-1)
    with pytest.raises(ValueError, match="scale"):
        RandomAffine(scale=1.0)
    with pytest.raises(ValueError, match="p must be"):
        RandomFlip(p=2)
    with pytest.raises(ValueError, match="std must be"):
        GaussianNoise(std=float("nan"))
    with pytest.raises(TypeError, match="callable"):
        Compose([3])


@pytest.mark.parametrize(
    "augment",
    [
        RandomAffine(10, 0.1),
        RandomFlip(),
        GaussianNoise(0.1),
        Compose([RandomAffine(5), GaussianNoise(0.05)]),
    ],
)
def test_augmentations_are_seeded_fresh_per_call_and_keep_shape_and_dtype(augment):
    X = _images(16)
    a, b = augment(X, np.random.default_rng(1)), augment(X, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)  # the same seed, the same draw
    rng = np.random.default_rng(2)
    assert not np.array_equal(augment(X, rng), augment(X, rng))  # a new draw every call
    assert a.shape == X.shape and a.dtype == X.dtype


def test_random_affine_stays_within_its_range():
    X = _images(200)
    angles = []
    rng = np.random.default_rng(0)
    for _ in range(3):
        out = RandomAffine(rotation=0.0, scale=0.0)(X, rng)
        np.testing.assert_allclose(out, X, atol=1e-6)
        angles.append(out)
    # a small rotation moves each image a little, never as much as a quarter turn
    small = RandomAffine(rotation=5.0)(X, rng)
    quarter = affine_images(X, np.full(200, np.pi / 2), np.ones(200), (8, 8))
    assert np.abs(small - X).mean() < np.abs(quarter - X).mean()


def test_flip_mirrors_about_half_the_images():
    X = _images(400)
    out = RandomFlip(0.5)(X, 0)
    mirrored = X.reshape(-1, 8, 8)[:, :, ::-1].reshape(400, 64)
    flipped = np.all(out == mirrored, axis=1)
    kept = np.all(out == X, axis=1)
    assert np.all(flipped | kept)
    assert 150 < flipped.sum() < 250


def test_noise_has_its_standard_deviation():
    out = GaussianNoise(0.2)(np.zeros((1000, 50)), 0)
    assert abs(out.std() - 0.2) < 0.01 and abs(out.mean()) < 0.01


def test_config_builds_the_pipeline_in_order():
    assert make_augment(MLPConfig()) is None
    assert isinstance(make_augment(MLPConfig(augment_rotation=10.0)), RandomAffine)
    moving = make_augment(MLPConfig(augment_translation=0.5))
    assert isinstance(moving, RandomAffine) and moving.translation == 0.5 and moving.rotation == 0.0
    from glassnet.training.augment import RandomElastic

    steps = make_augment(
        MLPConfig(
            augment_shift=1, augment_scale=0.1, augment_elastic=0.5, augment_flip=True, augment_noise=0.1
        )
    ).steps
    assert [type(s) for s in steps] == [RandomShift, RandomAffine, RandomElastic, RandomFlip, GaussianNoise]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_estimator_trains_with_distortions_reproducibly():
    from glassnet import MLPClassifier

    X = _images(60)
    y = np.arange(60) % 3
    kwargs = dict(hidden_layer_sizes=(8,), max_iter=3, batch_size=20, random_state=0, n_jobs=1)
    plain = MLPClassifier(**kwargs).fit(X, y)
    a = MLPClassifier(**kwargs, augment_rotation=10.0, augment_noise=0.05).fit(X, y)
    b = MLPClassifier(**kwargs, augment_rotation=10.0, augment_noise=0.05).fit(X, y)
    np.testing.assert_array_equal(a.network_.flat_params, b.network_.flat_params)
    assert not np.array_equal(a.network_.flat_params, plain.network_.flat_params)
    with pytest.raises(ValueError, match="augment_rotation"):
        MLPClassifier(augment_rotation=-5.0).fit(X, y)
    moved = MLPClassifier(**kwargs, augment_translation=0.5).fit(X, y)
    again = MLPClassifier(**kwargs, augment_translation=0.5).fit(X, y)
    np.testing.assert_array_equal(moved.network_.flat_params, again.network_.flat_params)
    assert not np.array_equal(moved.network_.flat_params, plain.network_.flat_params)
    with pytest.raises(ValueError, match="augment_translation"):
        MLPClassifier(augment_translation=-0.5).fit(X, y)


def test_elastic_moves_pixels_by_alpha_on_average_and_zero_alpha_is_identity():
    from glassnet.training.augment import RandomElastic

    X = _images(8, 28)
    np.testing.assert_allclose(RandomElastic(alpha=0.0)(X, 0), X, atol=1e-6)
    # on a ramp x(p) = column + 100, the value read is the column read from: the displacement, exactly
    # (bilinear interpolation is exact on a linear image), away from the border
    ramp = np.tile(np.arange(28.0) + 100.0, (28, 1)).reshape(1, -1).repeat(50, axis=0)
    out = RandomElastic(alpha=1.5, sigma=3.0)(ramp, 0).reshape(50, 28, 28)
    dx = out[:, 6:-6, 6:-6] - ramp.reshape(50, 28, 28)[:, 6:-6, 6:-6]
    # alpha is the root-mean-square displacement along each axis
    assert 1.2 < np.sqrt(np.mean(dx**2)) < 1.8
    # smooth: neighbours move together far more than a per-pixel jitter would
    assert np.abs(np.diff(dx, axis=2)).mean() < 0.5 * np.abs(dx).mean()


def test_elastic_is_seeded_and_validated():
    from glassnet.training.augment import RandomElastic

    X = _images(4)
    np.testing.assert_array_equal(RandomElastic(1.0)(X, 3), RandomElastic(1.0)(X, 3))
    assert not np.array_equal(RandomElastic(1.0)(X, 3), RandomElastic(1.0)(X, 4))
    with pytest.raises(ValueError, match="alpha must be"):
        RandomElastic(alpha=-1.0)
    with pytest.raises(ValueError, match="sigma must be"):
        RandomElastic(sigma=0.0)
