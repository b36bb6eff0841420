r"""The lab, runnable: ``python -m glassnet.lab``.

"AI Programming, Lab 2: DNN" built a 64-80-70-10 network (sigmoid, sigmoid, softmax), trained it by full-batch
gradient descent for 5,000 epochs on scikit-learn's 8x8 digits, printed the loss every 500 epochs and scored
0.947 on a 20 % test split. This module does the same with glassnet's parts:

- ``Dense`` layers with ``W`` of shape (out, in), as in the lab;
- ``Sigmoid`` activations (stable, split by sign) and a fused softmax cross-entropy on the logits (a
  log-softmax, where the lab's ``log(a_3)`` could give ``-inf``);
- ``SGD`` on the full batch.

One deliberate difference: the lab *summed* the gradient over the 1,437 training images with step 0.01,
which equals a step of :math:`0.01 \times 1437 = 14.37` on glassnet's *mean* gradient. With scikit-learn's
Glorot initialisation that step saturates the sigmoid units and training sits at chance level (the lab's own
"silent divergence"); glassnet detects it and stops with an error (try ``--lr 14.37``). The default step is 1.0
on the mean gradient.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from glassnet.exceptions import TrainingDivergedError
from glassnet.nn.layers import Dense, Sigmoid
from glassnet.nn.losses import SoftmaxCrossEntropy
from glassnet.nn.network import Sequential
from glassnet.nn.optim import SGD
from glassnet.training import Trainer
from glassnet.training.callbacks import Callback

LAB_SIZES = (64, 80, 70, 10)
LAB_EPOCHS = 5000
LAB_LR = 1.0  # on the mean gradient; the lab's 0.01 on the summed gradient is 14.37 here and diverges


def lab_network(seed=0, dtype=np.float32) -> Sequential:
    """The lab's 64-80-70-10 network: Dense, Sigmoid, Dense, Sigmoid, Dense, softmax cross-entropy."""
    rng = np.random.default_rng(seed)
    d_in, h1, h2, d_out = LAB_SIZES
    layers = [
        Dense(d_in, h1, rng=rng, init="glorot_logistic", dtype=dtype),  # (N, 64) -> (N, 80)
        Sigmoid(),
        Dense(h1, h2, rng=rng, init="glorot_logistic", dtype=dtype),  # (N, 80) -> (N, 70)
        Sigmoid(),
        Dense(h2, d_out, rng=rng, init="glorot_logistic", dtype=dtype),  # (N, 70) -> (N, 10) logits
    ]
    return Sequential(layers, SoftmaxCrossEntropy(), dtype=dtype)


def load_lab_data(seed: int = 0, test_size: float = 0.2):
    """The digits scaled to [0, 1] (pixels are 0..16) and split 80/20, stratified."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=test_size, random_state=seed, stratify=y)


class PrintLoss(Callback):
    """Print the training loss every ``every`` epochs, as the lab did."""

    def __init__(self, every: int = 500, out=print) -> None:
        self.every, self.out = every, out

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        if (epoch + 1) % self.every == 0:
            self.out(f"Epoch: {epoch + 1:4d}, loss: {logs['loss']:10.8f}")


def run_lab(epochs: int = LAB_EPOCHS, lr: float = LAB_LR, seed: int = 0, print_every: int = 500, out=print):
    """Train the lab's network by full-batch gradient descent; returns ``(net, history, test_accuracy)``."""
    X_train, X_test, y_train, y_test = load_lab_data(seed)
    net = lab_network(seed)
    trainer = Trainer(net, SGD(lr=lr), batch_size=None, callbacks=[PrintLoss(print_every, out)])
    history = trainer.fit(X_train, y_train, epochs=epochs)
    accuracy = float(np.mean(net.predict(X_test) == y_test))
    return net, history, accuracy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m glassnet.lab", description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=LAB_EPOCHS, help=f"default {LAB_EPOCHS}")
    parser.add_argument(
        "--lr", type=float, default=LAB_LR, help=f"step on the mean gradient (default {LAB_LR})"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the split and the weights (default 0)")
    parser.add_argument("--print-every", type=int, default=500, help="default 500")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        net, history, accuracy = run_lab(args.epochs, args.lr, args.seed, args.print_every)
    except TrainingDivergedError as exc:
        print(f"glassnet.lab: {exc}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - start
    print(f"test accuracy: {accuracy:.4f} (the lab: 0.9472)  [{history.epochs} epochs in {seconds:.1f} s]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
