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

Models of the 8x8 digits (``fit="bbox"`` and ``scale=16``) follow how that data set was made instead of steps
3 and 4: each digit was a 32x32 bitmap of thick strokes, and each of the 8x8 values counts the inked pixels of
one 4x4 block (0 to 16). A drawing is cropped and fitted into a 32x32 bitmap, its strokes thickened until they
cover the share of the bitmap the data set's digits cover (:data:`DIGITS_INK_SHARE`, whatever the class), and
block-summed to 8x8 (:func:`digits_bitmap`). So a thin pen stroke reads as the thick strokes the model learnt
from, where a plain reduction would shrink it to a faint line one pixel wide.
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from glassnet.data.errors import DataError

__all__ = [
    "DIGITS_INK_SHARE",
    "MAX_PIXELS",
    "MAX_SIDE",
    "POLARITIES",
    "digits_bitmap",
    "load_image",
    "image_to_row",
]

POLARITIES = ("auto", "dark-on-light", "light-on-dark")


MAX_PIXELS = 100_000_000
"""The largest picture :func:`load_image` decodes (100 megapixels); larger ones are refused."""
MAX_SIDE = 1024
"""Pictures are reduced while decoding to at most this many pixels a side (models take 8 to 28)."""

DIGITS_INK_SHARE = 0.30
"""The share of a 32x32 bitmap the strokes of scikit-learn's 8x8 digits cover: the 8x8 values of every class
sum to about 310 (of 16 x 64 = 1024 pixels; per class, 303 for a 7 to 330 for an 8), thin "1"s and round "0"s
alike."""

_BLOCK = 4  # the 8x8 digits: each value counts the inked pixels of a 4x4 block of the 32x32 bitmap

_ORIENTATION = 0x0112  # the EXIF tag
_TRANSPOSE = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE", 6: "ROTATE_270",
              7: "TRANSVERSE", 8: "ROTATE_90"}  # fmt: skip  # as PIL.ImageOps.exif_transpose


def _too_large(path, pixels: int, size: str = "") -> DataError:
    return DataError(
        f"cannot decode image {path}: it is {size}{pixels / 1e6:.0f} megapixels, more than the "
        f"{MAX_PIXELS / 1e6:.0f} megapixels glassnet reads; scale it down first (a model sees at most a few "
        "hundred pixels a side)"
    )


def _open(path):
    import re

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # glassnet's own limit applies
            return Image.open(path)
    except Image.DecompressionBombError as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        raise _too_large(path, int(found.group(1)) if found else 2 * MAX_PIXELS) from None


def _grey_levels(image) -> np.ndarray:
    """Grey levels in [0, 1] of a decoded (and reduced) picture of any mode."""
    from PIL import Image

    if image.mode in ("F", "I"):  # float and 32-bit integer pictures (TIFF): scaled, not clipped
        a = np.nan_to_num(np.asarray(image, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        top = float(a.max()) if a.size else 1.0
        if image.mode == "F" and a.min() >= 0 and top <= 1.0:
            return a  # floats in [0, 1]: already grey levels
        for full in (255.0, 65535.0):
            if a.min() >= 0 and top <= full:
                return a / full
        low = float(a.min())
        return (a - low) / (top - low) if top > low else np.zeros_like(a)
    if image.mode in ("RGBA", "LA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)  # transparent pixels become white paper
    return np.asarray(image.convert("L"), dtype=np.float64) / 255.0


def load_image(path: str | os.PathLike) -> np.ndarray:
    """Decode a picture into a 2-D float array of grey levels in [0, 1] (1 = white).

    The picture is turned upright as its EXIF orientation says (as
    :func:`PIL.ImageOps.exif_transpose`), reduced while decoding to at most :data:`MAX_SIDE` pixels a
    side (JPEG is decoded at that scale directly), so memory stays small for any size up to
    :data:`MAX_PIXELS`. Float and 16/32-bit pictures (TIFF) are scaled to [0, 1] rather than clipped;
    of a multi-frame file (an animated GIF, a multi-page TIFF) only the first frame is used, with a
    ``UserWarning`` saying so.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    DataError
        If the file cannot be decoded as an image, or has more than :data:`MAX_PIXELS` pixels.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with _open(path) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise _too_large(path, width * height, f"{width} x {height} pixels, ")
            frames = getattr(image, "n_frames", 1)
            if frames > 1:
                warnings.warn(
                    f"{path} has {frames} frames (an animation or a multi-page file); only the first is used",
                    UserWarning,
                    stacklevel=2,
                )
            orientation = image.getexif().get(_ORIENTATION, 1)
            if image.format == "JPEG":
                image.draft(image.mode, (MAX_SIDE, MAX_SIDE))  # decode at 1/2, 1/4 or 1/8 scale
            image.load()
            if image.mode == "P":
                image = image.convert("RGBA" if "transparency" in image.info else "RGB")
            elif image.mode == "PA":
                image = image.convert("RGBA")
            elif image.mode.startswith("I;16"):
                image = image.convert("I")
            elif image.mode not in ("L", "LA", "RGB", "RGBA", "F", "I"):
                image = image.convert("RGB")  # 1-bit, CMYK, YCbCr, ...
            factor = -(-max(image.size) // MAX_SIDE)
            if factor > 1:
                image = image.reduce(factor)  # averages factor x factor blocks
            if orientation in _TRANSPOSE:
                image = image.transpose(getattr(Image.Transpose, _TRANSPOSE[orientation]))
            grey = _grey_levels(image)
    except (FileNotFoundError, DataError):
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


def _fit_square(x: np.ndarray, threshold: float) -> np.ndarray:
    """Crop ``x`` to the pixels above ``threshold`` and pad it to a square, the drawing centred."""
    rows = np.flatnonzero(x.max(axis=1) > threshold)
    cols = np.flatnonzero(x.max(axis=0) > threshold)
    x = x[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]  # crop to the drawing
    side = max(x.shape)
    square = np.zeros((side, side))
    top, left = (side - x.shape[0]) // 2, (side - x.shape[1]) // 2
    square[top : top + x.shape[0], left : left + x.shape[1]] = x  # pad to a square, keep the aspect
    return square


def digits_bitmap(x: np.ndarray, side: int = 8, ink_share: float = DIGITS_INK_SHARE) -> np.ndarray:
    """A drawing as the 8x8 digits were made: a ``4 side`` square bitmap of thick strokes, block-summed.

    Parameters
    ----------
    x : numpy.ndarray
        ``(height, width)`` ink levels (paper 0, ink high), any size.
    side : int
        The output's side (8 for the digits).
    ink_share : float
        Thicken the strokes (one pixel all round at a time, the bitmap fitted again to the drawing) until
        they cover this share of the bitmap.

    Returns
    -------
    numpy.ndarray
        ``(side, side)`` counts of inked pixels per 4x4 block, from 0 to 16.
    """
    from scipy.ndimage import binary_dilation

    n = _BLOCK * side
    square = _fit_square(x, 0.2 * x.max())
    grey = _resize(square / square.max(), (n, n))  # BOX: each pixel the share of ink it covers
    bitmap = grey > 0.3 * grey.max()  # a thin stroke keeps at least one pixel of width
    while bitmap.mean() < ink_share:
        thicker = binary_dilation(bitmap)  # every stroke one pixel wider on each side
        fitted = _resize(_fit_square(thicker.astype(float), 0.5), (n, n)) > 0.5  # fill the bitmap again
        if fitted.sum() <= bitmap.sum():
            break  # nothing grows any more (a filled frame)
        bitmap = fitted
    # (n, n) -> (side, 4, side, 4) -> (side, side): the inked pixels of each 4x4 block
    return bitmap.reshape(side, _BLOCK, side, _BLOCK).sum(axis=(1, 3)).astype(np.float64)


def _block_summed(preprocessing: dict, shape: tuple[int, int]) -> bool:
    """True for models of the 8x8 digits, whose values count the inked pixels of 4x4 blocks (scale 16)."""
    return (
        preprocessing.get("fit") == "bbox"
        and float(preprocessing.get("scale") or 0) == _BLOCK * _BLOCK
        and shape[0] == shape[1]
        and int(preprocessing.get("box") or shape[0]) == shape[0]
    )


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
    if _block_summed(preprocessing, shape) and x.max() > 0:
        x = digits_bitmap(x, shape[0]) / (_BLOCK * _BLOCK)  # counts 0..16, divided by the data set's scale
    elif preprocessing.get("fit") == "bbox" and x.max() > 0:
        square = _fit_square(x, 0.2 * x.max())
        box = int(preprocessing.get("box") or min(shape))
        if not 1 <= box <= min(shape):
            raise ValueError(f"preprocessing box must be in [1, {min(shape)}] (the image size), got {box}")
        x = np.zeros(shape)
        top, left = (shape[0] - box) // 2, (shape[1] - box) // 2
        x[top : top + box, left : left + box] = _resize(square, (box, box))  # centre in the frame
    else:
        x = _resize(x, shape)
    if not _block_summed(preprocessing, shape) and x.max() > 0:
        x = x / x.max()
    if not preprocessing.get("light_on_dark", True):
        x = 1.0 - x  # a model trained on dark ink on light paper
    return x.astype(np.float32).ravel()
