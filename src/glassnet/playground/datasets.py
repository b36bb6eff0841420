"""The playground's 2-D problems, generated with NumPy from a seed, and the reader of a user's CSV.

Every generator returns ``(X, y)`` with ``X`` of shape ``(n, 2)`` (float32, roughly in ``[-1.5, 1.5]``) and
``y`` of shape ``(n,)``: int64 class indices from 0 for the classification problems (:data:`DATASETS`),
float32 values of a surface :math:`y = f(x_1, x_2)` for the regression problems (:data:`REGRESSIONS`, as in
TensorFlow Playground). :func:`make_dataset` adds the noise (to the points of a classification problem, to the
values of a regression problem) and the train/test split, so that a script (the playground's "copy as
Python") gets the same points from the same arguments.
"""

from __future__ import annotations

import csv

import numpy as np

__all__ = [
    "DATASETS",
    "FEATURES",
    "REGRESSIONS",
    "add_features",
    "make_dataset",
    "parse_csv",
    "read_csv",
    "split",
    "standardization",
]

#: TensorFlow Playground's engineered inputs: name -> (label, function of the columns x1 and x2)
FEATURES = {
    "x1sq": ("x₁²", lambda x1, x2: x1 * x1),
    "x2sq": ("x₂²", lambda x1, x2: x2 * x2),
    "x1x2": ("x₁x₂", lambda x1, x2: x1 * x2),
    "sinx1": ("sin x₁", lambda x1, x2: np.sin(x1)),
    "sinx2": ("sin x₂", lambda x1, x2: np.sin(x2)),
}


def add_features(X: np.ndarray, features: list[str]) -> np.ndarray:
    """The points ``X`` of shape (N, 2) with the engineered columns ``features`` (names of :data:`FEATURES`,
    in that table's order) after x1 and x2: shape (N, 2 + len(features)); ``X`` itself without any."""
    if not features:
        return X
    x1, x2 = X[:, 0], X[:, 1]
    extra = [FEATURES[name][1](x1, x2) for name in FEATURES if name in features]
    return np.column_stack([X, *extra]).astype(X.dtype)  # (N, 2) + k x (N,) -> (N, 2 + k)


def _circles(n: int, rng: np.random.Generator, classes: int) -> tuple[np.ndarray, np.ndarray]:
    y = np.arange(n) % 2
    radius = np.where(y == 0, rng.uniform(0.0, 0.5, n), rng.uniform(0.75, 1.25, n))
    angle = rng.uniform(0.0, 2 * np.pi, n)
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]), y


def _moons(n: int, rng: np.random.Generator, classes: int) -> tuple[np.ndarray, np.ndarray]:
    y = np.arange(n) % 2
    t = rng.uniform(0.0, np.pi, n)
    upper = np.column_stack([np.cos(t), np.sin(t)])
    lower = np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])
    X = np.where(y[:, None] == 0, upper, lower)
    return (X - [0.5, 0.25]) * 1.2, y


def _xor(n: int, rng: np.random.Generator, classes: int) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-1.2, 1.2, (n, 2))
    X += np.sign(X) * 0.05  # a thin gap along the axes
    return X, (X[:, 0] * X[:, 1] < 0).astype(np.int64)


def _spirals(n: int, rng: np.random.Generator, classes: int) -> tuple[np.ndarray, np.ndarray]:
    y = np.arange(n) % classes
    t = rng.uniform(0.0, 1.0, n) ** 0.5  # even density along the arm
    angle = 1.75 * 2 * np.pi * t + 2 * np.pi * y / classes
    radius = 1.3 * t + 0.05
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]), y


def _blobs(n: int, rng: np.random.Generator, classes: int) -> tuple[np.ndarray, np.ndarray]:
    y = np.arange(n) % classes
    angle = 2 * np.pi * np.arange(classes) / classes + 0.4
    centres = 0.85 * np.column_stack([np.cos(angle), np.sin(angle)])
    return centres[y] + rng.normal(0.0, 0.22, (n, 2)), y


#: name -> (generator, description, fixed number of classes or None when the user chooses 2..10)
DATASETS = {
    "circles": (_circles, "a disc inside a ring", 2),
    "moons": (_moons, "two interleaved half-moons", 2),
    "xor": (_xor, "the four quadrants, XOR of the signs", 2),
    "spirals": (_spirals, "spiral arms (2 or 3)", None),
    "blobs": (_blobs, "Gaussian blobs, k classes", None),
}


def _surface(n: int, rng: np.random.Generator, classes: int) -> tuple[np.ndarray, np.ndarray]:
    r"""A smooth hill-and-valley surface: :math:`y = \sin(2 x_1) \cos(1.5 x_2)`, values in [-1, 1]."""
    X = rng.uniform(-1.3, 1.3, (n, 2))
    return X, np.sin(2.0 * X[:, 0]) * np.cos(1.5 * X[:, 1])


def _plane(n: int, rng: np.random.Generator, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """A tilted plane, :math:`y = 0.6 x_1 - 0.4 x_2`: a network without hidden layers fits it exactly."""
    X = rng.uniform(-1.3, 1.3, (n, 2))
    return X, 0.6 * X[:, 0] - 0.4 * X[:, 1]


#: regression problems: name -> (generator, description); the noise goes to the values y, not the points
REGRESSIONS = {
    "surface": (_surface, "a smooth surface, sin(2 x₁) cos(1.5 x₂)"),
    "plane": (_plane, "a tilted plane, 0.6 x₁ − 0.4 x₂, with noisy values"),
}


def split(X: np.ndarray, y: np.ndarray, train_fraction: float, rng: np.random.Generator):
    """Shuffle and split into ``(X_train, y_train, X_test, y_test)``; at least one sample on each side."""
    order = rng.permutation(len(X))
    n_train = min(max(int(round(train_fraction * len(X))), 1), len(X) - 1)
    tr, te = order[:n_train], order[n_train:]
    return X[tr], y[tr], X[te], y[te]


def make_dataset(
    name: str,
    n_samples: int = 400,
    noise: float = 0.1,
    train_fraction: float = 0.5,
    classes: int = 2,
    seed: int = 0,
):
    """A 2-D classification or regression problem, split into train and test.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS` (``circles``, ``moons``, ``xor``, ``spirals``, ``blobs``) or of
        :data:`REGRESSIONS` (``surface``, ``plane``).
    n_samples : int
        Points in all (train + test).
    noise : float
        Standard deviation of the Gaussian noise added to each coordinate (classification) or to each value
        (regression).
    train_fraction : float
        Share of the points used for training, in (0, 1).
    classes : int
        Arms of the spirals, blobs of the blobs (2..10); ignored by the two-class problems.
    seed : int
        The same seed gives the same points.

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray
        ``X`` float32 ``(n, 2)``, ``y`` int64 ``(n,)`` (classes) or float32 ``(n,)`` (values).
    """
    if name in REGRESSIONS:
        rng = np.random.default_rng(seed)
        X, y = REGRESSIONS[name][0](int(n_samples), rng, 1)
        y = y + rng.normal(0.0, float(noise), y.shape)
        return split(X.astype(np.float32), y.astype(np.float32), train_fraction, rng)
    if name not in DATASETS:
        known = sorted([*DATASETS, *REGRESSIONS])
        raise ValueError(f"Unknown data set {name!r}; expected one of {known} (or upload a CSV).")
    rng = np.random.default_rng(seed)
    make, _, fixed = DATASETS[name]
    X, y = make(int(n_samples), rng, fixed or int(classes))
    X = X + rng.normal(0.0, float(noise), X.shape)
    X_train, y_train, X_test, y_test = split(X.astype(np.float32), y.astype(np.int64), train_fraction, rng)
    return X_train, y_train, X_test, y_test


def _lines(text: str):
    """The lines of ``text`` one at a time (``io.StringIO`` would first copy the whole text)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end


def parse_csv(
    text: str, max_rows: int = 5000, target: str = "class"
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """:func:`read_csv`, its features standardised (mean 0, standard deviation 1 per column, see
    :func:`standardization`) so that every network setting behaves as on the built-in problems.

    Returns
    -------
    X : ndarray (n, 2) float32, y : ndarray (n,) int64 (classes) or float32 (values), names : list of str
    """
    X, y, names = read_csv(text, max_rows, target)
    scaling = standardization(X)
    X = (X - scaling["mean"]) / scaling["scale"]  # (n, 2) - (2,) -> (n, 2), feature by feature
    return X.astype(np.float32), y, names


def read_csv(
    text: str, max_rows: int = 5000, target: str = "class"
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read a CSV of two numeric feature columns and a target column (the last), with or without a header.

    With ``target="class"`` the labels may be any strings or numbers; they become class indices 0..k-1 in
    sorted order. With ``target="value"`` each label is a number, the value to predict (regression).

    Returns
    -------
    X : ndarray (n, 2) float64 as written, y : ndarray (n,) int64 class indices or float32 values,
    names : list of str, the class names (``target="class"``) or the target column's name (``"value"``)

    Raises
    ------
    ValueError
        With the line number and what was wrong: not 3 columns, a non-number, a NaN, too many rows, fewer
        than 2 classes.
    """
    rows = []
    for row in csv.reader(_lines(text)):  # line by line: a long file is refused once past the limit
        if row and any(c.strip() for c in row):
            rows.append(row)
            if len(rows) > max_rows + 1:  # a header and max_rows rows at most
                raise ValueError(
                    f"The CSV has more than {max_rows} rows; the playground takes at most {max_rows}."
                )
    if not rows:
        raise ValueError("The CSV is empty: expected rows of x1,x2,label.")

    def number(value: str) -> float | None:
        try:
            return float(value)
        except ValueError:
            return None

    start = 1 if len(rows[0]) >= 2 and (number(rows[0][0]) is None or number(rows[0][1]) is None) else 0
    data = rows[start:]
    if len(data) > max_rows:
        raise ValueError(f"The CSV has {len(data)} rows; the playground takes at most {max_rows}.")
    if len(data) < 4:
        raise ValueError(f"The CSV has {len(data)} data rows; need at least 4 (x1,x2,label per row).")
    features, labels = [], []
    for line, row in enumerate(data, start=start + 1):
        if len(row) != 3:
            raise ValueError(f"CSV line {line}: expected 3 columns (x1,x2,label), got {len(row)}: {row!r}.")
        x1, x2 = number(row[0]), number(row[1])
        if x1 is None or x2 is None:
            raise ValueError(f"CSV line {line}: the first two columns must be numbers, got {row[:2]!r}.")
        if not (np.isfinite(x1) and np.isfinite(x2)):
            raise ValueError(f"CSV line {line}: NaN or infinite feature value {row[:2]!r}; remove the row.")
        features.append((x1, x2))
        labels.append(row[2].strip())
    if target == "value":
        name = (rows[0][-1].strip() if start else "") or "y"  # the header's name for the target column
        return np.array(features, dtype=np.float64), _values(labels, start), [name]
    names = sorted(set(labels), key=lambda s: (number(s) is None, number(s) or 0.0, s))
    if len(names) < 2:
        raise ValueError(f"The CSV has a single label {names!r}; classification needs at least 2 classes.")
    if len(names) > 10:
        raise ValueError(
            f"The CSV has {len(names)} different labels; the playground takes at most 10 classes (for numbers "
            "to predict, choose 'numbers to predict' as the CSV's last column)."
        )
    index = {name: k for k, name in enumerate(names)}
    return np.array(features, dtype=np.float64), np.array([index[s] for s in labels], dtype=np.int64), names


def _values(labels: list[str], start: int) -> np.ndarray:
    """The target column as float32 numbers (regression), or a ``ValueError`` naming the first bad line."""
    values = []
    for line, text in enumerate(labels, start=start + 1):
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not np.isfinite(value) or abs(value) > 1e30:
            raise ValueError(
                f"CSV line {line}: the target {text!r} is not a finite number; a regression CSV has a number "
                "in its last column (choose 'class labels' for a classification CSV)."
            )
        values.append(value)
    return np.array(values, dtype=np.float32)


def standardization(X: np.ndarray) -> dict:
    r"""The mean :math:`\mu_j` and standard deviation :math:`\sigma_j` of each feature (1 for a constant one),
    as scikit-learn's ``StandardScaler`` and a model file's ``preprocessing["standardize"]`` hold them:
    :func:`parse_csv` gives the network :math:`(x_j - \mu_j) / \sigma_j`."""
    X = np.asarray(X, dtype=np.float64)
    std = X.std(axis=0)
    return {"mean": X.mean(axis=0).tolist(), "scale": np.where(std > 0, std, 1.0).tolist()}
