import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src"))
from glassnet.augment import random_shift
from glassnet.losses import SoftmaxCrossEntropy
from glassnet.network import build_mlp
from glassnet.optim import Adam
from glassnet.schedules import CosineLR


def train(
    X,
    y,
    hidden=(256, 256),
    epochs=100,
    bs=64,
    lr=1e-3,
    wd=0.0,
    dropout=0.0,
    ls=0.0,
    shift=0,
    shape=None,
    seed=0,
    warm=0.05,
    alpha=0.0,
    act="relu",
    bn=False,
    ema=None,
    Xv=None,
    yv=None,
    log=None,
    time_limit=None,
    every=1,
):
    rng = np.random.default_rng(seed)
    net = build_mlp(
        [X.shape[1], *hidden, 10],
        activation=act,
        loss=SoftmaxCrossEntropy(ls),
        dropout=dropout,
        seed=rng,
        batch_norm=bn,
    )
    opt = Adam(lr=lr, weight_decay=wd)
    n = len(X)
    nb = -(-n // bs)
    sched = CosineLR(lr, total_steps=epochs * nb, warmup_steps=int(warm * epochs * nb))
    X = X.astype(np.float32)
    avg = net.flat_params.copy() if ema else None
    t_start = time.perf_counter()
    for ep in range(epochs):
        net.train()
        order = rng.permutation(n)
        t0 = time.perf_counter()
        for s in range(0, n, bs):
            idx = order[s : s + bs]
            if len(idx) < 2:
                continue
            xb = X[idx]
            if shift:
                xb = random_shift(xb, shift, rng, shape)
            net.loss_and_grad(xb, y[idx], alpha=alpha, n_samples=n, check=False)
            opt.lr = sched.lr
            opt.step(net)
            sched.on_batch_end(len(idx))
            if ema:
                avg += (1 - ema) * (net.flat_params - avg)
        if log is not None and Xv is not None and (ep % every == every - 1 or ep == epochs - 1):
            net.eval()
            acc = float((net.predict(Xv) == yv).mean())
            log(
                f"ep {ep + 1} {time.perf_counter() - t0:.1f}s/ep total {time.perf_counter() - t_start:.0f}s val {acc:.4f}"
            )
        if time_limit and time.perf_counter() - t_start > time_limit:
            if log:
                log(f"time limit after epoch {ep + 1}")
            break
    if ema:
        net.flat_params[...] = avg
    net.eval()
    return net
