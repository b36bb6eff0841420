r"""Data augmentation for images stored as flat rows: small random translations.

A digit or a garment moved by a pixel is still the same class, but to a multilayer perceptron (which sees
pixels, not shapes) it is a different input. Training on randomly shifted copies, a new shift for every
sample at every epoch, teaches the network that invariance and is the single most useful regulariser for
MLPs on image data.

:func:`random_shift` moves each image by an integer offset :math:`(d_y, d_x)` drawn uniformly from
:math:`\{-s, \dots, s\}^2` and fills the uncovered border with ``fill`` (the background, 0 for glassnet's
light-on-dark data):

.. math:: y_{i, j} = x_{i - d_y,\, j - d_x} \quad \text{(0 outside the image)}.

The images are rows of length ``height * width`` (as :mod:`glassnet.data` stores them); the result has the
same shape and dtype as the input, and the input is never modified.
"""

from __future__ import annotations

import math

import numpy as np

from glassnet.nn.initializers import as_generator

__all__ = [
    "Compose",
    "GaussianNoise",
    "RandomAffine",
    "RandomElastic",
    "RandomFlip",
    "RandomShift",
    "affine_images",
    "average_over_rotations",
    "infer_image_shape",
    "random_shift",
    "sample_bilinear",
    "shift_images",
]


def infer_image_shape(n_features: int, image_shape=None) -> tuple[int, int]:
    """``image_shape`` as a pair of ints, or the square ``(s, s)`` with ``s * s == n_features``.

    Raises a ``ValueError`` when the rows cannot be images of that shape.
    """
    if image_shape is None:
        side = math.isqrt(int(n_features))
        if side * side != n_features:
            raise ValueError(
                f"Cannot infer an image shape for {n_features} features (not a square number); "
                "give image_shape=(height, width)."
            )
        return side, side
    shape = tuple(int(s) for s in image_shape)
    if len(shape) != 2 or min(shape) < 1 or shape[0] * shape[1] != n_features:
        raise ValueError(
            f"image_shape must be (height, width) with height * width == {n_features} features; "
            f"got {image_shape!r}."
        )
    return shape


def shift_images(X: np.ndarray, shifts: np.ndarray, image_shape: tuple[int, int], fill=0.0) -> np.ndarray:
    """Translate each row image ``X[n]`` by the integer offset ``shifts[n] = (dy, dx)``.

    Parameters
    ----------
    X : ndarray of shape (N, height * width)
        Images as flat rows.
    shifts : int ndarray of shape (N, 2)
        Down/right offsets (negative: up/left), each smaller than the image in absolute value.
    image_shape : (int, int)
        ``(height, width)``.
    fill : float
        Value of the pixels shifted in from outside.

    Returns
    -------
    ndarray of shape (N, height * width), same dtype as ``X``.
    """
    X = np.asarray(X)
    h, w = image_shape
    shifts = np.asarray(shifts, dtype=np.intp)
    if X.ndim != 2 or X.shape[1] != h * w:
        raise ValueError(f"X must have shape (n_samples, {h * w}) for images {image_shape}; got {X.shape}.")
    if shifts.shape != (X.shape[0], 2):
        raise ValueError(f"shifts must have shape ({X.shape[0]}, 2); got {shifts.shape}.")
    if np.any(np.abs(shifts[:, 0]) >= h) or np.any(np.abs(shifts[:, 1]) >= w):
        raise ValueError(f"Every shift must be smaller than the image {image_shape} in absolute value.")
    images = X.reshape(-1, h, w)  # (N, h*w) -> (N, h, w), a view
    out = np.full_like(images, fill)
    # one slice assignment per distinct offset: at most (2s + 1)^2 of them, each vectorised over its images
    offsets, group = np.unique(shifts, axis=0, return_inverse=True)
    for g, (dy, dx) in enumerate(offsets):
        rows = np.flatnonzero(group.reshape(-1) == g)
        src_y, dst_y = slice(max(0, -dy), h - max(0, dy)), slice(max(0, dy), h - max(0, -dy))
        src_x, dst_x = slice(max(0, -dx), w - max(0, dx)), slice(max(0, dx), w - max(0, -dx))
        out[rows, dst_y, dst_x] = images[rows, src_y, src_x]
    return out.reshape(X.shape)


def random_shift(X: np.ndarray, max_shift: int, rng, image_shape=None, fill=0.0) -> np.ndarray:
    """Shift every image by its own random offset in ``{-max_shift, ..., max_shift}`` on each axis.

    Parameters
    ----------
    X : ndarray of shape (N, height * width)
        Images as flat rows.
    max_shift : int
        Largest offset in pixels (0 returns a copy of ``X``).
    rng : int or numpy.random.Generator
        Random source (required: no global state).
    image_shape : (int, int) or None
        ``(height, width)``; ``None`` infers a square.
    fill : float
        Value of the pixels shifted in from outside (the background).

    Examples
    --------
    >>> X = np.arange(9.0).reshape(1, 9)
    >>> shift_images(X, np.array([[1, 0]]), (3, 3)).reshape(3, 3)
    array([[0., 0., 0.],
           [0., 1., 2.],
           [3., 4., 5.]])
    """
    if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) or max_shift < 0:
        raise ValueError(f"max_shift must be a non-negative int; got {max_shift!r}.")
    X = np.asarray(X)
    shape = infer_image_shape(X.shape[1], image_shape)
    if max_shift == 0:
        return X.copy()
    shifts = as_generator(rng).integers(-max_shift, max_shift + 1, size=(X.shape[0], 2))
    return shift_images(X, shifts, shape, fill)


class RandomShift:
    """A reusable augmentation: ``RandomShift(max_shift, image_shape)(X, rng)`` is :func:`random_shift`.

    Parameters
    ----------
    max_shift : int
        Largest offset in pixels on each axis.
    image_shape : (int, int) or None
        ``(height, width)``; ``None`` infers a square from the number of features.
    fill : float
        Background value shifted in at the borders.
    """

    def __init__(self, max_shift: int = 1, image_shape=None, fill: float = 0.0) -> None:
        if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) or max_shift < 0:
            raise ValueError(f"max_shift must be a non-negative int; got {max_shift!r}.")
        self.max_shift, self.image_shape, self.fill = int(max_shift), image_shape, float(fill)

    def __call__(self, X: np.ndarray, rng) -> np.ndarray:
        return random_shift(X, self.max_shift, rng, self.image_shape, self.fill)

    def __repr__(self) -> str:
        return f"RandomShift(max_shift={self.max_shift}, image_shape={self.image_shape!r}, fill={self.fill})"


# --- small rotations and scalings (sub-pixel, bilinear) ----------------------------------------------------------


def affine_images(
    X: np.ndarray,
    angles: np.ndarray,
    scales: np.ndarray,
    image_shape: tuple[int, int],
    fill=0.0,
    translations: np.ndarray | None = None,
) -> np.ndarray:
    r"""Rotate each row image ``X[n]`` by ``angles[n]`` radians and scale it by ``scales[n]`` about its centre,
    then move it by ``translations[n] = (t_y, t_x)`` pixels (fractions of a pixel allowed).

    Output pixel :math:`p` (in coordinates centred on the image, :math:`c = ((h - 1)/2, (w - 1)/2)`) takes the
    input's value at the inverse map,

    .. math:: q = \frac{1}{s} R(-\theta)\,(p - t - c) + c,

    read by bilinear interpolation between the four pixels around :math:`q` (``fill`` outside the image). Unlike
    a whole-pixel shift, this moves ink by fractions of a pixel, which suits 8x8 images where one pixel is an
    eighth of the picture.

    Parameters
    ----------
    X : ndarray of shape (N, height * width)
        Images as flat rows.
    angles : ndarray of shape (N,)
        Counter-clockwise rotations in radians.
    scales : ndarray of shape (N,)
        Positive zoom factors (1: unchanged, above 1: larger).
    image_shape : (int, int)
        ``(height, width)``.
    fill : float
        Value read outside the image.
    translations : ndarray of shape (N, 2), optional
        Down/right moves in pixels (negative: up/left), applied after the rotation and zoom; ``None``: none.

    Returns
    -------
    ndarray of shape (N, height * width), same dtype as ``X``.

    Examples
    --------
    >>> X = np.arange(9.0).reshape(1, 9)
    >>> affine_images(X, np.array([np.pi / 2]), np.array([1.0]), (3, 3)).reshape(3, 3).round(6)
    array([[2., 5., 8.],
           [1., 4., 7.],
           [0., 3., 6.]])
    >>> affine_images(X, np.zeros(1), np.ones(1), (3, 3), translations=np.array([[0.0, 0.5]])).reshape(3, 3)
    array([[0. , 0.5, 1.5],
           [1.5, 3.5, 4.5],
           [3. , 6.5, 7.5]])
    """
    X = np.asarray(X)
    h, w = image_shape
    n = X.shape[0]
    angles, scales = np.asarray(angles, dtype=np.float64), np.asarray(scales, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != h * w:
        raise ValueError(f"X must have shape (n_samples, {h * w}) for images {image_shape}; got {X.shape}.")
    if angles.shape != (n,) or scales.shape != (n,):
        raise ValueError(f"angles and scales must have shape ({n},); got {angles.shape} and {scales.shape}.")
    if not np.all(scales > 0):
        raise ValueError("Every scale must be positive.")
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    py, px = np.mgrid[0:h, 0:w]
    py, px = (py.reshape(-1) - cy)[None, :], (px.reshape(-1) - cx)[None, :]  # (1, h*w), centred
    if translations is not None:
        t = np.asarray(translations, dtype=np.float64)
        if t.shape != (n, 2) or not np.all(np.isfinite(t)):
            raise ValueError(f"translations must be a finite array of shape ({n}, 2); got shape {t.shape}.")
        py, px = py - t[:, :1], px - t[:, 1:]  # (N, h*w): undo the move first, p - t
    cos, sin = (np.cos(angles) / scales)[:, None], (np.sin(angles) / scales)[:, None]  # (N, 1)
    # the inverse map R(-theta) / s, rows are (y, x) with y pointing down: a counter-clockwise turn on screen
    qy = cos * py + sin * px + cy  # (N, h*w): where each output pixel reads from
    qx = -sin * py + cos * px + cx
    return sample_bilinear(X, qy, qx, image_shape, fill)


def sample_bilinear(X: np.ndarray, qy: np.ndarray, qx: np.ndarray, image_shape: tuple[int, int], fill=0.0):
    """Read each row image ``X[n]`` at the real coordinates ``(qy[n, p], qx[n, p])``, one per output pixel ``p``,
    by bilinear interpolation between the four pixels around them (``fill`` outside the image).

    ``X`` has shape (N, h*w), ``qy`` and ``qx`` (N, h*w) in pixels (row, column); returns (N, h*w) in ``X``'s dtype.
    """
    h, w = image_shape
    n = X.shape[0]
    y0, x0 = np.floor(qy).astype(np.intp), np.floor(qx).astype(np.intp)
    fy, fx = qy - y0, qx - x0  # (N, h*w): the bilinear weights' fractions
    padded = np.full((n, h + 2, w + 2), fill, dtype=np.float64)  # a border of `fill` around each image
    padded[:, 1:-1, 1:-1] = X.reshape(n, h, w)
    flat = padded.reshape(n, -1)  # (N, (h+2)*(w+2))
    # corners outside the image read the border: clip to one pixel outside, offset by the padding
    ya, yb = np.clip(y0, -1, h) + 1, np.clip(y0 + 1, -1, h) + 1
    xa, xb = np.clip(x0, -1, w) + 1, np.clip(x0 + 1, -1, w) + 1

    def at(yy, xx):
        return np.take_along_axis(flat, yy * (w + 2) + xx, axis=1)  # (N, h*w)

    top = (1 - fx) * at(ya, xa) + fx * at(ya, xb)  # (N, h*w): along x on the upper row
    bottom = (1 - fx) * at(yb, xa) + fx * at(yb, xb)  # and on the lower row
    out = (1 - fy) * top + fy * bottom  # then along y
    return out.astype(X.dtype, copy=False)


class RandomAffine:
    r"""A new small rotation, scaling and sub-pixel move for every image: ``RandomAffine(10, 0.1)(X, rng)``.

    The angle is drawn uniformly from :math:`[-\text{rotation}, \text{rotation}]` degrees, the zoom from
    :math:`[1 - \text{scale}, 1 + \text{scale}]` and the move along each axis from
    :math:`[-\text{translation}, \text{translation}]` pixels, independently for each image; see
    :func:`affine_images`. Unlike :class:`RandomShift`'s whole pixels, a move of a fraction of a pixel is
    read bilinearly: on 8x8 digits, moves of up to half a pixel help where whole-pixel shifts hurt.

    Parameters
    ----------
    rotation : float
        Largest rotation in degrees (0: none).
    scale : float
        Largest relative change of size, in [0, 1) (0: none).
    image_shape : (int, int) or None
        ``(height, width)``; ``None`` infers a square from the number of features.
    fill : float
        Background value read outside the image.
    translation : float
        Largest move along each axis in pixels, fractions allowed (0: none).

    Examples
    --------
    >>> X = np.random.default_rng(0).random((4, 64))
    >>> RandomAffine(10, 0.1, translation=0.5)(X, rng=0).shape
    (4, 64)
    """

    def __init__(
        self,
        rotation: float = 10.0,
        scale: float = 0.0,
        image_shape=None,
        fill: float = 0.0,
        translation: float = 0.0,
    ) -> None:
        _check_float("rotation", rotation, 0.0, 180.0)
        _check_float("scale", scale, 0.0, 1.0, right_open=True)
        _check_float("translation", translation, 0.0, None)
        self.rotation, self.scale, self.translation = float(rotation), float(scale), float(translation)
        self.image_shape, self.fill = image_shape, float(fill)

    def __call__(self, X: np.ndarray, rng) -> np.ndarray:
        X = np.asarray(X)
        shape = infer_image_shape(X.shape[1], self.image_shape)
        rng = as_generator(rng)
        angles = np.deg2rad(rng.uniform(-self.rotation, self.rotation, size=X.shape[0]))
        scales = rng.uniform(1.0 - self.scale, 1.0 + self.scale, size=X.shape[0])
        # the moves are drawn last and only when asked: a seed gives the same angles and zooms as without them
        moves = None
        if self.translation:
            moves = rng.uniform(-self.translation, self.translation, size=(X.shape[0], 2))  # (N, 2): (dy, dx)
        return affine_images(X, angles, scales, shape, self.fill, translations=moves)

    def __repr__(self) -> str:
        return (
            f"RandomAffine(rotation={self.rotation}, scale={self.scale}, translation={self.translation}, "
            f"image_shape={self.image_shape!r})"
        )


def average_over_rotations(predict_proba, X: np.ndarray, angles, image_shape=None) -> np.ndarray:
    r"""Test-time augmentation: the mean of ``predict_proba`` over the image rotated by each of ``angles``.

    A model trained on randomly rotated images has seen every digit at many angles; asking it about a few
    fixed rotations of a test image and averaging the answers,

    .. math:: p(k \mid x) = \frac{1}{V} \sum_{v=1}^{V} p\big(k \mid R_{\theta_v} x\big),

    cancels part of the errors that depend on the exact angle, as an ensemble cancels those that depend on the
    seed. It costs ``V`` predictions. Each rotation is :func:`affine_images` about the image's centre
    (bilinear, 0 outside); an angle of 0 is the image itself.

    Parameters
    ----------
    predict_proba : callable
        ``(N, height * width) -> (N, n_classes)`` probabilities.
    X : ndarray of shape (N, height * width)
        Images as flat rows.
    angles : sequence of float
        The ``V`` rotations in degrees, counter-clockwise (e.g. ``(-10, -5, 0, 5, 10)``); at least one.
    image_shape : (int, int) or None
        ``(height, width)``; ``None`` infers a square from the number of features.

    Returns
    -------
    ndarray of shape (N, n_classes): the mean probabilities.

    Examples
    --------
    >>> X = np.random.default_rng(0).random((3, 64))
    >>> def mean_ink(V):  # a "model" whose first class has the mean brightness as its probability
    ...     return np.column_stack([V.mean(axis=1), 1 - V.mean(axis=1)])
    >>> average_over_rotations(mean_ink, X, [0.0]).round(6).tolist() == mean_ink(X).round(6).tolist()
    True
    >>> average_over_rotations(mean_ink, X, [-10, 0, 10]).shape
    (3, 2)
    """
    X = np.asarray(X)
    angles = [float(a) for a in angles]
    if not angles or not all(math.isfinite(a) for a in angles):
        raise ValueError(f"angles must be a non-empty sequence of finite degrees; got {angles!r}.")
    shape = infer_image_shape(X.shape[1], image_shape)
    n = X.shape[0]
    total = None
    for angle in angles:
        view = X if angle == 0 else affine_images(X, np.full(n, np.deg2rad(angle)), np.ones(n), shape)
        p = np.asarray(predict_proba(view))  # (N, n_classes)
        total = p.copy() if total is None else total + p
    return total / len(angles)


class RandomElastic:
    r"""Elastic distortion (Simard, Steinkraus and Platt, 2003): a smooth random displacement of every pixel.

    Each image gets its own field :math:`u` of independent uniform values in :math:`[-1, 1]` per pixel and axis,
    blurred by a Gaussian of width ``sigma`` pixels and scaled so that its root-mean-square displacement along
    each axis is ``alpha`` pixels; output pixel :math:`p` reads the input at :math:`p + u(p)` (bilinear, ``fill``
    outside):

    .. math:: y(p) = x\big(p + \alpha\, \frac{(G_\sigma * u)(p)}{\mathrm{rms}(G_\sigma * u)}\big).

    Small ``sigma`` gives a jittery field, large ``sigma`` an almost uniform shift; ``None`` takes an eighth of
    the image's side (1 pixel for 8x8, 3.5 for 28x28).

    Examples
    --------
    >>> X = np.random.default_rng(0).random((4, 64))
    >>> RandomElastic(alpha=0.5)(X, rng=0).shape
    (4, 64)
    """

    def __init__(self, alpha: float = 1.0, sigma=None, image_shape=None, fill: float = 0.0) -> None:
        _check_float("alpha", alpha, 0.0, None)
        if sigma is not None:
            _check_float("sigma", sigma, 1e-3, None)
        self.alpha, self.sigma = float(alpha), None if sigma is None else float(sigma)
        self.image_shape, self.fill = image_shape, float(fill)

    def __call__(self, X: np.ndarray, rng) -> np.ndarray:
        X = np.asarray(X)
        h, w = infer_image_shape(X.shape[1], self.image_shape)
        sigma = self.sigma if self.sigma is not None else max(h, w) / 8.0
        field = as_generator(rng).uniform(-1.0, 1.0, size=(2, X.shape[0], h, w))  # (dy/dx, N, h, w)
        field = _gaussian_blur(field, sigma)
        rms = np.sqrt(np.mean(field**2, axis=(0, 2, 3), keepdims=True))  # (1, N, 1, 1): each image's size
        field *= self.alpha / np.maximum(rms, 1e-12)
        py, px = np.mgrid[0:h, 0:w]
        qy = (py + field[0]).reshape(X.shape[0], -1)  # (N, h*w): where each output pixel reads from
        qx = (px + field[1]).reshape(X.shape[0], -1)
        return sample_bilinear(X, qy, qx, (h, w), self.fill)

    def __repr__(self) -> str:
        return f"RandomElastic(alpha={self.alpha}, sigma={self.sigma}, image_shape={self.image_shape!r})"


def _gaussian_blur(field: np.ndarray, sigma: float) -> np.ndarray:
    """Blur the last two axes of ``field`` by a Gaussian of width ``sigma`` (separable). The noise wraps around
    the edges (a torus), so the border is as displaced as the centre."""
    radius = max(1, int(np.ceil(2 * sigma)))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    for axis in (-2, -1):
        size = field.shape[axis]
        pad = [(0, 0)] * field.ndim
        pad[axis] = (radius, radius)
        padded = np.pad(field, pad, mode="wrap")
        # one shifted copy per tap: sum_k taps[k] * field[i + k - radius]
        field = sum(t * np.take(padded, np.arange(k, k + size), axis=axis) for k, t in enumerate(taps))
    return field


# --- mirror images and pixel noise -------------------------------------------------------------------------------


class RandomFlip:
    """Mirror each image left to right with probability ``p``: for classes that look the same in a mirror
    (garments, shoes, bags), not for digits or letters.

    Examples
    --------
    >>> X = np.arange(4.0).reshape(1, 4)
    >>> RandomFlip(p=1.0, image_shape=(2, 2))(X, rng=0)
    array([[1., 0., 3., 2.]])
    """

    def __init__(self, p: float = 0.5, image_shape=None) -> None:
        _check_float("p", p, 0.0, 1.0)
        self.p, self.image_shape = float(p), image_shape

    def __call__(self, X: np.ndarray, rng) -> np.ndarray:
        X = np.asarray(X)
        h, w = infer_image_shape(X.shape[1], self.image_shape)
        flip = as_generator(rng).random(X.shape[0]) < self.p  # (N,)
        out = X.copy()
        out[flip] = X[flip].reshape(-1, h, w)[:, :, ::-1].reshape(-1, h * w)
        return out

    def __repr__(self) -> str:
        return f"RandomFlip(p={self.p}, image_shape={self.image_shape!r})"


class GaussianNoise:
    r"""Add :math:`\mathcal{N}(0, \sigma^2)` noise to every input value, anew for every batch (any data, not only
    images).

    Examples
    --------
    >>> GaussianNoise(0.1)(np.zeros((2, 3), dtype=np.float32), rng=0).dtype
    dtype('float32')
    """

    def __init__(self, std: float = 0.1) -> None:
        _check_float("std", std, 0.0, None)
        self.std = float(std)

    def __call__(self, X: np.ndarray, rng) -> np.ndarray:
        X = np.asarray(X)
        noise = as_generator(rng).normal(0.0, self.std, size=X.shape)
        return (X + noise).astype(X.dtype, copy=False)

    def __repr__(self) -> str:
        return f"GaussianNoise(std={self.std})"


class Compose:
    """Several augmentations applied in turn, each drawing from the same random generator.

    Examples
    --------
    >>> Compose([RandomFlip(1.0, (1, 2)), GaussianNoise(0.0)])(np.array([[1.0, 2.0]]), rng=0)
    array([[2., 1.]])
    """

    def __init__(self, steps) -> None:
        self.steps = list(steps)
        for step in self.steps:
            if not callable(step):
                raise TypeError(f"Every augmentation must be callable as step(X, rng); got {step!r}.")

    def __call__(self, X: np.ndarray, rng) -> np.ndarray:
        rng = as_generator(rng)
        for step in self.steps:
            X = step(X, rng)
        return X

    def __repr__(self) -> str:
        return f"Compose({self.steps!r})"


def _check_float(name: str, value, low: float, high: float | None, right_open: bool = False) -> None:
    """A ``ValueError`` naming ``name`` unless ``value`` is a real number in ``[low, high]`` (``[low, high)``)."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    ok = ok and math.isfinite(float(value)) and float(value) >= low
    if ok and high is not None:
        ok = float(value) < high if right_open else float(value) <= high
    if not ok:
        bound = "inf)" if high is None else (f"{high})" if right_open else f"{high}]")
        raise ValueError(f"{name} must be a float in [{low}, {bound}; got {value!r}.")
