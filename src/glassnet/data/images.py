"""Turn a picture file (PNG, JPEG, ...) into one input row for a model trained on images.

The model's preprocessing (stored in its file) says what the training images looked like: their size,
whether the drawing is light on a dark background (all built-in data sets: ink = high values) and how the
drawing sits in the frame. A new picture is converted the same way:

1. decoded and converted to grey levels in [0, 1] (transparent pixels count as background);
2. inverted if its polarity differs from the model's (``polarity="auto"`` looks at the border: a light
   border means dark ink on light paper);
3. for ``fit="bbox"`` cropped to the drawing, padded to a square and scaled into a ``box`` x ``box``
   square centred in the frame (as the digits and MNIST were made); for ``fit="frame"`` resized whole;
4. stretched so the brightest pixel is 1, as the training images (raw value / scale) are.
"""

from __future__ import annotations

import os

import numpy as np

from glassnet.data.errors import DataError

__all__ = ["POLARITIES", "load_image", "image_to_row"]

POLARITIES = ("auto", "dark-on-light", "light-on-dark")


def load_image(path: str | os.PathLike) -> np.ndarray:
    """Decode a picture into a 2-D float array of grey levels in [0, 1] (1 = white).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    DataError
        If the file cannot be decoded as an image.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
                rgba = image.convert("RGBA")
                background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                # transparent pixels become white paper
                image = Image.alpha_composite(background, rgba)
            grey = np.asarray(image.convert("L"), dtype=np.float64) / 255.0
    except FileNotFoundError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"cannot decode image {path}: {exc}") from None
    if grey.ndim != 2 or grey.size == 0:
        raise DataError(f"cannot decode image {path}: empty picture")
    return grey


def _resize(array: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    image = Image.fromarray((np.clip(array, 0, 1) * 255).astype(np.uint8))
    # BOX averages the pixels each output pixel covers, like the 4x4 blocks of the digits data set
    resized = image.resize((shape[1], shape[0]), resample=Image.Resampling.BOX)
    return np.asarray(resized, dtype=np.float64) / 255.0


def image_to_row(grey: np.ndarray, preprocessing: dict, polarity: str = "auto") -> np.ndarray:
    """Convert grey levels (1 = white) to one model input row, following ``preprocessing``.

    Parameters
    ----------
    grey : numpy.ndarray
        ``(height, width)`` grey levels in [0, 1], as from :func:`load_image`.
    preprocessing : dict
        A model's preprocessing: ``image_shape``, ``light_on_dark``, ``fit``, ``box``.
    polarity : {"auto", "dark-on-light", "light-on-dark"}
        The picture's: dark ink on light paper, light ink on a dark background, or decided by the border
        (a light border means dark on light).

    Returns
    -------
    numpy.ndarray
        ``(n_features,)`` float32 in [0, 1].
    """
    shape = preprocessing.get("image_shape")
    if not shape:
        raise DataError("this model was not trained on images (no image shape in its preprocessing)")
    shape = (int(shape[0]), int(shape[1]))
    if polarity not in POLARITIES:
        raise ValueError(f"polarity must be one of {POLARITIES}, got {polarity!r}")
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if polarity == "auto":
        polarity = "dark-on-light" if float(np.median(border)) > 0.5 else "light-on-dark"
    ink = 1.0 - grey if polarity == "dark-on-light" else grey  # from here on the drawing is high
    background = np.median(np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]]))
    x = np.clip(ink - background, 0.0, None)  # paper to 0
    if preprocessing.get("fit") == "bbox" and x.max() > 0:
        rows = np.flatnonzero(x.max(axis=1) > 0.2 * x.max())
        cols = np.flatnonzero(x.max(axis=0) > 0.2 * x.max())
        x = x[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]  # crop to the drawing
        side = max(x.shape)
        square = np.zeros((side, side))
        top, left = (side - x.shape[0]) // 2, (side - x.shape[1]) // 2
        square[top : top + x.shape[0], left : left + x.shape[1]] = x  # pad to a square, keep the aspect
        box = int(preprocessing.get("box") or min(shape))
        x = np.zeros(shape)
        top, left = (shape[0] - box) // 2, (shape[1] - box) // 2
        x[top : top + box, left : left + box] = _resize(square, (box, box))  # centre in the frame
    else:
        x = _resize(x, shape)
    if x.max() > 0:
        x = x / x.max()
    if not preprocessing.get("light_on_dark", True):
        x = 1.0 - x  # a model trained on dark ink on light paper
    return x.astype(np.float32).ravel()
