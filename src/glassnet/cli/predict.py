"""``glassnet predict MODEL INPUT...``: the label and the top-3 probabilities for pictures or rows."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import warnings
from pathlib import Path

import numpy as np

from glassnet.cli import _model
from glassnet.cli._common import CLIError, positive_int

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "predict",
        help="predict the class of pictures or of .npy/.csv rows",
        description="Print each input's predicted label and top-3 probabilities. Pictures (PNG, JPEG, ...) "
        "are converted to the model's input size and scaling; dark ink on light paper is inverted for models "
        "trained on light-on-dark images. .npy and .csv files hold rows in the data set's raw units (0..16 for "
        "digits, 0..255 for images), divided by the model's scale unless --scaled.",
    )
    p.add_argument("model", help="model file written by `glassnet train`")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="picture files, .npy or .csv files")
    p.add_argument(
        "--polarity", choices=("auto", "dark-on-light", "light-on-dark"), default="auto",
        help="the pictures' polarity (default auto: a light border means dark ink on light paper)",
    )  # fmt: skip
    p.add_argument(
        "--scaled", action="store_true", help=".npy/.csv rows are already scaled to the model's inputs"
    )
    p.add_argument(
        "--top", type=positive_int, default=3, help="how many classes to show, at least 1 (default 3)"
    )
    p.add_argument(
        "--show-input", action="store_true",
        help="print each input as the model sees it: for pictures, the grid of values in the data set's units "
        "(0..16 for the 8x8 digits), dark to light",
    )  # fmt: skip
    p.add_argument(
        "--save-input", metavar="FOLDER",
        help="also write each picture's input as the model sees it to FOLDER/<picture>-input.png, enlarged",
    )  # fmt: skip
    p.add_argument("--json", action="store_true", help="print JSON for machines")
    return p


def input_grid(row: np.ndarray, preprocessing: dict) -> str:
    """A model input row as text: for a picture its grid of values in the data set's units, else the values.

    >>> print(input_grid(np.array([0, 0.5, 1, 0.25]), {"image_shape": [2, 2], "scale": 16.0}))
     0  8
    16  4
    """
    scale = float(preprocessing.get("scale") or 1.0)
    shape = preprocessing.get("image_shape")
    values = np.asarray(row, dtype=np.float64) * scale
    if not shape or int(np.prod(shape[:2])) != values.size:
        return " ".join(f"{v:g}" for v in values)
    grid = values.reshape(int(shape[0]), int(shape[1]))
    whole = np.allclose(grid, np.round(grid))
    cells = [[f"{v:.0f}" if whole else f"{v:.2f}" for v in line] for line in grid]
    width = max(len(c) for line in cells for c in line)
    return "\n".join(" ".join(c.rjust(width) for c in line) for line in cells)


def _save_input(row: np.ndarray, preprocessing: dict, folder: Path, name: str) -> Path:
    """Write a picture input as a PNG, each input pixel 20 screen pixels, ink dark on white as in the report."""
    from PIL import Image

    from glassnet._files import write_atomic

    shape = preprocessing["image_shape"]
    grid = np.asarray(row, dtype=np.float64).reshape(int(shape[0]), int(shape[1]))
    if preprocessing.get("light_on_dark", True):
        grid = 1.0 - grid  # ink (high values) drawn dark
    image = Image.fromarray(np.round(np.clip(grid, 0, 1) * 255).astype(np.uint8))
    image = image.resize((20 * grid.shape[1], 20 * grid.shape[0]), resample=Image.Resampling.NEAREST)
    path = folder / f"{Path(name).stem}-input.png"
    return write_atomic(path, lambda f: image.save(f, format="PNG"))


def _read_npy(path: Path) -> np.ndarray:
    """Rows from a ``.npy`` file: one row (1-D) or several (2-D or more, each row flattened)."""
    from glassnet.files.model import describe_file_start

    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(b"PK\x03\x04"):
        raise CLIError(
            f"{path} is a .npz archive (several named arrays), not one .npy array; save the rows with "
            "numpy.save(path, rows), or rename it .npz if it is a model file"
        )
    if not head.startswith(b"\x93NUMPY"):
        looks = describe_file_start(head)
        raise CLIError(f"{path} is not a .npy array file" + (f" (it looks like {looks})" if looks else ""))
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise CLIError(f"{path} holds Python objects, not numbers; glassnet never unpickles") from None
        raise CLIError(f"cannot read {path}: {exc}") from None
    if array.dtype.kind not in "biuf":
        raise CLIError(f"{path}: expected numbers, got dtype {array.dtype}")
    if array.ndim == 0:
        raise CLIError(
            f"{path} holds a single number (a 0-d array); give one row of values (1-D) or rows (2-D)"
        )
    if array.size == 0:
        raise CLIError(f"{path} holds no values (shape {array.shape})")
    return array.reshape(1, -1) if array.ndim == 1 else array.reshape(len(array), -1)


def _read_csv(path: Path, n_features: int | None) -> np.ndarray:
    """Rows of numbers from a CSV file (an optional header line); errors name the line and column."""
    rows: list[tuple[int, list[str]]] = []
    with open(path, newline="") as f:
        reader = csv.reader(f)
        for record in reader:
            if record and any(v.strip() for v in record):
                rows.append((reader.line_num, record))
    if rows:
        try:
            float(rows[0][1][0])
        except ValueError:
            rows = rows[1:]  # a header
    if not rows:
        raise CLIError(f"{path} has no rows of numbers (the file is empty or holds only a header)")
    expected = n_features if n_features is not None else len(rows[0][1])
    values = []
    for line, record in rows:
        if len(record) != expected:
            where = "the model expects" if n_features is not None else "the first row has"
            raise CLIError(f"{path}: line {line} has {len(record)} values, {where} {expected}")
        row = []
        for column, text in enumerate(record, start=1):
            try:
                row.append(float(text))
            except ValueError:
                shown = text if len(text) <= 40 else text[:37] + "..."
                raise CLIError(
                    f"{path}: line {line}, column {column}: {shown!r} is not a number (no label column)"
                ) from None
        values.append(row)
    return np.array(values)


def _rows(path: Path, model, args) -> list[tuple[str, np.ndarray]]:
    from glassnet.data.images import image_to_row, load_image

    if not path.exists():
        raise FileNotFoundError(2, "No such file", str(path))
    suffix = path.suffix.lower()
    pre = model.preprocessing
    if suffix in IMAGE_SUFFIXES:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            grey = load_image(path)
        for warning in caught:  # one plain line each ("only the first frame is used"), not a traceback line
            print(f"glassnet: note: {warning.message}", file=sys.stderr)
        return [(str(path), image_to_row(grey, pre, polarity=args.polarity))]
    if suffix == ".npy":
        array = _read_npy(path)
    elif suffix == ".csv":
        array = _read_csv(path, model.network.n_features_in)
    else:
        raise CLIError(
            f"{path}: unsupported input {suffix!r}; give pictures (PNG, JPEG, ...), .npy or .csv files"
        )
    if not args.scaled:
        array = array / float(pre.get("scale") or 1.0)
    if len(array) == 1:
        return [(str(path), array[0])]
    return [(f"{path}[{i}]", row) for i, row in enumerate(array)]


def run(args) -> int:
    swapped = any(Path(item).suffix.lower() == ".npz" for item in args.inputs)
    hint = "; did you swap the model and the inputs?" if swapped else ""
    model = _model.load(args.model, "MODEL, the first argument of `glassnet predict MODEL INPUT...`", hint)
    n_in = model.network.n_features_in
    if not model.classes:
        raise CLIError(f"{args.model} is not a classifier (it has no classes)")
    named = []
    for item in args.inputs:
        named.extend(_rows(Path(item), model, args))
    for name, row in named:
        if n_in is not None and row.size != n_in:
            raise CLIError(f"{name} has {row.size} values but the model expects {n_in}")
    pictures = [(name, row) for name, row in named if Path(name).suffix.lower() in IMAGE_SUFFIXES]
    if args.save_input:
        if not pictures:
            raise CLIError("--save-input writes pictures' inputs, and no INPUT is a picture", code=2)
        folder = Path(args.save_input)
        folder.mkdir(parents=True, exist_ok=True)
        for name, row in pictures:
            print(
                f"input of {name} as the model sees it: {_save_input(row, model.preprocessing, folder, name)}"
            )
    X = np.stack([row for _, row in named]).astype(np.float32)
    proba = _model.class_probabilities(model, X, args.model)
    k = max(1, min(args.top, proba.shape[1]))
    results = []
    for (name, row), p in zip(named, proba, strict=True):
        order = np.argsort(-p, kind="stable")[:k]
        top = [
            {"label": model.classes[i], "name": model.class_names[i], "probability": float(p[i])}
            for i in order
        ]
        results.append({"input": name, "label": top[0]["label"], "name": top[0]["name"], "top": top})
        if args.show_input:
            results[-1]["model_input"] = [float(v) for v in row]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for (_, row), r in zip(named, results, strict=True):
        others = ", ".join(f"{t['name']} {t['probability']:.3f}" for t in r["top"])
        print(f"{r['input']}: {r['name']}   ({others})")
        if args.show_input:
            print(input_grid(row, model.preprocessing))
    return 0
