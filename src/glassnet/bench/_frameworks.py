"""The same MLP training and prediction in glassnet, scikit-learn and PyTorch, for the speed benchmark.

Every runner takes one :class:`MLPSpec` and float32 data and does the same work: the same layer sizes and
activation, the same optimizer, learning rate and batch size, the same number of epochs, float32 throughout.
Each framework is driven through its public training API (glassnet's ``Trainer``, scikit-learn's ``fit``, a
plain PyTorch loop), and imported only when its runner is first used, so that a memory measurement in a fresh
process only loads the framework it measures.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

FRAMEWORKS = ("glassnet", "torch", "sklearn")


@dataclass(frozen=True)
class MLPSpec:
    """One training task.

    ``batch_size=None`` is full-batch gradient descent; ``optimizer`` is ``"sgd"`` (plain, no momentum) or
    ``"adam"``; ``activation`` is ``"logistic"`` or ``"relu"`` (scikit-learn's names). ``n_jobs`` is
    glassnet's number of data-parallel processes (the other frameworks use threads instead).
    """

    sizes: tuple[int, ...]
    activation: str
    optimizer: str
    lr: float
    batch_size: int | None
    shuffle: bool = True
    seed: int = 0
    n_jobs: int = 1


def available(name: str) -> str | None:
    """``None`` if the framework can run here, otherwise a sentence saying why not and how to fix it."""
    if name == "torch":
        try:
            import torch  # noqa: F401
        except ImportError:
            return "PyTorch is not installed; `pip install torch==2.13.0` (or glassnet[bench]) to compare with it."
    if name == "sklearn":
        try:
            import sklearn  # noqa: F401
        except ImportError:
            return "scikit-learn is not installed; `pip install scikit-learn` to compare with it."
    return None


# --- glassnet ----------------------------------------------------------------------------------------------------


def glassnet_fit(spec: MLPSpec, X: np.ndarray, y: np.ndarray, epochs: int, callbacks=()):
    """Build and train a network with :class:`glassnet.training.Trainer`; returns the network."""
    from glassnet.network import build_mlp
    from glassnet.optim import SGD, Adam
    from glassnet.training import Trainer

    # scikit-learn's initialisation (Glorot-uniform; 'auto' gives its logistic variant), so that the accuracies
    # compare the training rather than two initialisations; build_mlp's own default for ReLU is He-uniform
    init = "auto" if spec.activation == "logistic" else "glorot_uniform"
    net = build_mlp(list(spec.sizes), activation=spec.activation, seed=spec.seed, init=init)
    opt = SGD(lr=spec.lr) if spec.optimizer == "sgd" else Adam(lr=spec.lr)
    trainer = Trainer(
        net,
        opt,
        batch_size=spec.batch_size,
        shuffle=spec.shuffle,
        seed=spec.seed,
        divergence_factor=None,
        n_jobs=spec.n_jobs,
        callbacks=callbacks,
    )
    trainer.fit(X, y, epochs)
    return net


def glassnet_estimator_fit(spec: MLPSpec, X: np.ndarray, y: np.ndarray, epochs: int):
    """The same training through ``glassnet.MLPClassifier`` (to show the estimator's overhead)."""
    from glassnet import MLPClassifier

    clf = MLPClassifier(**_sklearn_params(spec, len(X), epochs), n_jobs=spec.n_jobs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: we stop after exactly `epochs` on purpose
        clf.fit(X, y)
    return clf


def glassnet_predict(model, X: np.ndarray) -> np.ndarray:
    return model.predict(X)


# --- scikit-learn ------------------------------------------------------------------------------------------------


def _sklearn_params(spec: MLPSpec, n: int, epochs: int) -> dict:
    return dict(
        hidden_layer_sizes=tuple(spec.sizes[1:-1]),
        activation=spec.activation,
        solver=spec.optimizer,
        alpha=0.0,
        batch_size=n if spec.batch_size is None else spec.batch_size,
        learning_rate_init=spec.lr,
        momentum=0.0,
        nesterovs_momentum=False,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,  # never stop early: exactly `epochs` epochs
        shuffle=spec.shuffle,
        random_state=spec.seed,
    )


def sklearn_fit(spec: MLPSpec, X: np.ndarray, y: np.ndarray, epochs: int):
    """scikit-learn's ``MLPClassifier.fit`` with ``max_iter=epochs`` and early stopping off (float32 kept)."""
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(**_sklearn_params(spec, len(X), epochs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning
        clf.fit(X, y)
    return clf


sklearn_predict = glassnet_predict


# --- PyTorch -----------------------------------------------------------------------------------------------------


def torch_model(spec: MLPSpec):
    import torch

    torch.manual_seed(spec.seed)
    act = torch.nn.Sigmoid if spec.activation == "logistic" else torch.nn.ReLU
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(spec.sizes[:-1], spec.sizes[1:], strict=True)):
        layers.append(torch.nn.Linear(fan_in, fan_out))
        if i < len(spec.sizes) - 2:
            layers.append(act())
    return torch.nn.Sequential(*layers)


def torch_fit(spec: MLPSpec, X: np.ndarray, y: np.ndarray, epochs: int):
    """The usual PyTorch loop: a permutation per epoch, one gather per batch, zero_grad/backward/step."""
    import torch

    model = torch_model(spec)
    params = model.parameters()
    opt = (
        torch.optim.SGD(params, lr=spec.lr)
        if spec.optimizer == "sgd"
        else torch.optim.Adam(params, lr=spec.lr)
    )
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    n = len(X)
    batch = n if spec.batch_size is None else min(spec.batch_size, n)
    gen = torch.Generator().manual_seed(spec.seed)
    loss_fn = torch.nn.functional.cross_entropy
    model.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen) if spec.shuffle and batch < n else None
        for start in range(0, n, batch):
            if order is None and batch == n:
                xb, yb = Xt, yt
            else:
                idx = order[start : start + batch] if order is not None else slice(start, start + batch)
                xb, yb = Xt[idx], yt[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
    model.eval()
    return model


def torch_predict(model, X: np.ndarray) -> np.ndarray:
    import torch

    with torch.inference_mode():
        return model(torch.from_numpy(X)).argmax(dim=1).numpy()


def glassnet_one_process_fit(spec: MLPSpec, X: np.ndarray, y: np.ndarray, epochs: int):
    """glassnet without data parallelism: one process, its BLAS using all the threads."""
    return glassnet_fit(replace(spec, n_jobs=1), X, y, epochs)


FIT = {"glassnet": glassnet_fit, "torch": torch_fit, "sklearn": sklearn_fit}
PREDICT = {"glassnet": glassnet_predict, "torch": torch_predict, "sklearn": sklearn_predict}
#: the name of the one-process glassnet row, shown beside "glassnet" (n_jobs processes) when n_jobs > 1
ONE_PROCESS = "glassnet, 1 process"


def set_threads(n: int):
    """Limit every framework to ``n`` threads: BLAS/OpenMP pools through threadpoolctl, PyTorch's own pool.

    Returns the threadpoolctl limiter (keep a reference for the duration of the benchmark), or ``None`` when
    threadpoolctl is not installed.
    """
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:
        pass
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(n)
