"""One change to the Fashion-MNIST recipe, measured on the validation split: one network, scored on the 10,000
held-out training images with and without test-time mirroring (issue 24).

Run: python benchmarks/fashion_techniques.py NAME [JSON overrides of the recipe's settings], e.g.

    python benchmarks/fashion_techniques.py base '{"n_train": 12000}'          # a pilot: 12,000 images
    python benchmarks/fashion_techniques.py flip '{"n_train": 12000, "augment_flip": true}'
    python benchmarks/fashion_techniques.py ls '{"label_smoothing": 0.1}'      # all 50,000 images
    python benchmarks/fashion_techniques.py erase '{"n_train": 12000, "pilot": [["erase", 0.5]]}'

The split is glassnet bench accuracy_cv --validation's (permutation seed 0: 10,000 images held out, the other
50,000 for training); ``n_train`` keeps the first rows of the 50,000 (default all), ``seed`` seeds the network
(default 0). Everything else is a keyword of the recipe's MLPClassifier (one network: ``n_ensemble`` is 1).

``pilot`` adds techniques the library does not have, to rank them before one becomes a parameter; none of
them paid (benchmarks/RESULTS.md, "Accuracy, issue 24"), so they live only here:

- ``["erase", p]``: random erasing (Zhong et al., 2017): with probability ``p`` a rectangle of 2-25 % of the
  image, of aspect ratio 0.3-3.3, is set to 0;
- ``["pixel_dropout", p]``: dropout on the 784 inputs, each pixel zeroed with probability ``p`` and the rest
  scaled by ``1 / (1 - p)`` (the estimators' ``dropout`` acts on hidden layers only);
- ``["mixup", a]``: mixup (Zhang et al., 2018): each batch is mixed with a shuffled copy of itself,
  ``x = l x_i + (1 - l) x_j`` and the one-hot targets alike, ``l ~ Beta(a, a)``, the mixed targets going
  through the softmax cross-entropy as probabilities.

They are added by wrapping ``glassnet.config.build.make_augment`` (erasing, pixel dropout) and
``glassnet.training.data.Dataset.batch`` (mixup, which changes the targets too) in this process only.
Printed (and appended to ``fashion_techniques.jsonl``): the accuracy, the accuracy of the mean probabilities of
each image and its mirror, CPU and wall seconds of training (one BLAS thread). The validation probabilities,
of the images and of their mirrors, go to ``fashion_techniques-NAME.npy`` (shape (2, 10000, 10)), so that
networks can be averaged afterwards: ``sum(np.load(f)[0] for f in files).argmax(1)``.
"""

import json
import sys
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

import glassnet.config.build as build
from glassnet.data import load_dataset
from glassnet.recipes import make_estimator
from glassnet.training import data as training_data
from glassnet.training.augment import Compose


def mirror(X: np.ndarray) -> np.ndarray:
    """Each 28x28 row image mirrored left to right."""
    return X.reshape(-1, 28, 28)[:, :, ::-1].reshape(-1, 784)


def erase(p: float):
    def step(X, rng):
        n = X.shape[0]
        area = rng.uniform(0.02, 0.25, n) * 784  # pixels of each rectangle
        ratio = np.exp(rng.uniform(np.log(0.3), np.log(3.3), n))  # height / width
        h = np.clip(np.round(np.sqrt(area * ratio)), 1, 28).astype(int)
        w = np.clip(np.round(np.sqrt(area / ratio)), 1, 28).astype(int)
        top, left = (rng.random(n) * (29 - h)).astype(int), (rng.random(n) * (29 - w)).astype(int)
        on = rng.random(n) < p
        axis = np.arange(28)
        rows = (axis >= top[:, None]) & (axis < (top + h)[:, None])  # (N, 28)
        cols = (axis >= left[:, None]) & (axis < (left + w)[:, None])  # (N, 28)
        mask = rows[:, :, None] & cols[:, None, :] & on[:, None, None]  # (N, 28, 28)
        return np.where(mask, 0, X.reshape(n, 28, 28)).reshape(n, 784).astype(X.dtype)

    return step


def pixel_dropout(p: float):
    def step(X, rng):
        keep = rng.random(X.shape) >= p
        return (X * keep / (1.0 - p)).astype(X.dtype)

    return step


def use_mixup(a: float, n_classes: int = 10):
    """Every training batch mixed with a shuffled copy of itself (needs an augmentation, so that the loop
    gathers its batches in Python rather than in the compiled epoch)."""
    plain = training_data.Dataset.batch

    def batch(self, rows, dtype, augment=None, rng=None):
        Xb, yb, wb = plain(self, rows, dtype, augment, rng)
        if augment is None or yb.ndim != 1:
            return Xb, yb, wb  # the validation rows, or targets already soft
        mix = rng.beta(a, a)
        order = rng.permutation(len(yb))
        Y = np.eye(n_classes, dtype=dtype)[yb]  # (N, K) one-hot
        return (mix * Xb + (1 - mix) * Xb[order]).astype(dtype), (mix * Y + (1 - mix) * Y[order]), wb

    training_data.Dataset.batch = batch
    return lambda X, rng: X  # the augmentation that keeps the loop in Python


def flip_classes(p: float, classes):
    """Each training image of a class in ``classes`` mirrored left to right with probability ``p`` (the
    others never: Fashion-MNIST's shoes all point one way)."""
    plain = training_data.Dataset.batch
    mirrorable = np.asarray(classes)

    def batch(self, rows, dtype, augment=None, rng=None):
        Xb, yb, wb = plain(self, rows, dtype, augment, rng)
        if augment is None or yb.ndim != 1:
            return Xb, yb, wb  # the validation rows
        flip = np.isin(yb, mirrorable) & (rng.random(len(yb)) < p)
        Xb = Xb.copy() if not Xb.flags.writeable or Xb.base is not None else Xb
        Xb[flip] = mirror(Xb[flip])
        return Xb, yb, wb

    training_data.Dataset.batch = batch
    return lambda X, rng: X  # the augmentation that keeps the loop in Python


PILOTS = {"erase": erase, "pixel_dropout": pixel_dropout, "mixup": use_mixup, "flip_classes": flip_classes}


def add_pilots(pilots) -> None:
    steps = [PILOTS[name](*args) for name, *args in pilots]
    recipe_augment = build.make_augment

    def make_augment(config):
        first = recipe_augment(config)
        return Compose(([first] if first is not None else []) + steps)

    build.make_augment = make_augment


def main(name: str, overrides: dict) -> dict:
    n_train, seed = overrides.pop("n_train", 50_000), overrides.pop("seed", 0)
    pilots = overrides.pop("pilot", [])
    standardize = overrides.pop("standardize", False)
    add_pilots(pilots)
    data = load_dataset("fashion-mnist")
    X, y = data.X_train.astype(np.float32), data.y_train
    order = np.random.default_rng(0).permutation(len(y))  # accuracy_cv's validation split
    X_val, y_val = X[order[:10_000]], y[order[:10_000]]
    X, y = X[order[10_000:]][:n_train], y[order[10_000:]][:n_train]
    if standardize:  # each pixel to mean 0, standard deviation 1 on the training rows
        mean, std = X.mean(0), X.std(0) + 0.05
        X, X_val = (X - mean) / std, (X_val - mean) / std
        global mirror
        plain_mirror = mirror
        mirror = lambda Z: (plain_mirror(Z * std + mean) - mean) / std  # noqa: E731
    model = make_estimator("fashion-mnist", random_state=seed, n_jobs=1, n_ensemble=1, **overrides)
    with threadpool_limits(1, user_api="blas"):
        cpu, wall = time.process_time(), time.perf_counter()
        model.fit(X, y)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        proba = model.predict_proba(X_val)
        mirrored = model.predict_proba(mirror(X_val))
    np.save(f"fashion_techniques-{name}.npy", np.stack([proba, mirrored]).astype(np.float32))
    both = proba + mirrored
    classes = model.classes_
    return {
        "name": name, "n_train": len(y), "seed": seed, "overrides": overrides, "pilot": pilots,
        "accuracy": float(np.mean(classes[proba.argmax(1)] == y_val)),
        "accuracy_mirror_tta": float(np.mean(classes[both.argmax(1)] == y_val)),
        "train_cpu_seconds": round(cpu, 1), "train_wall_seconds": round(wall, 1),
    }  # fmt: skip


if __name__ == "__main__":
    warnings.simplefilter("ignore")  # ConvergenceWarning: the recipe runs a fixed number of epochs
    result = main(sys.argv[1], json.loads(sys.argv[2]) if len(sys.argv) > 2 else {})
    print(json.dumps(result))
    with open("fashion_techniques.jsonl", "a") as out:
        out.write(json.dumps(result) + "\n")
