"""The layer protocol shared by every layer, and the declarations the rest of glassnet reads.

A layer says what it is through class attributes; :class:`~glassnet.nn.network.Sequential`,
:mod:`glassnet.training.parallel` and :mod:`glassnet.nn.gradcheck` read these declarations and never look at a layer's class
name or parameter names:

=====================  ========================================================================================
declaration            meaning
=====================  ========================================================================================
``params``             trainable arrays by name (a dict set in ``__init__``); ``grads`` has the same keys
``decay``              names of the ``params`` that L2 and weight decay apply to (``Dense``: ``("W",)``)
``buffers``            non-trainable state saved with the weights (batch norm's running statistics)
``needs_rng``          the layer draws random numbers from its ``rng`` attribute, which the network sets
``uses_batch_stats``   the output of a row depends on the other rows of its batch (batch normalisation)
``in_features``        width of the input's last axis, or ``None`` for a layer of any width
``out_features``       width of the output's last axis, or ``None`` when it equals the input's
``identity_in_eval``   the layer computes the identity in evaluation mode (``Dropout``), so export leaves it out
=====================  ========================================================================================

Activation layers declare more (their name, formula, initializer, ONNX lowering and scikit-learn name): see
:class:`glassnet.nn.layers.activations.ActivationLayer`. Every layer class is known by its class name in
:data:`LAYERS`, which ``Sequential.from_config`` and model files read; :func:`register_layer` adds one.
"""

from __future__ import annotations

import numpy as np

from glassnet.nn.initializers import as_generator


class Layer:
    """Base class: a layer maps ``x`` to ``y`` in ``forward`` and ``dL/dy`` to ``dL/dx`` in ``backward``.

    Attributes
    ----------
    params : dict[str, ndarray]
        Trainable arrays by name (``{"W": ..., "b": ...}``); empty for parameter-free layers. A ``Sequential``
        replaces them by views into its flat parameter vector, so layers always read ``self.params[name]``.
    grads : dict[str, ndarray]
        Gradients of the loss with respect to ``params``, same keys and shapes, written by ``backward``.
    buffers : dict[str, ndarray]
        Non-trainable state (empty by default), saved by ``Sequential.state_dict`` as ``layers.<i>.<name>``.
    training : bool
        Training mode (dropout active) or evaluation mode; set by ``Sequential.train()`` / ``.eval()``.
    input_grad : bool
        Whether ``backward`` must return ``dL/dx``. A ``Sequential`` switches it off for its first trainable
        layer, whose input is the data and needs no gradient.
    decay : tuple of str
        Class-level: the names in ``params`` that L2 and weight decay penalise (none by default).
    needs_rng : bool
        Class-level: the layer has an ``rng`` attribute (a ``numpy.random.Generator`` or ``None``) that
        :meth:`from_config`, :mod:`glassnet.training.parallel` and :mod:`glassnet.nn.gradcheck` may set.
    uses_batch_stats : bool
        Class-level: a row's output depends on the other rows of the batch, so the batch cannot be split
        across processes.
    in_features, out_features : int or None
        Widths of the input and output's last axis where the layer fixes them (``None`` by default).
    identity_in_eval : bool
        Class-level: in evaluation mode the layer returns its input unchanged (dropout), so an exported model
        leaves it out.
    """

    decay: tuple[str, ...] = ()
    needs_rng: bool = False
    uses_batch_stats: bool = False
    in_features: int | None = None
    out_features: int | None = None
    identity_in_eval: bool = False

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.training = False
        self.input_grad = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        raise NotImplementedError

    def get_config(self) -> dict:
        """Constructor arguments that rebuild this layer (weights excluded); JSON-serialisable."""
        return {}

    @classmethod
    def from_config(cls, config: dict, *, dtype=np.float32, rng=None) -> Layer:
        """A new layer from :meth:`get_config`'s dict, for a network computing in ``dtype``.

        The weights are placeholders (a network loads its own); a layer that ``needs_rng`` gets ``rng`` (an
        ``int`` seed, a ``numpy.random.Generator`` or ``None``).
        """
        layer = cls(**config)
        if layer.needs_rng:
            layer.rng = None if rng is None else as_generator(rng)
        return layer

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def _saved(self, name: str, dy: np.ndarray):
        """The array that ``forward`` cached as ``self.<name>``, once ``dy`` is checked against it.

        The preamble of every ``backward``: it refuses a backward that does not follow a matching forward
        (that would give wrong gradients). ``dy`` must have the cached array's shape, with the last axis
        ``out_features`` wide where the layer declares it (``Dense`` caches its input). A scalar cache
        (dropout's factor 1 in evaluation mode) fits any ``dy``.
        """
        cached = getattr(self, name, None)
        if cached is None or getattr(cached, "ndim", 0) == 0:  # (getattr, not np.ndim: every step calls this)
            shape = np.shape(dy)
        else:
            shape = cached.shape if self.out_features is None else cached.shape[:-1] + (self.out_features,)
        self._check_backward(dy, cached, shape)
        return cached

    def _check_backward(self, dy: np.ndarray, cached, out_shape) -> None:
        """Raise unless ``cached`` exists (a forward ran) and ``dy`` has the shape ``out_shape`` it produced."""
        if cached is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward() called before forward(): run forward on the batch first."
            )
        if np.shape(dy) != out_shape:
            raise ValueError(
                f"{type(self).__name__}.backward() got a gradient of shape {np.shape(dy)}, but the last "
                f"forward() produced shape {out_shape}; backward must follow the forward of the same batch."
            )


#: layer type name -> class, used to rebuild a network from its configuration (``Sequential.from_config``)
LAYERS: dict[str, type[Layer]] = {}


def register_layer(cls: type[Layer]) -> type[Layer]:
    """Class decorator that makes a new layer type known to ``Sequential.from_config`` (by its class name)."""
    if not isinstance(cls, type) or not issubclass(cls, Layer):
        raise TypeError(f"register_layer expects a subclass of glassnet.nn.layers.Layer; got {cls!r}.")
    LAYERS[cls.__name__] = cls
    return cls
