import gzip
import json
import os
import sys
import time

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
OUT = os.environ.get("OUT", "/tmp/sweep_out")
kind, name, cfg = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
from common import train  # noqa: E402 (after the sys.path line)

logf = open(os.path.join(OUT, f"{kind}_{name}.log"), "w")


def log(msg):
    logf.write(msg + "\n")
    logf.flush()


log(json.dumps(cfg))
if kind == "digits":
    d = np.load(os.path.join(here, "digits.npz"))
    X = d["X"] / 16.0
    y = d["y"]
    masks = d["test_masks"]
    n_seeds = cfg.pop("n_seeds", 3)
    accs = np.zeros((n_seeds, 10))
    ens = np.zeros(10)
    t0 = time.time()
    for f in range(10):
        te = masks[f]
        tr = ~te
        P = 0
        for s in range(n_seeds):
            if "est" in cfg:
                sys.path.insert(0, os.path.join(here, "..", "..", "src"))
                import warnings

                from glassnet.estimators import MLPClassifier

                warnings.simplefilter("ignore")
                net = MLPClassifier(**cfg["est"], random_state=1000 * f + s).fit(X[tr], y[tr])
            else:
                net = train(X[tr], y[tr], seed=1000 * f + s, shape=(8, 8), **cfg)
            p = net.predict_proba(X[te])
            P = P + p
            accs[s, f] = (p.argmax(1) == y[te]).mean()
        ens[f] = (P.argmax(1) == y[te]).mean()
        log(f"fold {f} single {accs[:, f].round(4).tolist()} ens {ens[f]:.4f} t={time.time() - t0:.0f}s")
    log(
        f"RESULT single {accs.mean():.4f} +- {accs.mean(0).std():.4f} | ens{n_seeds} {ens[: f + 1].mean():.4f} +- {ens[: f + 1].std():.4f}"
    )
else:

    def rd(p, off):
        with gzip.open(os.path.join(here, p)) as fh:
            return np.frombuffer(fh.read(), np.uint8, offset=off)

    X = rd("train-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) / 255
    y = rd("train-labels-idx1-ubyte.gz", 8).astype(np.int64)
    perm = np.random.default_rng(0).permutation(60000)
    va, tr = perm[:10000], perm[10000:]
    t0 = time.time()
    net = train(X[tr], y[tr], shape=(28, 28), Xv=X[va], yv=y[va], log=log, **cfg)
    log(f"RESULT val {(net.predict(X[va]) == y[va]).mean():.4f} time {time.time() - t0:.0f}s")
