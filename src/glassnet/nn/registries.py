"""The four registries of choices in one place, and the menus built from them.

An activation, a loss, an optimizer and a learning-rate schedule is each one class that declares its name and
registers itself:

==============  ========================================  ==========================================
choice          registry                                  add one with
==============  ========================================  ==========================================
activation      :data:`glassnet.nn.layers.ACTIVATION_LAYERS`  :func:`glassnet.nn.layers.register_activation`
loss            :data:`glassnet.nn.losses.LOSSES`          :func:`glassnet.nn.losses.register_loss`
optimizer       :data:`glassnet.nn.optim.OPTIMIZERS`       :func:`glassnet.nn.optim.register_optimizer`
schedule        :data:`glassnet.nn.schedules.SCHEDULES`    :func:`glassnet.nn.schedules.register_schedule`
==============  ========================================  ==========================================

Whatever offers a choice reads the registry when it needs it: the estimators' parameter validation, ``glassnet
train``'s options, the playground's menus (:func:`registry_menus`), ONNX export and ``to_sklearn``.

>>> menus = registry_menus()
>>> [entry["name"] for entry in menus["activations"] if entry["sklearn"]]  # those scikit-learn has too
['identity', 'logistic', 'tanh', 'relu']
>>> [entry["name"] for entry in menus["optimizers"]]
['sgd', 'adam', 'adamw']
>>> menus["optimizers"][0]["parameters"]
{'lr': 0.01, 'momentum': 0.0, 'nesterov': False, 'weight_decay': 0.0}
"""

from __future__ import annotations

import inspect

from glassnet.nn.layers.activations import ACTIVATION_LAYERS, hidden_activations
from glassnet.nn.losses import LOSSES
from glassnet.nn.optim import OPTIMIZERS
from glassnet.nn.schedules import SCHEDULES

__all__ = ["accepted_settings", "registry_menus"]


def accepted_settings(settings: dict, cls: type) -> dict:
    """The entries of ``settings`` that ``cls``'s constructor takes by name: how a caller with one vocabulary of
    settings (the estimators', the playground's) builds any registered optimizer or schedule."""
    names = inspect.signature(cls).parameters
    return {name: value for name, value in settings.items() if name in names}


def _summary(cls: type) -> str:
    """The first sentence of a class's docstring (its first paragraph, on one line)."""
    paragraph = inspect.getdoc(cls).split("\n\n")[0] if cls.__doc__ else ""
    return " ".join(paragraph.split())


def _parameters(cls: type) -> dict:
    """The constructor's keyword arguments and their defaults, where these are JSON values."""
    out = {}
    for name, p in inspect.signature(cls).parameters.items():
        if p.default is not inspect.Parameter.empty and isinstance(p.default, (bool, int, float, str)):
            out[name] = p.default
    return out


def _primary(registry: dict) -> list[tuple[str, type]]:
    """``(name, class)`` for each registered class under its own name (aliases left out), in order."""
    return [(name, cls) for name, cls in registry.items() if name == cls.name]


def registry_menus() -> dict[str, list[dict]]:
    """What each registry offers, as JSON-able data for menus (the playground serves it to its page).

    Returns
    -------
    dict
        ``activations`` (the hidden ones: ``name``, ``class``, ``formula``, ``summary``, ``sklearn`` (scikit-learn's
        name or ``None``), ``onnx`` (whether it declares a lowering), ``init``, ``parameters``), ``losses``
        (``name``, ``class``, ``task``, ``summary``, ``parameters``), ``optimizers`` and ``schedules`` (``name``,
        ``class``, ``formula``, ``summary``, ``parameters``). ``parameters`` maps each constructor argument with a JSON default
        to that default. Entries come in registration order; aliases are left out.
    """
    activations = [
        {
            "name": name,
            "class": cls.__name__,
            "formula": cls.formula,
            "summary": _summary(cls),
            "sklearn": cls.sklearn_name,
            "onnx": cls.lowers_to_onnx(),
            "init": cls.init,
            "parameters": _parameters(cls),
        }
        for name, cls in ((name, ACTIVATION_LAYERS[name]) for name in hidden_activations())
    ]
    losses = [
        {"name": name, "class": cls.__name__, "task": cls.task, "summary": _summary(cls),
         "parameters": _parameters(cls)}
        for name, cls in _primary(LOSSES)
    ]  # fmt: skip

    def plain(registry: dict) -> list[dict]:
        return [
            {
                "name": name,
                "class": cls.__name__,
                "formula": cls.formula,
                "summary": _summary(cls),
                "parameters": _parameters(cls),
            }
            for name, cls in _primary(registry)
        ]

    return {
        "activations": activations,
        "losses": losses,
        "optimizers": plain(OPTIMIZERS),
        "schedules": plain(SCHEDULES),
    }
