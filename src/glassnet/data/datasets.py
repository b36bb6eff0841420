"""Load a data set by name or path into one :class:`Dataset` with a train and a test split.

Names: ``digits`` (scikit-learn's 8x8 digits, split 80/20 with a seed), ``fashion-mnist`` and ``mnist``
(the official IDX files and their official train/test split), or the path of the user's own ``.npz`` or
``.csv`` file.

Every data set is scaled to [0, 1] (digits divided by 16, images by 255) and flattened to
``(n_samples, n_features)`` float32. The :attr:`Dataset.preprocessing` dictionary records how, so that a
saved model can convert a new picture the same way.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from glassnet.data.errors import DataError, DataNotFoundError
from glassnet.data.idx import read_idx
from glassnet.data.sources import SOURCES, get_source, search_dirs

__all__ = ["Dataset", "load_dataset", "load_digits", "load_idx_dataset", "load_user_file", "find_idx_dir"]

BUILTIN = ("digits", "fashion-mnist", "mnist")


@dataclass
class Dataset:
    """A classification data set split into train and test parts.

    Attributes
    ----------
    name : str
        ``"digits"``, ``"fashion-mnist"``, ``"mnist"`` or the user file's name.
    X_train, X_test : numpy.ndarray
        ``(n, n_features)`` float32, scaled as described by :attr:`preprocessing`.
    y_train, y_test : numpy.ndarray
        ``(n,)`` int64 class indices into :attr:`classes`.
    classes : list
        The original labels (ints or strings), index ``k`` for class ``k``.
    class_names : list of str
        Display names (``"Trouser"`` for Fashion-MNIST's class 1).
    image_shape : tuple of int or None
        ``(height, width)`` if each row is an image.
    scale : float
        The raw pixel values were divided by this (16 for digits, 255 for 8-bit images).
    light_on_dark : bool
        True if high values are the foreground (ink), as in all three built-in data sets.
    fit : str
        How a new picture is fitted into the frame: ``"bbox"`` (crop to the drawing, keep the aspect,
        centre in a ``box`` x ``box`` square) or ``"frame"`` (resize the whole picture).
    box : int
        Size of the square the drawing is fitted into when ``fit == "bbox"``.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: list
    class_names: list[str]
    image_shape: tuple[int, int] | None = None
    scale: float = 1.0
    light_on_dark: bool = True
    fit: str = "frame"
    box: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def n_features(self) -> int:
        """Number of input features (pixels)."""
        return int(self.X_train.shape[1])

    @property
    def preprocessing(self) -> dict:
        """JSON-able description of the input, stored in model files."""
        return {
            "dataset": self.name,
            "n_features": self.n_features,
            "image_shape": list(self.image_shape) if self.image_shape else None,
            "scale": float(self.scale),
            "light_on_dark": bool(self.light_on_dark),
            "fit": self.fit,
            "box": int(self.box),
        }

    def test_digest(self) -> str:
        """SHA-256 of the test rows and labels: model files record it to tell that a re-split is the same.

        ``glassnet train`` stores it with the seed and test size; ``glassnet evaluate`` splits the data
        again and compares, so it knows it scores exactly the rows training held out.
        """
        import hashlib

        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.X_test, dtype=np.float32).tobytes())
        h.update(np.ascontiguousarray(self.y_test, dtype=np.int64).tobytes())
        return h.hexdigest()

    def subsample(self, n_train: int | None = None, n_test: int | None = None, seed: int = 0) -> Dataset:
        """Return a copy keeping a random ``n_train`` training and ``n_test`` test rows (for quick runs)."""
        rng = np.random.default_rng(seed)

        def pick(X, y, n):
            if n is None or n >= len(y):
                return X, y
            idx = np.sort(rng.choice(len(y), size=n, replace=False))
            return X[idx], y[idx]

        X_train, y_train = pick(self.X_train, self.y_train, n_train)
        X_test, y_test = pick(self.X_test, self.y_test, n_test)
        return Dataset(
            self.name, X_train, y_train, X_test, y_test, self.classes, self.class_names, self.image_shape,
            self.scale, self.light_on_dark, self.fit, self.box, list(self.notes),
        )  # fmt: skip


def _split(X: np.ndarray, y: np.ndarray, test_size: float, seed: int):
    from sklearn.model_selection import train_test_split

    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be a float in the range (0, 1), got {test_size!r}")
    counts = np.bincount(y)
    stratify = y if counts.min() >= 2 else None
    return train_test_split(X, y, test_size=test_size, random_state=seed, stratify=stratify)


def load_digits(test_size: float = 0.2, seed: int = 0) -> Dataset:
    """scikit-learn's 8x8 digits (1,797 images, values 0..16) divided by 16 and split with ``seed``."""
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    X = (bunch.data / 16.0).astype(np.float32)  # (1797, 64) in [0, 1]
    y = bunch.target.astype(np.int64)
    X_train, X_test, y_train, y_test = _split(X, y, test_size, seed)
    classes = list(range(10))
    return Dataset(
        "digits", X_train, y_train, X_test, y_test, classes, [str(c) for c in classes], (8, 8),
        scale=16.0, light_on_dark=True, fit="bbox", box=8,
    )  # fmt: skip


def _candidates(directory: Path, file_name: str) -> list[Path]:
    # accept the official .gz name and the decompressed name
    plain = file_name[:-3] if file_name.endswith(".gz") else file_name
    return [directory / file_name, directory / plain]


def find_idx_dir(name: str, data_dir: str | os.PathLike | None = None) -> tuple[Path, list[Path]]:
    """Find the folder holding all four files of ``name``.

    Returns
    -------
    (folder, files) : tuple
        The folder and the four file paths (train images, train labels, test images, test labels).

    Raises
    ------
    DataNotFoundError
        If no searched folder holds all four files; the message lists the folders and how to get the data.
    """
    source = get_source(name)
    searched = search_dirs(name, data_dir)
    for directory in searched:
        found = []
        for spec in source.files:
            hit = next((p for p in _candidates(directory, spec.name) if p.is_file()), None)
            if hit is None:
                break
            found.append(hit)
        else:
            return directory, found
    where = ", ".join(str(d) for d in searched)
    hint = f"run `glassnet data fetch {name}` (downloads about 30 MB)"
    if name == "fashion-mnist":
        hint += ", or install Debian's package: apt-get install dataset-fashion-mnist"
    hint += ", or pass --data-dir / set GLASSNET_DATA to a folder holding the four IDX files"
    raise DataNotFoundError(f"data set {name!r} not found (looked in {where}); {hint}")


def load_idx_dataset(name: str, data_dir: str | os.PathLike | None = None) -> Dataset:
    """Load Fashion-MNIST or MNIST from the official IDX files (60,000 train and 10,000 test images)."""
    source = get_source(name)
    _, paths = find_idx_dir(name, data_dir)
    arrays = [read_idx(p) for p in paths]
    X_train, y_train, X_test, y_test = arrays
    for images, labels, images_path, labels_path in (
        (X_train, y_train, paths[0], paths[1]),
        (X_test, y_test, paths[2], paths[3]),
    ):
        if images.ndim != 3:
            raise DataError(f"{images_path}: expected images of shape (n, height, width), got {images.shape}")
        if labels.ndim != 1:
            raise DataError(f"{labels_path}: expected labels of shape (n,), got {labels.shape}")
        if len(images) != len(labels):
            raise DataError(
                f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels"
            )
        n_classes = len(source.class_names)
        if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
            raise DataError(f"{labels_path}: labels must be in 0..{n_classes - 1}, got {labels.max()}")
    if X_train.shape[1:] != X_test.shape[1:]:
        raise DataError(f"train images {X_train.shape[1:]} and test images {X_test.shape[1:]} differ in size")
    h, w = X_train.shape[1:]
    scale = 255.0
    is_mnist = name == "mnist"
    return Dataset(
        name,
        (X_train.reshape(len(X_train), -1) / scale).astype(np.float32),  # (n, 28, 28) -> (n, 784)
        y_train.astype(np.int64),
        (X_test.reshape(len(X_test), -1) / scale).astype(np.float32),
        y_test.astype(np.int64),
        list(range(len(source.class_names))),
        list(source.class_names),
        (int(h), int(w)),
        scale=scale,
        light_on_dark=True,
        # MNIST digits are fitted into a 20x20 box centred in the 28x28 frame; clothes fill the frame.
        fit="bbox" if is_mnist else "frame",
        box=20 if is_mnist else 0,
    )


def _square_shape(n_features: int) -> tuple[int, int] | None:
    side = int(round(np.sqrt(n_features)))
    return (side, side) if side * side == n_features and side > 1 else None


def _encode_labels(y_raw: np.ndarray, source: str) -> tuple[np.ndarray, list]:
    if y_raw.dtype.kind == "f":
        if not np.all(np.isfinite(y_raw)) or not np.all(y_raw == np.round(y_raw)):
            raise DataError(f"{source}: class labels must be integers or strings, got non-integer numbers")
        y_raw = y_raw.astype(np.int64)
    classes, y = np.unique(y_raw, return_inverse=True)
    if len(classes) < 2:
        raise DataError(f"{source}: need at least 2 classes, found {len(classes)}")
    return y.astype(np.int64), [c.item() if hasattr(c, "item") else c for c in classes]


def _read_csv(path: Path, label_column: str | int | None) -> tuple[np.ndarray, np.ndarray]:
    with open(path, newline="") as f:
        rows = [row for row in csv.reader(f) if row]
    if not rows:
        raise DataError(f"{path}: empty CSV file")

    def numeric(value: str) -> bool:
        try:
            float(value)
        except ValueError:
            return False
        return True

    header = None
    if not all(numeric(v) for v in rows[0]):
        header, rows = [h.strip() for h in rows[0]], rows[1:]
    n_cols = len(header) if header else len(rows[0])
    if label_column is None:
        known = [c for c in ("label", "target", "class", "y") if header and c in header]
        col = header.index(known[0]) if known else n_cols - 1
    elif isinstance(label_column, str) and not label_column.lstrip("-").isdigit():
        if not header or label_column not in header:
            raise DataError(f"{path}: no column named {label_column!r} (columns: {header})")
        col = header.index(label_column)
    else:
        col = int(label_column)
        if not -n_cols <= col < n_cols:
            raise DataError(f"{path}: label column {col} out of range for {n_cols} columns")
        col %= n_cols
    features, labels = [], []
    for i, row in enumerate(rows, start=2 if header else 1):
        if len(row) != n_cols:
            raise DataError(f"{path}, line {i}: expected {n_cols} columns, got {len(row)}")
        try:
            features.append([float(v) for j, v in enumerate(row) if j != col])
        except ValueError:
            raise DataError(f"{path}, line {i}: feature values must be numbers, got {row}") from None
        labels.append(row[col].strip())
    if not rows:
        raise DataError(f"{path}: no data rows")
    y_raw = np.asarray(labels)
    if all(numeric(v) for v in labels):
        y_raw = y_raw.astype(np.float64)
    return np.asarray(features, dtype=np.float64), y_raw


def _read_npz(path: Path) -> tuple[list[np.ndarray], bool]:
    """The arrays of a user's ``.npz`` as ``[X, y]`` or ``[X_train, y_train, X_test, y_test]``, and whether
    it came split."""
    try:
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except Exception as exc:  # zipfile.BadZipFile, ValueError for object arrays, ...
        raise DataError(f"{path}: cannot read as .npz: {exc}") from None
    if {"X_train", "y_train", "X_test", "y_test"} <= arrays.keys():
        return [arrays[k] for k in ("X_train", "y_train", "X_test", "y_test")], True
    if {"X", "y"} <= arrays.keys():
        return [arrays["X"], arrays["y"]], False
    raise DataError(
        f"{path}: expected arrays 'X' and 'y' (or X_train, y_train, X_test, y_test), found {sorted(arrays)}"
    )


def _read_user_parts(path: Path, label_column: str | int | None) -> tuple[list[np.ndarray], bool]:
    """The ``[X, y, ...]`` arrays of a user's ``.npz`` or ``.csv`` file, and whether they came split."""
    if not path.is_file():
        raise DataNotFoundError(f"data file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return _read_npz(path)
    if suffix == ".csv":
        return list(_read_csv(path, label_column)), False
    raise DataError(f"{path}: unsupported data file type {suffix!r}; expected .npz or .csv")


def _flat_features(path: Path, Xs: list[np.ndarray], scale: float, presplit: bool) -> list[np.ndarray]:
    """Each ``X`` (tables or images) as float32 rows divided by ``scale``; split parts must agree in width."""
    flat = []
    for X in Xs:
        if X.ndim not in (2, 3):
            raise DataError(f"{path}: X must be (n, n_features) or (n, height, width), got shape {X.shape}")
        if X.dtype.kind not in "biuf":
            raise DataError(f"{path}: X must be numeric, got dtype {X.dtype}")
        flat.append((X.reshape(len(X), -1) / scale).astype(np.float32))
    if presplit and flat[0].shape[1] != flat[1].shape[1]:
        raise DataError(f"{path}: X_train has {flat[0].shape[1]} features, X_test {flat[1].shape[1]}")
    return flat


def _check_labels(path: Path, flat: list[np.ndarray], ys: list[np.ndarray]) -> None:
    """Each ``y`` must be 1-D with one label per row of its ``X``."""
    for X, y in zip(flat, ys, strict=True):
        if y.ndim != 1 or len(y) != len(X):
            raise DataError(
                f"{path}: y must be 1-D with one label per row of X; got {y.shape} for {len(X)} rows"
            )


def _user_split(path: Path, flat: list[np.ndarray], ys: list[np.ndarray], presplit: bool, test_size: float,
                seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list]:  # fmt: skip
    """``(X_train, X_test, y_train, y_test, classes)``: the file's own split, or one drawn with ``seed``;
    the labels encoded as ``0..n_classes-1`` over both parts together."""
    if presplit:
        y_all, classes = _encode_labels(np.concatenate(ys), str(path))
        y_train, y_test = y_all[: len(ys[0])], y_all[len(ys[0]) :]
        X_train, X_test = flat
    else:
        y_all, classes = _encode_labels(ys[0], str(path))
        X_train, X_test, y_train, y_test = _split(flat[0], y_all, test_size, seed)
    return X_train, X_test, y_train, y_test, classes


def load_user_file(
    path: str | os.PathLike,
    *,
    label_column: str | int | None = None,
    test_size: float = 0.2,
    seed: int = 0,
    scale: float | None = None,
) -> Dataset:
    """Load the user's own ``.npz`` or ``.csv`` file.

    ``.npz``: arrays ``X`` and ``y`` (split with ``test_size`` and ``seed``) or ``X_train``, ``y_train``,
    ``X_test``, ``y_test``. ``X`` may hold images ``(n, h, w)``. Loaded without pickle.
    ``.csv``: one row per sample, an optional header; the label column is ``label_column`` (name or index),
    else a column named ``label``/``target``/``class``/``y``, else the last one.

    ``scale`` divides the features; by default 255 for uint8 arrays, else 1.
    """
    path = Path(path)
    parts, presplit = _read_user_parts(path, label_column)
    Xs, ys = parts[0::2], parts[1::2]
    image_shape = tuple(int(s) for s in Xs[0].shape[1:]) if Xs[0].ndim == 3 else None
    if scale is None:
        scale = 255.0 if Xs[0].dtype == np.uint8 else 1.0
    flat = _flat_features(path, Xs, scale, presplit)
    _check_labels(path, flat, ys)
    X_train, X_test, y_train, y_test, classes = _user_split(path, flat, ys, presplit, test_size, seed)
    if image_shape is None:
        image_shape = _square_shape(X_train.shape[1])
    return Dataset(
        path.name, X_train, y_train, X_test, y_test, classes, [str(c) for c in classes], image_shape,
        scale=float(scale), light_on_dark=True, fit="frame", box=0,
    )  # fmt: skip


def load_dataset(
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    test_size: float = 0.2,
    seed: int = 0,
    label_column: str | int | None = None,
    scale: float | None = None,
) -> Dataset:
    """Load ``digits``, ``fashion-mnist``, ``mnist`` or a ``.npz``/``.csv`` path.

    Raises
    ------
    DataNotFoundError
        If the data is not on this machine (the message says how to get it).
    DataError
        If a file is malformed or the name unknown.
    """
    if name == "digits":
        return load_digits(test_size=test_size, seed=seed)
    if name in SOURCES:
        return load_idx_dataset(name, data_dir)
    if name.lower().endswith((".npz", ".csv")):
        return load_user_file(name, label_column=label_column, test_size=test_size, seed=seed, scale=scale)
    raise DataError(
        f"unknown data set {name!r}: expected one of {', '.join(BUILTIN)} or the path of a .npz or .csv file"
    )
