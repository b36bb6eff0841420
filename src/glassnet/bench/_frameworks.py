"""The same MLP training and prediction in glassnet, scikit-learn, PyTorch and JAX, for the speed benchmark.

Every runner takes one :class:`MLPSpec` and float32 data and does the same work: the same layer sizes and
activation, the same optimizer, learning rate and batch size, the same number of epochs, float32 throughout.
Each framework is driven through its public training API (glassnet's ``Trainer``, scikit-learn's ``fit``, a
plain PyTorch loop, JAX with the training step or the whole epoch compiled by XLA), and imported only when its
runner is first used, so that a memory measurement in a fresh process only loads the framework it measures.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from dataclasses import dataclass, replace

import numpy as np

FRAMEWORKS = ("glassnet", "torch", "jax", "sklearn")


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

    def config(self, n_rows: int, epochs: int):
        """The task in glassnet's shared vocabulary (:class:`glassnet.config.MLPConfig`, scikit-learn's names):
        what glassnet's Trainer, glassnet's and scikit-learn's estimators are built from. No L2, plain SGD
        (no momentum), exactly ``epochs`` epochs (no early stop)."""
        from glassnet.config import MLPConfig

        return MLPConfig(
            hidden_layer_sizes=tuple(self.sizes[1:-1]), activation=self.activation, solver=self.optimizer,
            alpha=0.0, batch_size=n_rows if self.batch_size is None else self.batch_size,
            learning_rate_init=self.lr, momentum=0.0, nesterovs_momentum=False, max_iter=epochs, tol=0.0,
            n_iter_no_change=epochs + 1, shuffle=self.shuffle, random_state=self.seed,
        )  # fmt: skip


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
    if name == "jax":
        try:
            import jax  # noqa: F401
        except ImportError:
            return "JAX is not installed; `pip install jax` (or glassnet[bench]) to compare with it."
    return None


# --- glassnet ----------------------------------------------------------------------------------------------------


def glassnet_network(spec: MLPSpec):
    """The untrained network of ``spec``, with scikit-learn's initialisation (Glorot-uniform; 'auto' gives its
    logistic variant), so that the accuracies compare the training rather than two initialisations (build_mlp's
    own default for ReLU is He-uniform). JAX starts from these very weights."""
    from glassnet.config.build import build_network, make_loss
    from glassnet.nn.initializers import as_generator

    config = spec.config(n_rows=1, epochs=1)  # the architecture; rows and epochs do not shape the network
    loss = make_loss(config, "multiclass")
    return build_network(config, spec.sizes[0], spec.sizes[-1], loss, np.float32, as_generator(spec.seed))


def glassnet_fit(spec: MLPSpec, X: np.ndarray, y: np.ndarray, epochs: int, callbacks=()):
    """Build and train a network with :class:`glassnet.training.Trainer`; returns the network."""
    from glassnet.config.build import make_optimizer
    from glassnet.training import Trainer

    net = glassnet_network(spec)
    trainer = Trainer(
        net,
        make_optimizer(spec.config(len(X), epochs)),
        batch_size=spec.batch_size,
        shuffle=spec.shuffle,
        seed=spec.seed,
        divergence_factor=None,
        n_jobs=spec.n_jobs,
        callbacks=callbacks,
    )
    trainer.fit(X, y, epochs)
    return net


def glassnet_numpy_fit(spec: MLPSpec, X: np.ndarray, y: np.ndarray, epochs: int):
    """glassnet on its NumPy reference path: the compiled kernels of :mod:`glassnet.fast` switched off (also in
    the data-parallel workers, which are forked after the switch)."""
    from glassnet import fast

    previous = fast.set_enabled(False)
    try:
        return glassnet_fit(spec, X, y, epochs)
    finally:
        fast.set_enabled(previous)


def glassnet_step_loop(fit, *args, **kwargs):
    """``fit(*args, **kwargs)`` with the compiled epoch (:func:`glassnet.fast.train_epoch`) switched off: the
    Trainer's loop in Python around each step, the per-step kernels on. Beside the default rows, it shows
    what running the whole epoch compiled gains."""
    from glassnet import fast

    previous = fast.set_epochs_enabled(False)
    try:
        return fit(*args, **kwargs)
    finally:
        fast.set_epochs_enabled(previous)


#: (shards, processes) of each fit of :func:`glassnet_default_estimator_fit`, as ``n_jobs=None`` chose them
PLANS: list[tuple[int, int]] = []


def glassnet_default_estimator_fit(spec: MLPSpec, X: np.ndarray, y: np.ndarray, epochs: int, **overrides):
    """``glassnet.MLPClassifier`` with its default ``n_jobs``: what a user who sets nothing gets.
    ``overrides`` replace estimator parameters (for example ``batch_size="auto"``). The shards and processes
    the fit chose (:mod:`glassnet.training.workplan`) are appended to :data:`PLANS`."""
    from glassnet import MLPClassifier
    from glassnet.training.callbacks import Callback

    class _Plan(Callback):
        def on_train_end(self, trainer, history):
            PLANS.append((trainer.shards, trainer.processes))

    clf = MLPClassifier(**{**_sklearn_params(spec, len(X), epochs), **overrides})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: we stop after exactly `epochs` on purpose
        clf.fit(X, y, callbacks=[_Plan()])
    return clf


def glassnet_predict(model, X: np.ndarray) -> np.ndarray:
    return model.predict(X)


# --- scikit-learn ------------------------------------------------------------------------------------------------


#: the MLPConfig fields a benchmark task sets, as scikit-learn's MLPClassifier (and glassnet's) takes them
_TASK_FIELDS = (
    "hidden_layer_sizes", "activation", "solver", "alpha", "batch_size", "learning_rate_init", "momentum",
    "nesterovs_momentum", "max_iter", "tol", "n_iter_no_change", "shuffle", "random_state",
)  # fmt: skip


def _sklearn_params(spec: MLPSpec, n: int, epochs: int) -> dict:
    config = spec.config(n, epochs)
    return {name: getattr(config, name) for name in _TASK_FIELDS}


def sklearn_fit(spec: MLPSpec, X: np.ndarray, y: np.ndarray, epochs: int, **overrides):
    """scikit-learn's ``MLPClassifier.fit`` with ``max_iter=epochs`` and early stopping off (float32 kept);
    ``overrides`` replace estimator parameters."""
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(**{**_sklearn_params(spec, len(X), epochs), **overrides})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning
        clf.fit(X, y)
    return clf


sklearn_predict = glassnet_predict


# --- PyTorch -----------------------------------------------------------------------------------------------------


#: the thread count of :func:`set_threads`, applied to PyTorch when it is first used
_THREADS: int | None = None


def torch_model(spec: MLPSpec):
    import torch

    if _THREADS is not None and torch.get_num_threads() != _THREADS:
        torch.set_num_threads(_THREADS)
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


# --- JAX ---------------------------------------------------------------------------------------------------------


def _jax_update(optimizer: str, lr: float):
    """The optimizer's step, ``update(state, grads) -> state``, for :func:`_jax_programs`: plain SGD on
    ``state = (params,)``, or Adam on ``state = (params, m, v, t)``, as ``torch.optim.Adam`` and
    scikit-learn do it."""
    import jax
    import jax.numpy as jnp

    b1, b2, eps = 0.9, 0.999, 1e-8

    def update(state, g):
        if optimizer == "sgd":
            (params,) = state
            return (jax.tree_util.tree_map(lambda p, d: p - lr * d, params, g),)
        params, m, v, t = state  # Adam, as torch.optim.Adam and scikit-learn
        t = t + 1
        m = jax.tree_util.tree_map(lambda m, d: b1 * m + (1 - b1) * d, m, g)
        v = jax.tree_util.tree_map(lambda v, d: b2 * v + (1 - b2) * d * d, v, g)
        c1, c2 = 1 - b1**t, 1 - b2**t
        params = jax.tree_util.tree_map(
            lambda p, m, v: p - lr * (m / c1) / (jnp.sqrt(v / c2) + eps), params, m, v
        )
        return params, m, v, t

    return update


@functools.cache
def _jax_programs(sizes: tuple[int, ...], activation: str, optimizer: str, lr: float):
    """The jitted programs for one architecture: one training step, one whole epoch (``lax.scan`` over the
    steps), and the logits. Cached, so that XLA compiles each once per shape (the warm-up pays for it)."""
    import jax
    import jax.numpy as jnp

    act = jax.nn.sigmoid if activation == "logistic" else jax.nn.relu

    def logits(params, x):
        for i, (W, b) in enumerate(params):
            x = x @ W + b  # W stored (in, out), as scikit-learn's coefs_
            if i < len(params) - 1:
                x = act(x)
        return x

    def loss(params, x, y):
        logp = jax.nn.log_softmax(logits(params, x))
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    grad = jax.grad(loss)
    update = _jax_update(optimizer, lr)

    def step(state, X, y, idx):
        xb, yb = X[idx], y[idx]  # the gather is inside the compiled program, as PyTorch's is one op
        return update(state, grad(state[0], xb, yb))

    def epoch(state, X, y, order, batch):
        n = order.shape[0]
        full = n // batch
        steps = order[: full * batch].reshape(full, batch)
        state, _ = jax.lax.scan(lambda s, idx: (step(s, X, y, idx), None), state, steps)
        if full * batch < n:  # the last, shorter batch
            state = step(state, X, y, order[full * batch :])
        return state

    return (
        jax.jit(step, donate_argnums=0),
        jax.jit(epoch, static_argnums=4, donate_argnums=0),
        jax.jit(logits),
    )


def _jax_init(spec: MLPSpec, optimizer: str):
    """glassnet's initial weights for ``spec`` (:func:`glassnet_network`), and zero optimizer state, as device
    arrays: JAX and glassnet start from the same point."""
    import jax.numpy as jnp

    from glassnet.nn.layers import Dense

    dense = [layer for layer in glassnet_network(spec).layers if isinstance(layer, Dense)]
    params = tuple((jnp.asarray(np.ascontiguousarray(d.W.T)), jnp.asarray(d.b.copy())) for d in dense)
    if optimizer == "sgd":
        return (params,)
    m = tuple((jnp.zeros_like(W), jnp.zeros_like(b)) for W, b in params)
    v = tuple((jnp.zeros_like(W), jnp.zeros_like(b)) for W, b in params)
    return params, m, v, jnp.float32(0.0)


def _jax_fit(spec: MLPSpec, X: np.ndarray, y: np.ndarray, epochs: int, whole_epoch: bool):
    import jax
    import jax.numpy as jnp

    step, epoch, logits = _jax_programs(spec.sizes, spec.activation, spec.optimizer, float(spec.lr))
    state = _jax_init(spec, spec.optimizer)
    Xd, yd = jnp.asarray(X), jnp.asarray(y.astype(np.int32))
    n = len(X)
    batch = n if spec.batch_size is None else min(spec.batch_size, n)
    rng = np.random.default_rng(spec.seed)
    for _ in range(epochs):
        order = rng.permutation(n).astype(np.int32) if spec.shuffle else np.arange(n, dtype=np.int32)
        if whole_epoch:
            state = epoch(state, Xd, yd, jnp.asarray(order), batch)
        else:
            for start in range(0, n, batch):
                state = step(state, Xd, yd, order[start : start + batch])
    jax.block_until_ready(state)
    return state[0], logits


def jax_fit(spec: MLPSpec, X: np.ndarray, y: np.ndarray, epochs: int):
    """JAX with each epoch one XLA program (``jax.jit`` of a ``lax.scan`` over the steps): its fastest CPU
    training. Returns ``(params, logits)``."""
    return _jax_fit(spec, X, y, epochs, whole_epoch=True)


def jax_step_fit(spec: MLPSpec, X: np.ndarray, y: np.ndarray, epochs: int):
    """JAX with one jitted training step called from a Python loop, as most JAX training code does."""
    return _jax_fit(spec, X, y, epochs, whole_epoch=False)


def jax_predict(model, X: np.ndarray) -> np.ndarray:
    params, logits = model
    return np.asarray(logits(params, X)).argmax(axis=1)


FIT = {"glassnet": glassnet_fit, "torch": torch_fit, "sklearn": sklearn_fit, "jax": jax_fit}
PREDICT = {
    "glassnet": glassnet_predict,
    "torch": torch_predict,
    "sklearn": sklearn_predict,
    "jax": jax_predict,
}
#: the name of the one-process glassnet row, shown beside "glassnet" (n_jobs processes) when n_jobs > 1
ONE_PROCESS = "glassnet, 1 process"
#: glassnet with the compiled kernels switched off (shown when numba is installed)
NUMPY_PATH = "glassnet, NumPy path"
#: glassnet and its MLPClassifier with the compiled epoch off (the loop around each step; shown with numba)
STEP_LOOP = "glassnet, per-step loop"
ESTIMATOR_STEP_LOOP = "glassnet.MLPClassifier, per-step loop"
#: JAX with one jitted step per batch, beside "jax" (one jitted program per epoch)
JAX_STEP = "jax, jit step"
#: glassnet.MLPClassifier with default n_jobs
ESTIMATOR = "glassnet.MLPClassifier"
#: (e)'s estimators on float64 arrays, as scikit-learn's loaders give them (issue 22's target 3): each library
#: with its default dtype for them (both train in float64)
ESTIMATOR_F64 = "glassnet.MLPClassifier, float64 input"
#: the same call with ``dtype='float32'``: float64 arrays trained in float32, as PyTorch and Keras do
ESTIMATOR_F64_AS32 = "glassnet.MLPClassifier(dtype='float32'), float64 input"
SKLEARN_F64 = "sklearn, float64 input"


def set_threads(n: int):
    """Limit every framework to ``n`` threads: BLAS/OpenMP pools through threadpoolctl, PyTorch's own pool.

    Returns the threadpoolctl limiter (keep a reference for the duration of the benchmark), or ``None`` when
    threadpoolctl is not installed. XLA (JAX) reads its thread count from ``XLA_FLAGS`` when JAX is first
    imported, so this must run before that: with ``n = 1`` XLA's intra-op thread pool is switched off (jax
    0.10 still ran its matrix products on a second core: only pinning the process, ``--pin``, bounds it).
    """
    if n == 1 and "jax" not in sys.modules:
        flags = os.environ.get("XLA_FLAGS", "")
        if "intra_op_parallelism_threads" not in flags:
            os.environ["XLA_FLAGS"] = (
                flags + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
            ).strip()
    global _THREADS
    _THREADS = n
    if "torch" in sys.modules:  # otherwise set when a PyTorch runner first runs (importing it takes seconds)
        sys.modules["torch"].set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(n)
