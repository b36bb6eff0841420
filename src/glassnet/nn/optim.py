r"""Optimizers: each one updates a flat parameter vector in place from its flat gradient.

===========  ======================================================================================
``SGD``      :math:`v \leftarrow \mu v - \eta g`; :math:`\theta \leftarrow \theta + v`
             (Nesterov: :math:`\theta \leftarrow \theta + \mu v - \eta g`); :math:`\mu = 0`: plain GD
``Adam``     :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`, :math:`v \leftarrow \beta_2 v + (1-\beta_2) g^2`,
             :math:`\theta \leftarrow \theta - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)` with the bias
             corrections :math:`\hat m = m / (1-\beta_1^t)`, :math:`\hat v = v / (1-\beta_2^t)`
``AdamW``    Adam plus decoupled weight decay :math:`\theta \leftarrow \theta (1 - \eta \lambda)` on weights
===========  ======================================================================================

The SGD form is scikit-learn's (velocity holds the learning rate); for a constant rate it takes the same steps
as PyTorch's ``SGD``. Weight decay, when set, only touches weights (``mask`` is 1 for weights, 0 for biases).

Each optimizer declares its ``name``, and :func:`register_optimizer` makes it known by it in
:data:`OPTIMIZERS`, which the estimators' ``solver``, ``glassnet train --solver`` and the playground read. The
estimators build it with the settings its constructor names (``lr`` from ``learning_rate_init``, ``momentum``,
``beta_1``, ... : :func:`glassnet.config.build.make_optimizer`). A new optimizer is one class:

>>> @register_optimizer
... class SignSGD(Optimizer):
...     # theta <- theta - lr sign(g): every weight moves by the same step
...
...     name, state_names = "signsgd", ()
...
...     def __init__(self, lr: float = 1e-3, weight_decay: float = 0.0) -> None:
...         super().__init__(lr, weight_decay)
...
...     def _update(self, params, grads):
...         params -= self.lr * np.sign(grads)
>>> theta = np.array([1.0, -2.0])
>>> get_optimizer("signsgd", lr=0.5).update(theta, np.array([3.0, -0.1]))
>>> theta
array([ 0.5, -1.5])
>>> unregister_optimizer("signsgd")  # forget it again
"""

from __future__ import annotations

import math

import numpy as np

from glassnet import fast


def _check_positive(name: str, value, allow_zero: bool = False) -> float:
    ok = isinstance(value, (int, float, np.floating)) and not isinstance(value, bool) and np.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        bound = "[0, inf)" if allow_zero else "(0, inf)"
        raise ValueError(f"{name} must be a float in the range {bound}; got {value!r}.")
    return float(value)


def _check_unit(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a float in the range [0, 1); got {value!r}.")
    return float(value)


class Optimizer:
    """Base class. ``lr`` is read at every step, so a learning-rate schedule may change it between steps.

    ``name`` is the optimizer's name in :data:`OPTIMIZERS` (the estimators' ``solver``), ``formula`` its update
    rule in plain text (for menus). ``state_names`` lists the attributes holding state shaped like the parameters (momentum, moments): an
    optimizer that declares them updates element-wise and can run on slices of the parameter vector in
    several processes (:mod:`glassnet.training.parallel`). ``None``: unknown, no data parallelism.
    """

    name: str | None = None
    formula: str = ""
    state_names: tuple[str, ...] | None = None

    def __init__(self, lr: float, weight_decay: float = 0.0) -> None:
        self.lr = _check_positive("lr", lr)
        self.weight_decay = _check_positive("weight_decay", weight_decay, allow_zero=True)
        self.t = 0  # number of steps taken

    def step(self, net) -> None:
        """Update a :class:`~glassnet.nn.network.Sequential` from the gradients in ``net.flat_grads``."""
        self.update(net.flat_params, net.flat_grads, net.weight_mask)

    def update(self, params: np.ndarray, grads: np.ndarray, mask: np.ndarray | None = None) -> None:
        """Update the 1-D array ``params`` in place from ``grads`` (same shape)."""
        self.t += 1
        if self.weight_decay:
            decay = self.lr * self.weight_decay
            params -= decay * params if mask is None else decay * mask * params  # decoupled decay
        self._update(params, grads)

    def _update(self, params: np.ndarray, grads: np.ndarray) -> None:
        raise NotImplementedError

    def _buffer(self, name: str, like: np.ndarray) -> np.ndarray:
        """A state array created on first use (zeros shaped like the parameters)."""
        buf = self.__dict__.get(name)
        if buf is None or buf.shape != like.shape or buf.dtype != like.dtype:
            buf = np.zeros_like(like)
            setattr(self, name, buf)
        return buf

    def __repr__(self) -> str:
        keys = [k for k in vars(self) if not k.startswith("_") and k != "t"]
        return f"{type(self).__name__}({', '.join(f'{k}={getattr(self, k)!r}' for k in keys)})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, in scikit-learn's form."""

    name = "sgd"
    formula = "v ← μ v − η g;  θ ← θ + v   (μ = 0: θ ← θ − η g)"

    @property
    def state_names(self) -> tuple[str, ...]:
        return ("_velocity",) if self.momentum else ()  # plain gradient descent keeps no state

    def __init__(
        self, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0
    ) -> None:
        super().__init__(lr, weight_decay)
        self.momentum = _check_unit("momentum", momentum)
        self.nesterov = bool(nesterov)

    def _update(self, params: np.ndarray, grads: np.ndarray) -> None:
        velocity = self._buffer("_velocity", params) if self.momentum else None
        if fast.sgd_update(params, grads, velocity, self.lr, self.momentum, self.nesterov):
            return  # the same arithmetic in one compiled pass (glassnet.fast); the NumPy reference follows
        # every product lands in a scratch buffer kept between steps: a temporary as large as the network
        # would be allocated, faulted in and freed at every step (an eighth of a wide network's step)
        step = self._buffer("_tmp", params)
        np.multiply(grads, self.lr, out=step)  # lr g (a Python float keeps the parameters' dtype)
        if self.momentum == 0.0:
            params -= step
            return
        v = self._buffer("_velocity", params)
        v *= self.momentum
        v -= step  # v = mu v - lr g
        if self.nesterov:
            params -= step
            np.multiply(v, self.momentum, out=step)
            params += step  # theta + mu v - lr g
        else:
            params += v


class Adam(Optimizer):
    """Adam (Kingma & Ba, Algorithm 1) with bias correction; ``weight_decay`` > 0 makes it AdamW."""

    name = "adam"
    formula = "m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − η m̂ / (√v̂ + ε)"
    state_names = ("_m", "_v")

    def __init__(
        self,
        lr: float = 1e-3,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(lr, weight_decay)
        self.beta_1, self.beta_2 = _check_unit("beta_1", beta_1), _check_unit("beta_2", beta_2)
        self.epsilon = _check_positive("epsilon", epsilon)

    def _update(self, params: np.ndarray, grads: np.ndarray) -> None:
        # The moments are kept divided by (1 - beta): M = m / (1 - b1), V = v / (1 - b2). Their updates
        # M = b1 M + g and V = b2 V + g^2 then need no scaling of g (two passes fewer), and the constant
        # factors move into the scalars below. Scalars are Python floats: a NumPy float64 scalar would make
        # NumPy compute in float64.
        b1, b2, t = self.beta_1, self.beta_2, self.t
        c = math.sqrt((1.0 - b2) / (1.0 - b2**t))
        scale = self.lr * (1.0 - b1) / ((1.0 - b1**t) * c)
        M, V = self._buffer("_m", params), self._buffer("_v", params)
        if fast.adam_update(params, grads, M, V, b1, b2, self.epsilon / c, scale):
            return  # the same arithmetic in one compiled pass (glassnet.fast); the NumPy reference follows
        tmp = self._buffer("_tmp", params)
        M *= b1
        M += grads  # M = b1 M + g, i.e. m = b1 m + (1 - b1) g
        V *= b2
        np.multiply(grads, grads, out=tmp)
        V += tmp  # V = b2 V + g^2, i.e. v = b2 v + (1 - b2) g^2
        # theta -= lr * m_hat / (sqrt(v_hat) + eps), m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t); with
        # c = sqrt((1 - b2) / (1 - b2^t)), sqrt(v_hat) = c sqrt(V), so the step is
        # (lr (1 - b1) / ((1 - b1^t) c)) * M / (sqrt(V) + eps / c)
        np.sqrt(V, out=tmp)
        tmp += self.epsilon / c
        np.divide(M, tmp, out=tmp)
        tmp *= scale
        params -= tmp


def adam_reference_step(theta, g, m, v, t: int, lr: float, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
    r"""One step of Adam exactly as the module docstring (and Kingma & Ba's Algorithm 1) writes it, line by
    line; returns the new ``(theta, m, v)``. :class:`Adam` computes the same with fewer passes over memory
    (its moments kept divided by :math:`1 - \beta`); ``tests/nn/test_optim.py`` checks that the two agree.
    """
    m = beta_1 * m + (1 - beta_1) * g  # first moment
    v = beta_2 * v + (1 - beta_2) * g**2  # second moment
    m_hat = m / (1 - beta_1**t)  # bias corrections
    v_hat = v / (1 - beta_2**t)
    theta = theta - lr * m_hat / (np.sqrt(v_hat) + epsilon)
    return theta, m, v


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter); the default decay is 0.01 as in PyTorch."""

    name = "adamw"
    formula = "θ ← θ(1 − ηλ) on weights, then the Adam step"

    def __init__(
        self,
        lr: float = 1e-3,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(lr, beta_1, beta_2, epsilon, weight_decay)


# --- the registry ---------------------------------------------------------------------------------------------

#: optimizer name (and alias) -> class: what ``get_optimizer``, the estimators' ``solver``, ``glassnet train``
#: and the playground look up
OPTIMIZERS: dict[str, type[Optimizer]] = {}


def register_optimizer(cls: type[Optimizer], *aliases: str) -> type[Optimizer]:
    """Make an optimizer class known by its ``name`` (and any ``aliases``, all lower case); usable as a class
    decorator. The class must subclass :class:`Optimizer` and declare a ``name``."""
    if not isinstance(cls, type) or not issubclass(cls, Optimizer):
        raise TypeError(f"register_optimizer expects a subclass of glassnet.nn.optim.Optimizer; got {cls!r}.")
    if not isinstance(cls.name, str) or not cls.name or cls.name != cls.name.lower():
        raise ValueError(f"{cls.__name__} must declare its name (a lower-case string); got {cls.name!r}.")
    for key in (cls.name, *aliases):
        OPTIMIZERS[key.lower()] = cls
    return cls


def unregister_optimizer(name: str) -> None:
    """Forget a registered optimizer, its name and its aliases."""
    cls = optimizer_class(name)
    for key in [key for key, value in OPTIMIZERS.items() if value is cls]:
        del OPTIMIZERS[key]


register_optimizer(SGD)
register_optimizer(Adam)
register_optimizer(AdamW)


def optimizer_class(name: str) -> type[Optimizer]:
    """The optimizer class registered under ``name``; unknown names raise a ``ValueError`` listing the valid ones."""
    if not isinstance(name, str) or name.lower() not in OPTIMIZERS:
        raise ValueError(f"Unknown optimizer {name!r}; expected one of {sorted(OPTIMIZERS)}.")
    return OPTIMIZERS[name.lower()]


def get_optimizer(name: str, **kwargs) -> Optimizer:
    """An optimizer by name (``sgd``, ``adam``, ``adamw`` or one registered); unknown names list the valid ones."""
    return optimizer_class(name)(**kwargs)
