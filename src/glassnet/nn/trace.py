r"""One training step, recorded layer by layer: the chain rule with the engine's own numbers.

:func:`trace_step` runs exactly what a training step runs (``net.loss_and_grad`` and then
``optimizer.step(net)``) while recording, for every layer, what its ``forward`` received and returned and what
its ``backward`` received (:math:`\partial L/\partial \mathrm{out}`) and returned
(:math:`\partial L/\partial x`), plus every parameter before and after the update and its gradient. Nothing is
recomputed on the side: each layer's own ``forward`` and ``backward`` are wrapped for the duration of the call,
so the trace is the step.

:func:`hidden_activations` gives the output of each hidden layer's activation for some inputs, in evaluation
mode (what scikit-learn declined to expose, its issue #9468).

Examples
--------
>>> import numpy as np
>>> from glassnet.nn.network import build_mlp
>>> from glassnet.nn.optim import SGD
>>> net = build_mlp([2, 3, 2], activation="tanh", seed=0)
>>> X, y = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([0, 1])
>>> trace = trace_step(net, X, y, SGD(lr=0.1))
>>> [(t.kind, t.output.shape) for t in trace.layers]
[('Dense', (2, 3)), ('Tanh', (2, 3)), ('Dense', (2, 2))]
>>> trace.layers[0].grads["W"].shape
(3, 2)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from glassnet.nn.layers import ActivationLayer, Dense, Layer

__all__ = ["LayerTrace", "StepTrace", "trace_step", "hidden_activations"]


@dataclass
class LayerTrace:
    r"""What one layer did in one step.

    Attributes
    ----------
    index : int
        Position in ``net.layers``; parameters are named ``layers.{index}.W`` and so on.
    kind : str
        The layer's class name (``Dense``, ``ReLU``, ``Dropout``, ...).
    input, output : ndarray
        What ``forward`` received (``x``) and returned (``z`` for a ``Dense`` layer, ``a`` for an activation).
    grad_output : ndarray or None
        :math:`\partial L/\partial \mathrm{out}`, what ``backward`` received (``None``: no backward ran, the
        layer comes before the first trainable one).
    grad_input : ndarray or None
        :math:`\partial L/\partial x`, what ``backward`` returned (``None`` for the first trainable layer,
        whose input is the data).
    params_before, params_after : dict of ndarray
        The layer's parameters before and after the optimizer's update (equal when no optimizer was given).
    grads : dict of ndarray
        The gradients the optimizer used, including the L2 term on weights.
    """

    index: int
    kind: str
    input: np.ndarray
    output: np.ndarray
    grad_output: np.ndarray | None = None
    grad_input: np.ndarray | None = None
    params_before: dict[str, np.ndarray] = field(default_factory=dict)
    params_after: dict[str, np.ndarray] = field(default_factory=dict)
    grads: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The dotted prefix of the layer's parameters, ``layers.{index}``."""
        return f"layers.{self.index}"


@dataclass
class StepTrace:
    r"""One step: every layer's :class:`LayerTrace`, the loss and its gradient with respect to the logits.

    Attributes
    ----------
    layers : list of LayerTrace
        In forward order.
    loss : float
        What ``net.loss_and_grad`` returned: the data loss plus the L2 penalty.
    data_loss : float
        The loss head's value alone (``net.loss.forward``).
    penalty : float
        ``loss - data_loss``: :math:`\frac{\alpha}{2n}\sum_l \|W_l\|^2`.
    logits : ndarray
        The network's output ``z`` before the loss's link.
    grad_logits : ndarray
        :math:`\partial L/\partial z`, what the loss's ``backward`` returned.
    lr : float or None
        The optimizer's learning rate for this step (``None`` without optimizer).
    """

    layers: list[LayerTrace]
    loss: float
    data_loss: float
    penalty: float
    logits: np.ndarray
    grad_logits: np.ndarray
    lr: float | None = None


def _record(layer: Layer, entry: dict) -> None:
    """Wrap one layer's forward and backward (as instance attributes) to copy what passes through."""
    forward, backward = layer.forward, layer.backward

    def recording_forward(x, *args, **kwargs):
        out = forward(x, *args, **kwargs)
        entry["input"], entry["output"] = np.array(x, copy=True), np.array(out, copy=True)
        return out

    def recording_backward(dy, *args, **kwargs):
        dx = backward(dy, *args, **kwargs)
        entry["grad_output"] = np.array(dy, copy=True)
        entry["grad_input"] = None if dx is None else np.array(dx, copy=True)
        return dx

    layer.forward, layer.backward = recording_forward, recording_backward


def _record_loss(head, entry: dict) -> None:
    """Wrap the loss's forward and backward (as instance attributes) to copy the logits, loss and dL/dz."""
    forward, backward = head.forward, head.backward

    def recording_forward(z, *args, **kwargs):
        value = forward(z, *args, **kwargs)
        entry["logits"], entry["data_loss"] = np.array(z, copy=True), float(value)
        return value

    def recording_backward(*args, **kwargs):
        dz = backward(*args, **kwargs)
        entry["grad_logits"] = np.array(dz, copy=True)
        return dz

    head.forward, head.backward = recording_forward, recording_backward


def _unwrap(obj) -> None:
    """Remove the recording wrappers: the class's own forward and backward show through again."""
    for name in ("forward", "backward"):
        obj.__dict__.pop(name, None)


def _layer_trace(i: int, layer: Layer, entry: dict, before: dict, grads: dict, after: dict) -> LayerTrace:
    """Layer ``i``'s record: what passed through it and its parameters before, after and their gradients."""
    keys = [f"layers.{i}.{k}" for k in layer.params]
    return LayerTrace(
        index=i,
        kind=type(layer).__name__,
        input=entry["input"],
        output=entry["output"],
        grad_output=entry.get("grad_output"),
        grad_input=entry.get("grad_input"),
        params_before={k.rsplit(".", 1)[1]: before[k] for k in keys},
        params_after={k.rsplit(".", 1)[1]: after[k] for k in keys},
        grads={k.rsplit(".", 1)[1]: grads[k] for k in keys},
    )


def trace_step(
    net,
    X,
    y,
    optimizer=None,
    sample_weight=None,
    alpha: float = 0.0,
    n_samples: int | None = None,
) -> StepTrace:
    r"""Run one training step of ``net`` on the batch ``(X, y)`` and record every layer's numbers.

    The step is the real one: ``net.loss_and_grad(X, y, sample_weight, alpha, n_samples)`` and then, if an
    optimizer is given, ``optimizer.step(net)``; the network (and the optimizer's state, and any dropout
    generator) change exactly as in training. Pass a copy (``copy.deepcopy``) to look without changing.
    The network's mode is left as it is: call ``net.train()`` first for a training step (dropout active,
    batch statistics in batch norm).

    Parameters
    ----------
    net : Sequential
    X : array-like of shape (n_samples, n_features)
    y : array-like
        Targets in the form the loss takes (class indices for softmax cross-entropy).
    optimizer : Optimizer, optional
        Without one, gradients are computed and recorded but the parameters do not change.
    sample_weight : array-like of shape (n_samples,), optional
    alpha : float
        L2 strength, as in ``loss_and_grad``: :math:`\frac{\alpha}{2n}\sum_l \|W_l\|^2`.
    n_samples : int, optional
        The :math:`n` of the penalty (the training-set size); defaults to the batch size.

    Returns
    -------
    StepTrace
    """
    entries: list[dict] = [{} for _ in net.layers]
    loss_entry: dict = {}
    before = {name: value.copy() for name, value in net.parameters().items()}
    for layer, entry in zip(net.layers, entries, strict=True):
        _record(layer, entry)
    _record_loss(net.loss, loss_entry)
    try:
        loss = float(net.loss_and_grad(X, y, sample_weight, alpha=alpha, n_samples=n_samples))
    finally:
        for obj in (*net.layers, net.loss):
            _unwrap(obj)
    grads = {name: value.copy() for name, value in net.gradients().items()}
    lr = None
    if optimizer is not None:
        lr = float(optimizer.lr)
        optimizer.step(net)
    after = {name: value.copy() for name, value in net.parameters().items()}
    layers = [
        _layer_trace(i, layer, entry, before, grads, after)
        for i, (layer, entry) in enumerate(zip(net.layers, entries, strict=True))
    ]
    data_loss = loss_entry["data_loss"]
    return StepTrace(
        layers=layers,
        loss=loss,
        data_loss=data_loss,
        penalty=loss - data_loss,
        logits=loss_entry["logits"],
        grad_logits=loss_entry["grad_logits"],
        lr=lr,
    )


def hidden_activations(net, X) -> list[np.ndarray]:
    """The output of each hidden layer's activation for the inputs ``X``, in evaluation mode.

    A hidden layer is a ``Dense`` layer other than the last one; its activation is the first activation layer
    after it (after any batch norm). Dropout is off in evaluation mode, so what follows is what the next
    ``Dense`` layer reads.

    Parameters
    ----------
    net : Sequential
    X : array-like of shape (n_samples, n_features)

    Returns
    -------
    list of ndarray
        One ``(n_samples, width)`` array per hidden layer.
    """
    X = net._check_input(X)
    dense = [i for i, layer in enumerate(net.layers) if isinstance(layer, Dense)]
    last_dense = dense[-1] if dense else len(net.layers)
    was_training = net.training
    net.eval()
    try:
        out, found, waiting = X, [], False
        for i, layer in enumerate(net.layers):
            out = layer.forward(out)
            if isinstance(layer, Dense):
                waiting = i != last_dense
            elif waiting and isinstance(layer, ActivationLayer):
                found.append(np.array(out, copy=True))
                waiting = False
    finally:
        net.train(was_training)
    return found
