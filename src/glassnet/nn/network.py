r"""A stack of layers with a loss head, trained through one flat parameter vector.

Forward: :math:`z = f_L(\dots f_1(x))`; the loss turns the logits :math:`z` into predictions (its link) and a
number. Backward runs the layers in reverse, each turning :math:`\partial L/\partial y` into
:math:`\partial L/\partial x` and storing its parameter gradients.

All parameters live in one contiguous vector ``flat_params`` (and all gradients in ``flat_grads``); each
layer's ``W`` and ``b`` are views into it. Optimizers then update the whole network with a handful of vector
operations, and SciPy's L-BFGS sees the network as the flat vector it expects.

The network reads what it needs from the layers' and the loss's declarations (see :mod:`glassnet.nn.layers.base`
and :mod:`glassnet.nn.losses`): which parameters decay (``layer.decay``), the buffers to save
(``layer.buffers``), the input and output widths (``in_features``, ``out_features``), and how logits become
predictions (``loss.link``, ``loss.predict``, ``loss.log_proba``). It never asks for a class or a name.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from glassnet import fast
from glassnet.nn.initializers import as_generator
from glassnet.nn.layers import LAYERS, BatchNorm, Dense, Dropout, Layer, default_init, make_activation
from glassnet.nn.losses import LOSSES, Loss, SoftmaxCrossEntropy, get_loss

_DTYPES = {"float32": np.float32, "float64": np.float64}


def _as_dtype(dtype) -> type:
    name = np.dtype(dtype).name
    if name not in _DTYPES:
        raise ValueError(f"dtype must be float32 or float64; got {name}.")
    return _DTYPES[name]


def check_input(X, n_features: int | None, dtype) -> np.ndarray:
    """``X`` as a 2-D array of ``dtype``; raises unless it has ``n_features`` columns (any number for ``None``),
    at least one row, a real numeric dtype and finite values."""
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D input of shape (n_samples, n_features); got shape {X.shape}.")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"Expected input of shape (n_samples, {n_features}); got shape {X.shape}.")
    if X.shape[0] == 0:
        raise ValueError("Got an empty batch (0 samples).")
    if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
        raise TypeError(f"Expected a real numeric input; got dtype {X.dtype}.")
    X = X.astype(dtype, copy=False)
    # a sum is finite when every element is; only a non-finite sum (a NaN/inf, or an overflow) needs the
    # element-wise check, whose (N, D) boolean mask would cost as much memory as a quarter of X
    with np.errstate(over="ignore", invalid="ignore"):  # inf - inf or an overflow: checked just below
        finite_sum = np.isfinite(np.sum(X))
    if not finite_sum and not np.all(np.isfinite(X)):
        raise ValueError("Input contains NaN or infinite values; clean or impute them first.")
    return X


class Sequential:
    """Layers applied in order, followed by a loss.

    Parameters
    ----------
    layers : list of Layer
    loss : Loss or str, default SoftmaxCrossEntropy()
        The loss head; its link turns logits into ``predict_proba`` outputs.
    dtype : float32 (default) or float64
        The compute type of every parameter and activation. Inputs are cast to it at the network's boundary.

    Examples
    --------
    >>> from glassnet.nn.layers import Dense, Sigmoid
    >>> net = Sequential([Dense(4, 3, rng=0), Sigmoid(), Dense(3, 2, rng=1)])
    >>> sorted(net.parameters())
    ['layers.0.W', 'layers.0.b', 'layers.2.W', 'layers.2.b']
    >>> net.predict_proba(np.zeros((5, 4))).shape
    (5, 2)
    """

    def __init__(self, layers: list[Layer], loss: Loss | str | None = None, dtype=np.float32) -> None:
        if not layers or not all(isinstance(layer, Layer) for layer in layers):
            raise TypeError("Sequential needs a non-empty list of Layer instances.")
        self.layers = list(layers)
        self.loss = (
            SoftmaxCrossEntropy() if loss is None else get_loss(loss) if isinstance(loss, str) else loss
        )
        self.dtype = _as_dtype(dtype)
        self.training = False
        self._bind_flat_parameters(
            copy_grads=False
        )  # a new network's gradients are zero until a backward pass
        trainable = [i for i, layer in enumerate(self.layers) if layer.params]
        # layers before the first trainable one need no backward; that one needs no input gradient
        self._first_trainable = trainable[0] if trainable else len(self.layers)
        for i, layer in enumerate(self.layers):
            layer.input_grad = i > self._first_trainable
        # the width the first layer that declares one expects (None: any width)
        self.n_features_in = next((la.in_features for la in self.layers if la.in_features is not None), None)

    # --- parameters -------------------------------------------------------------------------------------------

    def _bind_flat_parameters(self, flat_params=None, flat_grads=None, copy_grads: bool = True) -> None:
        """Make every parameter (gradient) a view into one flat vector, copying the current values in.

        By default the vectors are new; :mod:`glassnet.training.parallel` passes vectors in shared memory instead. The
        parameter vector in use is not copied onto itself, and ``copy_grads=False`` leaves the gradient as is."""
        entries = [(i, k, layer.params[k]) for i, layer in enumerate(self.layers) for k in layer.params]
        sizes = [p.size for _, _, p in entries]
        n = sum(sizes)
        copy_params = flat_params is None or flat_params is not getattr(self, "flat_params", None)
        self.flat_params = np.empty(n, dtype=self.dtype) if flat_params is None else flat_params
        self.flat_grads = np.zeros(n, dtype=self.dtype) if flat_grads is None else flat_grads
        mask = self.__dict__.get("_weight_mask")  # kept when only storage moves, else built when first needed
        same = mask is not None and mask.shape == (n,) and mask.dtype == self.dtype
        self._weight_mask = mask if same else None
        self._decaying: list[tuple[int, int]] = []  # (offset, size) of each parameter that decays
        self._weights: list[tuple[np.ndarray, np.ndarray]] = []  # (W view, dW view) pairs that decay
        offset = 0
        for (i, k, p), size in zip(entries, sizes, strict=True):
            layer = self.layers[i]
            view = self.flat_params[offset : offset + size].reshape(p.shape)
            grad = self.flat_grads[offset : offset + size].reshape(p.shape)
            if copy_params:
                view[...] = p
            if copy_grads and k in layer.grads:
                grad[...] = layer.grads[k]
            layer.params[k], layer.grads[k] = view, grad
            if k in layer.decay:
                self._decaying.append((offset, size))
                self._weights.append((view, grad))
            offset += size

    @property
    def weight_mask(self) -> np.ndarray:
        """1 where a parameter decays (its layer declares it in ``decay``), else 0: the optimizers' L2 and weight
        decay apply where it is 1. Built when first needed, so a network loaded only to predict does not hold
        a third vector of its size."""
        if self._weight_mask is None:
            mask = np.zeros(self.flat_params.size, dtype=self.dtype)
            for offset, size in self._decaying:
                mask[offset : offset + size] = 1
            self._weight_mask = mask
        return self._weight_mask

    def _gradient_views(self, flat_grads: np.ndarray) -> tuple[list, list]:
        """Every gradient as a view into ``flat_grads`` (laid out as :attr:`flat_grads` is), and the (W, dW)
        pairs that decay, for :meth:`_use_gradients`."""
        views, weights, offset = [], [], 0
        for layer in self.layers:
            for k, p in layer.params.items():
                view = flat_grads[offset : offset + p.size].reshape(p.shape)
                views.append((layer.grads, k, view))
                if k in layer.decay:
                    weights.append((p, view))
                offset += p.size
        return views, weights

    def _use_gradients(self, flat_grads: np.ndarray, views: tuple[list, list]) -> None:
        """Write the gradients into ``flat_grads`` from now on, through ``views`` (:meth:`_gradient_views`):
        a few assignments, where :meth:`_bind_flat_parameters` builds every view anew."""
        self.flat_grads = flat_grads
        for grads, k, view in views[0]:
            grads[k] = view
        self._weights = views[1]

    def __setstate__(self, state: dict) -> None:
        """After unpickling (joblib, Dask) or ``copy.deepcopy``, make the parameters views into ``flat_params``
        again: pickle copies each view on its own, and an optimizer stepping ``flat_params`` would then leave
        the layers' weights as they were (a ``partial_fit`` in a Dask worker that learned nothing)."""
        # joblib may hand back read-only memory maps: the network must stay trainable, so copy those
        for name in ("flat_params", "flat_grads", "_weight_mask"):
            if state.get(name) is not None and not state[name].flags.writeable:
                state[name] = state[name].copy()
        self.__dict__.update(state)
        self._bind_flat_parameters(self.flat_params, self.flat_grads)

    def parameters(self) -> dict[str, np.ndarray]:
        """Parameters by dotted name (``layers.0.W``); the arrays are live views, not copies."""
        return {f"layers.{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params.items()}

    def gradients(self) -> dict[str, np.ndarray]:
        """Gradients by dotted name, views into ``flat_grads``."""
        return {f"layers.{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.grads.items()}

    def buffers(self) -> dict[str, np.ndarray]:
        """Non-trainable state by dotted name (batch norm's ``layers.1.running_mean``...), live arrays."""
        return {f"layers.{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.buffers.items()}

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter, and of every buffer (running statistics), by dotted name."""
        return {name: v.copy() for name, v in {**self.parameters(), **self.buffers()}.items()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Load parameters (and buffers) by dotted name; names and shapes must match exactly (dtype is cast)."""
        _load_state({**self.parameters(), **self.buffers()}, state)

    @property
    def n_params(self) -> int:
        return self.flat_params.size

    @property
    def n_outputs(self) -> int | None:
        """Width of the logits: ``out_features`` of the last layer that declares it (``None`` if none does)."""
        return next((la.out_features for la in reversed(self.layers) if la.out_features is not None), None)

    # --- modes -----------------------------------------------------------------------------------------------

    def train(self, mode: bool = True) -> Sequential:
        """Training mode (dropout active); returns self."""
        self.training = bool(mode)
        for layer in self.layers:
            layer.training = self.training
        return self

    def eval(self) -> Sequential:
        """Evaluation mode (dropout off); returns self."""
        return self.train(False)

    # --- forward / backward ----------------------------------------------------------------------------------

    def _check_input(self, X) -> np.ndarray:
        """``X`` validated (2-D, ``n_features_in`` wide, real, finite, not empty) and cast to the dtype."""
        return check_input(X, self.n_features_in, self.dtype)

    def forward(self, X) -> np.ndarray:
        """Logits of shape ``(N, n_outputs)``; the input is validated and cast to the network's dtype."""
        return self._forward(self._check_input(X))

    def _forward(self, X: np.ndarray) -> np.ndarray:
        out = X
        for layer in self.layers:
            out = layer.forward(out)  # (N, d_i) -> (N, d_{i+1})
        return out

    def backward(self, dz: np.ndarray) -> None:
        """Back-propagate ``dL/dz`` through every layer, writing each layer's gradients (``flat_grads``)."""
        grad = dz
        for layer in reversed(self.layers[self._first_trainable :]):
            grad = layer.backward(grad)

    def loss_and_grad(
        self,
        X,
        y,
        sample_weight=None,
        alpha: float = 0.0,
        n_samples: int | None = None,
        check: bool = True,
        share: float = 1.0,
    ) -> float:
        r"""Forward, loss, backward and L2 in one call; gradients land in ``flat_grads``.

        Returns :math:`L = \mathrm{loss}(z, y) + \frac{\alpha}{2n}\sum_l \|W_l\|^2` where :math:`n` is
        ``n_samples`` (the training-set size; defaults to this batch's size) and the sum runs over weight
        matrices only. ``check=False`` skips input validation (the trainer validates once per fit).
        ``share`` :math:`f` scales loss and gradient alike: rows that are the fraction :math:`f` of a batch (by
        count or sample weight) contribute :math:`f L`, so that the shares of a batch sum to its loss and
        gradient (:mod:`glassnet.training.parallel`).
        """
        X = self._check_input(X) if check else X
        z = self._forward(X)
        loss = self.loss.forward(z, y, sample_weight)
        dz = self.loss.backward()
        self.backward(dz if share == 1.0 else dz * self.dtype(share))
        if alpha:
            n = X.shape[0] if n_samples is None else n_samples
            loss += _l2_term(self._weights, alpha, n, self.dtype(share * alpha / n))
        return share * loss

    # --- prediction ------------------------------------------------------------------------------------------

    def predict_proba(self, X, batch_size: int = 4096) -> np.ndarray:
        """The loss's link applied to the logits (class probabilities, or values for regression)."""
        return self._decode(X, self.loss.link, batch_size)

    def predict(self, X, batch_size: int = 4096) -> np.ndarray:
        """The loss's predictions: class indices (softmax head), 0/1 indicators (sigmoid head) or values."""
        return self._decode(X, self.loss.predict, batch_size)

    def predict_log_proba(self, X, batch_size: int = 4096) -> np.ndarray:
        """Finite log-probabilities (a log-softmax or log-sigmoid of the logits); regression losses raise."""
        return self._decode(X, self.loss.log_proba, batch_size)

    def _decode(self, X, decode: Callable[[np.ndarray], np.ndarray], batch_size: int) -> np.ndarray:
        """``decode`` applied to the logits of ``X``, in evaluation mode (the mode is restored after) and in
        chunks of ``batch_size`` rows to bound memory."""
        X = self._check_input(X)
        was_training = self.training
        self.eval()
        try:
            chunks = [decode(self._forward(X[i : i + batch_size])) for i in range(0, len(X), batch_size)]
        finally:
            self.train(was_training)
        return np.concatenate(chunks) if len(chunks) > 1 else chunks[0]

    # --- configuration ---------------------------------------------------------------------------------------

    def get_config(self) -> dict:
        """A JSON-serialisable description that :meth:`from_config` turns back into the same architecture."""
        return _network_config(self)

    @classmethod
    def from_config(cls, config: dict, rng=None) -> Sequential:
        """Rebuild a network (weights zero; load them with :meth:`load_state_dict`).

        Each layer is rebuilt by its class's ``Layer.from_config``; layers that declare ``needs_rng`` get
        ``rng`` (a seed or a ``numpy.random.Generator``; ``None`` leaves them without one)."""
        return _network_from_config(cls, config, rng)

    def astype(self, dtype) -> Sequential:
        """A deep copy computing in another dtype (for example float64 for gradient checks)."""
        clone = copy.deepcopy(self)
        state = clone.state_dict()
        for layer in clone.layers:
            layer.params = {k: v.astype(dtype) for k, v in layer.params.items()}
            layer.grads = {k: v.astype(dtype) for k, v in layer.grads.items()}
        clone.dtype = _as_dtype(dtype)
        clone._bind_flat_parameters()
        clone.load_state_dict(state)
        return clone

    def __repr__(self) -> str:
        body = "\n".join(f"  ({i}) {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{body}\n  loss={self.loss!r}, dtype={np.dtype(self.dtype).name}\n)"


# --- (de)serialisation: the state dict and the configuration, for Sequential's methods of those names -----------


def _load_state(own: dict[str, np.ndarray], state: dict[str, np.ndarray]) -> None:
    """Copy ``state`` into the network's live arrays ``own`` (both by dotted name), casting to their dtype;
    raises unless the names and the shapes match exactly."""
    missing, unexpected = sorted(set(own) - set(state)), sorted(set(state) - set(own))
    if missing or unexpected:
        raise ValueError(f"State does not match the network: missing {missing}, unexpected {unexpected}.")
    for name, view in own.items():
        value = np.asarray(state[name])
        if value.shape != view.shape:
            raise ValueError(f"{name}: expected shape {view.shape}, got {value.shape}.")
        view[...] = value.astype(view.dtype, copy=False)  # buffers keep their own (float64) dtype


def _network_config(net: Sequential) -> dict:
    """``net.get_config()``: its dtype's name, its loss and its layers, each as its declared config."""
    return {
        "dtype": np.dtype(net.dtype).name,
        "loss": {"name": net.loss.name, **net.loss.get_config()},
        "layers": [{"type": type(layer).__name__, **layer.get_config()} for layer in net.layers],
    }


def _network_from_config(cls: type[Sequential], config: dict, rng) -> Sequential:
    """``cls.from_config(config, rng)``; a configuration missing an entry or of the wrong type raises
    ``ValueError``."""
    try:
        dtype = config.get("dtype", "float32")
        layers = [_layer_from_spec(spec, _as_dtype(dtype), rng) for spec in config["layers"]]
        return cls(layers, _loss_from_spec(config["loss"]), dtype=dtype)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"Invalid network configuration: {exc!r}") from exc


def _layer_from_spec(spec: dict, dtype, rng) -> Layer:
    """One layer from its entry in ``get_config()["layers"]`` (``{"type": ..., **layer.get_config()}``)."""
    spec = dict(spec)
    kind = spec.pop("type")
    if kind not in LAYERS:
        raise ValueError(f"unknown layer type {kind!r}; known: {sorted(LAYERS)}")
    return LAYERS[kind].from_config(spec, dtype=dtype, rng=rng)


def _loss_from_spec(spec: dict) -> Loss:
    """The loss from ``get_config()["loss"]`` (``{"name": ..., **loss.get_config()}``)."""
    spec = dict(spec)
    name = spec.pop("name")
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; known: {sorted(LOSSES)}")
    return LOSSES[name](**spec)


__all__ = ["Sequential", "build_mlp", "check_input"]


def build_mlp(
    layer_sizes: list[int],
    activation: str = "relu",
    loss: Loss | str = "softmax_cross_entropy",
    dropout=0.0,
    seed=None,
    dtype=np.float32,
    init: str = "auto",
    batch_norm: bool = False,
) -> Sequential:
    """A multilayer perceptron ``Dense [-> BatchNorm] -> activation [-> Dropout] -> ... -> Dense`` with a loss head.

    Parameters
    ----------
    layer_sizes : list of int
        ``[n_in, hidden_1, ..., n_out]``, e.g. the lab's ``[64, 80, 70, 10]``.
    activation : str
        Hidden activation: a name in :data:`glassnet.nn.layers.ACTIVATION_LAYERS` (``relu``, ``tanh``, ...).
    loss : Loss or str
        The loss head (see :mod:`glassnet.nn.losses`).
    dropout : float or sequence of float
        Dropout rate after each hidden layer (one rate for all, or one per hidden layer).
    seed : int, numpy.random.Generator or None
        Randomness for initial weights and dropout masks; the same seed gives bit-identical networks.
    init : str
        ``'auto'`` uses the initializer the activation declares (its ``init``: He-uniform for ReLU-like
        activations, scikit-learn's Glorot-uniform otherwise, with its factor 2 for logistic); or any name from
        :data:`glassnet.nn.initializers.INITIALIZERS`.
    batch_norm : bool
        Put a :class:`~glassnet.nn.layers.BatchNorm` between each hidden ``Dense`` and its activation.
    """

    sizes = [int(s) for s in layer_sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(
            f"layer_sizes needs at least an input and an output size, all >= 1; got {layer_sizes}."
        )
    declared_init = default_init(activation)  # validates the name early
    rates = _dropout_rates(dropout, len(sizes) - 2)
    init = declared_init if init == "auto" else init
    rng = as_generator(seed)
    layers: list[Layer] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        is_output = i == len(sizes) - 2
        # scikit-learn draws the output layer with the hidden activation's factor too
        layers.append(Dense(fan_in, fan_out, rng=rng, init=init, dtype=dtype))
        if not is_output:
            if batch_norm:
                layers.append(BatchNorm(fan_out, dtype=dtype))
            layers.append(make_activation(activation))
            if rates[i] > 0:
                layers.append(Dropout(rates[i], rng=rng))
    return Sequential(layers, loss, dtype=dtype)


def _dropout_rates(dropout, n_hidden: int) -> list[float]:
    """One dropout rate per hidden layer, from one rate for all or a sequence of them."""
    rates = [float(dropout)] * n_hidden if np.ndim(dropout) == 0 else [float(r) for r in dropout]
    if len(rates) != n_hidden:
        raise ValueError(f"Got {len(rates)} dropout rates for {n_hidden} hidden layers.")
    return rates


def _l2_term(weights, alpha: float, n: int, scale) -> float:
    r""":math:`\frac{\alpha}{2n}\sum_l \|W_l\|^2`, its gradient :math:`s W_l` added to each ``dW`` (``scale``
    :math:`s = f \alpha / n` for a share :math:`f` of the batch)."""
    squares = 0.0
    for W, dW in weights:
        sq = fast.add_scaled(dW, W, scale)  # both in one compiled pass, when it can
        if sq is None:
            dW += scale * W  # d/dW of alpha/(2n) ||W||^2
            sq = float(np.vdot(W, W))
        squares += sq
    return 0.5 * alpha / n * squares
