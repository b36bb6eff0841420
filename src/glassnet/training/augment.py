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

__all__ = ["RandomShift", "infer_image_shape", "random_shift", "shift_images"]


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
