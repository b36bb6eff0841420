"""The "draw a digit" view: train glassnet's digits recipe or the lab's network on the 8x8 digits (or load a
model file written by ``glassnet train``), then classify what the user draws.

Both recipes train through :class:`glassnet.training.Trainer`; :func:`build_recipe` makes what it fits and
:func:`recipe_script` writes the same calls as the page's "Copy as Python" (a test runs it and compares).

A drawing arrives as grey levels of the page's canvas; :func:`glassnet.data.images.image_to_row` crops it to
the ink, pads it to a square and scales it into the 8x8 frame as the data set's digits were made (the same
function ``glassnet predict`` uses on pictures), so the page can show the 8x8 input the network really sees.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time

import numpy as np

from glassnet.nn.trace import hidden_activations
from glassnet.training.callbacks import Callback

__all__ = ["DigitsLab", "RECIPES", "build_recipe", "recipe_script"]

#: recipe -> (description, default epochs, largest epochs a request may ask); the first is the page's default
RECIPES = {
    "recommended": ("glassnet's digits recipe: 64-256-256-10 ReLU, Adam 3e-3 with cosine decay, batch 64, "
                    "label smoothing 0.1", 20, 100),
    "lab": ("the lab's 64-80-70-10 sigmoid network, full-batch gradient descent (lr 1.0)", 3000, 5000),
}  # fmt: skip
DIGITS_PREPROCESSING = {"image_shape": [8, 8], "light_on_dark": True, "fit": "bbox", "box": 8, "scale": 16.0}
MAX_CANVAS = 512  # pixels per side of a drawing


def build_recipe(recipe: str, epochs: int, n_train: int, callbacks=()):
    """The network and the :class:`~glassnet.training.Trainer` of a recipe for ``epochs`` epochs on
    ``n_train`` rows (the same calls as :func:`recipe_script`)."""
    from glassnet.training import Trainer

    if recipe == "lab":
        from glassnet.lab import LAB_LR, lab_network
        from glassnet.nn.optim import SGD

        net = lab_network(0)
        return net, Trainer(net, SGD(lr=LAB_LR), batch_size=None, seed=0, n_jobs=1, callbacks=callbacks)
    from glassnet.nn.losses import SoftmaxCrossEntropy
    from glassnet.nn.network import build_mlp
    from glassnet.nn.optim import Adam
    from glassnet.nn.schedules import CosineLR

    net = build_mlp(
        [64, 256, 256, 10], activation="relu", seed=0, loss=SoftmaxCrossEntropy(label_smoothing=0.1)
    )
    schedule = CosineLR(3e-3, total_steps=epochs * len(range(0, n_train, 64)))
    trainer = Trainer(
        net, Adam(lr=3e-3), schedule=schedule, batch_size=64, seed=0, n_jobs=1, callbacks=callbacks
    )
    return net, trainer


def recipe_script(recipe: str, epochs: int) -> str:
    """A glassnet script that trains the recipe as the page does and ends with the same weights."""
    if recipe == "lab":
        imports = ["from glassnet.lab import LAB_LR, lab_network", "from glassnet.optim import SGD"]
        body = [
            "net = lab_network(0)  # 64-80-70-10, sigmoid units",
            "trainer = Trainer(net, SGD(lr=LAB_LR), batch_size=None, seed=0, n_jobs=1)  # full-batch descent",
        ]
    else:
        imports = [
            "from glassnet.losses import SoftmaxCrossEntropy",
            "from glassnet.network import build_mlp",
            "from glassnet.optim import Adam",
            "from glassnet.schedules import CosineLR",
        ]
        body = [
            'net = build_mlp([64, 256, 256, 10], activation="relu", seed=0,',
            "                loss=SoftmaxCrossEntropy(label_smoothing=0.1))",
            f"schedule = CosineLR(3e-3, total_steps={epochs} * len(range(0, len(data.X_train), 64)))",
            "trainer = Trainer(net, Adam(lr=3e-3), schedule=schedule, batch_size=64, seed=0, n_jobs=1)",
        ]
    lines = [
        f'"""The playground\'s draw-a-digit network: {RECIPES[recipe][0]}, {epochs} epochs."""',
        "",
        "import numpy as np",
        "",
        "from glassnet.data.datasets import load_digits",
        *imports,
        "from glassnet.training import Trainer",
        "",
        "data = load_digits(test_size=0.2, seed=0)  # 8x8 images as rows of 64 grey levels",
        *body,
        f"trainer.fit(data.X_train, data.y_train, epochs={epochs})",
        "net.eval()",
        'print(f"test accuracy: {np.mean(net.predict(data.X_test) == data.y_test):.3f}")',
    ]
    return "\n".join(lines) + "\n"


class _Progress(Callback):
    """The digits lab's callback on its Trainer: each epoch's progress and loss for the page; ends the fit
    (after the current epoch) once the lab asks it to stop."""

    def __init__(self, lab: DigitsLab, epochs: int, stop: threading.Event) -> None:
        self.lab, self.epochs, self.stop = lab, epochs, stop

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        with self.lab.lock:
            self.lab.progress = (epoch + 1) / self.epochs
            self.lab.losses.append(float(logs["loss"]))
        if self.stop.is_set():
            trainer.stop_training = True


class DigitsLab:
    """One digits model per server, trained in a background thread; its state is polled by the page."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.state, self.message, self.progress = "empty", "Train a network or load a model file.", 0.0
        self.net, self.preprocessing, self.class_names, self.test_accuracy = None, None, None, None
        self.recipe, self.epochs, self._stop, self._thread = None, 0, threading.Event(), None
        self.losses: list[float] = []  # the training loss of each epoch of the current (or last) fit

    # --- training --------------------------------------------------------------------------------------

    def train(self, recipe: str, epochs: int | None = None) -> None:
        if recipe not in RECIPES:
            raise ValueError(f"Unknown recipe {recipe!r}; expected one of {', '.join(RECIPES)}.")
        _, default, most = RECIPES[recipe]
        epochs = default if epochs is None else int(epochs)
        if not 1 <= epochs <= most:
            raise ValueError(f"epochs must be in [1, {most}] for the {recipe} recipe; got {epochs}.")
        self.close()
        self._stop = threading.Event()
        with self.lock:
            self.state, self.progress, self.recipe, self.losses = "training", 0.0, recipe, []
            self.epochs = epochs
            self.message = f"Training {RECIPES[recipe][0]} for {epochs} epochs..."
        self._thread = threading.Thread(target=self._train, args=(recipe, epochs, self._stop), daemon=True)
        self._thread.start()

    def _train(self, recipe: str, epochs: int, stop: threading.Event) -> None:
        """The fit thread: the recipe's network trained by :class:`glassnet.training.Trainer`, whose callback
        (:class:`_Progress`) reports each epoch to the page and ends the fit when the lab is closed."""
        try:
            from glassnet.data.datasets import load_digits

            data = load_digits(test_size=0.2, seed=0)
            X, y = data.X_train, data.y_train
            net, trainer = build_recipe(recipe, epochs, len(X), [_Progress(self, epochs, stop)])
            start = time.perf_counter()
            trainer.fit(X, y, epochs=epochs)
            if stop.is_set():
                return
            net.eval()
            accuracy = float(np.mean(net.predict(data.X_test) == data.y_test))
            with self.lock:
                self.net, self.preprocessing = net, dict(DIGITS_PREPROCESSING)
                self.class_names, self.test_accuracy = [str(k) for k in range(10)], accuracy
                self.state = "ready"
                self.message = (
                    f"Trained {RECIPES[recipe][0]}: {epochs} epochs in {time.perf_counter() - start:.1f} s, "
                    f"test accuracy {accuracy:.3f}. Draw a digit."
                )
        except Exception as exc:  # shown on the page; the server keeps running
            with self.lock:
                self.state, self.message = "error", f"Training failed: {type(exc).__name__}: {exc}"

    def load(self, content: bytes) -> None:
        """A model file written by ``glassnet train`` (or the playground's download) on 8x8 digit images."""
        from glassnet.files.model import ModelFileError, load_model

        handle, name = tempfile.mkstemp(suffix=".npz")
        try:
            with os.fdopen(handle, "wb") as f:
                f.write(content)
            try:
                model = load_model(name)
            except (ModelFileError, OSError, ValueError) as exc:
                raise ValueError(f"Cannot load this model file: {exc}") from None
        finally:
            os.unlink(name)
        pre = model.preprocessing or {}
        if list(pre.get("image_shape") or []) != [8, 8]:
            raise ValueError(
                "This model was not trained on 8x8 images (its preprocessing has no 8x8 image shape); "
                "train one with `glassnet train --dataset digits`."
            )
        self.close()
        with self.lock:
            self.net, self.preprocessing = model.network, dict(pre)
            self.class_names = [str(c) for c in (model.class_names or model.classes or range(10))]
            self.test_accuracy, self.recipe, self.state = None, "file", "ready"
            self.message = f"Loaded a model file ({len(self.class_names)} classes). Draw a digit."

    def model_bytes(self) -> bytes:
        """The digits network as a glassnet model file, with the 8x8 preprocessing ``glassnet predict`` uses."""
        from glassnet.files.model import save_model

        with self.lock:
            net, pre, names, recipe = self.net, self.preprocessing, self.class_names, self.recipe
        if net is None:
            raise ValueError("No digits model yet: train one or load a model file first.")
        handle, name = tempfile.mkstemp(suffix=".npz")
        os.close(handle)
        try:
            save_model(name, net, classes=list(range(len(names))), class_names=names, preprocessing=pre,
                       info={"source": "glassnet playground, draw a digit", "recipe": recipe})  # fmt: skip
            with open(name, "rb") as f:
                return f.read()
        finally:
            os.unlink(name)

    def python(self) -> str:
        """The script of the last training (:func:`recipe_script`)."""
        with self.lock:
            recipe, epochs = self.recipe, self.epochs
        if recipe is None:
            raise ValueError("No digits model yet: train one first; the script repeats its training.")
        if recipe == "file":
            raise ValueError("This digits model was loaded from a file: no training here to write as Python.")
        return recipe_script(recipe, epochs)

    def status(self) -> dict:
        with self.lock:
            return {"state": self.state, "message": self.message, "progress": self.progress,
                    "recipe": self.recipe, "test_accuracy": self.test_accuracy,
                    "losses": self.losses[:: max(1, len(self.losses) // 300)],  # at most ~300 points to draw
                    "recipes": {k: {"description": v[0], "epochs": v[1], "max_epochs": v[2]} for k, v in RECIPES.items()}}  # fmt: skip

    # --- prediction ------------------------------------------------------------------------------------

    def predict(self, pixels, width: int, height: int) -> dict:
        """Classify a drawing: ``pixels`` are ``height * width`` ink levels in [0, 1] (1 = ink), row by row."""
        from glassnet.data.images import image_to_row

        with self.lock:
            net, pre, names = self.net, self.preprocessing, self.class_names
        if net is None:
            raise ValueError("No digits model yet: train one or load a model file first.")
        if not (
            isinstance(width, int)
            and isinstance(height, int)
            and 8 <= width <= MAX_CANVAS
            and 8 <= height <= MAX_CANVAS
        ):
            raise ValueError(
                f"The drawing must be 8..{MAX_CANVAS} pixels on each side; got {width}x{height}."
            )
        ink = np.asarray(pixels, dtype=np.float64)
        if ink.size != width * height or not np.all(np.isfinite(ink)):
            raise ValueError(f"Expected {width * height} finite ink levels; got {ink.size}.")
        ink = np.clip(ink.reshape(height, width), 0.0, 1.0)
        if ink.max() <= 0.05:
            raise ValueError("The canvas is empty: draw a digit first.")
        row = image_to_row(ink, pre, polarity="light-on-dark")[None, :]
        proba = net.predict_proba(row)[0]
        hidden = hidden_activations(net, row)
        return {
            "image": np.round(row[0].astype(np.float64), 4).tolist(),
            "proba": [float(p) for p in proba],
            "label": names[int(np.argmax(proba))],
            "class_names": names,
            "hidden": [np.round(h[0].astype(np.float64), 4).tolist() for h in hidden],
        }

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # --- HTTP ------------------------------------------------------------------------------------------

    def handle(self, handler, method: str, parts: list[str]) -> None:
        """``/api/digits/...``: ``train`` (POST), ``status`` (GET), ``predict`` (POST), ``load`` (POST file)."""
        try:
            if method == "GET" and parts == ["status"]:
                return handler._json(200, self.status())
            if method == "GET" and parts == ["model"]:
                return handler._send(200, self.model_bytes(), "application/octet-stream",
                                     {"Content-Disposition": 'attachment; filename="digits-model.npz"'})  # fmt: skip
            if method == "GET" and parts == ["python"]:
                return handler._send(200, self.python().encode(), "text/x-python; charset=utf-8")
            if method == "POST" and parts == ["train"]:
                body = handler._json_body()
                self.train(str(body.get("recipe", next(iter(RECIPES)))), body.get("epochs"))
                return handler._json(200, self.status())
            if method == "POST" and parts == ["predict"]:
                body = handler._json_body()
                return handler._json(
                    200, self.predict(body.get("pixels", []), body.get("width"), body.get("height"))
                )
            if method == "POST" and parts == ["load"]:
                self.load(handler._body())
                return handler._json(200, self.status())
        except (ValueError, TypeError) as exc:
            return handler._error(400, str(exc))
        return handler._error(404, f"Unknown API call {method} /api/digits/{'/'.join(parts)}.")
