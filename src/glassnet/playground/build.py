"""From a validated configuration to glassnet objects, and to the Python script that does the same.

The playground and its "copy as Python" script must take the very same steps, so both are written here side
by side: :func:`build_network` / :func:`build_optimizer` / :func:`build_schedule` / :func:`build_trainer` and
:func:`python_script`, whose text spells out the same calls in the same order (a test runs the script and
compares the weights). Both train with :class:`glassnet.training.Trainer`.
"""

from __future__ import annotations

import numpy as np

from glassnet.nn.layers import BatchNorm, Dense, Dropout, default_init, make_activation
from glassnet.nn.losses import LOSSES
from glassnet.nn.network import Sequential
from glassnet.nn.optim import optimizer_class
from glassnet.nn.registries import accepted_settings, registry_menus
from glassnet.nn.schedules import schedule_class
from glassnet.playground.config import losses_for, task_of
from glassnet.training import Trainer

__all__ = [
    "build_network", "build_optimizer", "menus", "build_schedule", "build_trainer", "steps_per_epoch", "python_script"
]  # fmt: skip


def init_for(activation: str, init: str = "auto") -> str:
    """``init`` unless ``'auto'``; then the initializer the activation declares in its registry entry
    (``build_mlp``'s rule: He for ReLU-like units, scikit-learn's Glorot otherwise, factor 2 for logistic)."""
    return default_init(activation) if init == "auto" else init


def loss_class(config: dict) -> type:
    """The loss ``config['loss']`` names in the registry; ``'auto'``: the task's first (softmax cross-entropy
    for classes, squared error for a regression)."""
    name = config["loss"]
    return LOSSES[losses_for(task_of(config))[0] if name == "auto" else name]


def build_network(config: dict, n_classes: int) -> Sequential:
    """``Dense [-> BatchNorm] -> activation [-> Dropout]`` per hidden layer, then ``Dense`` to the outputs
    (the classes, or one value for a regression) and the configured loss; weights and dropout masks drawn
    from ``default_rng(config['seed'])``."""
    rng = np.random.default_rng(config["seed"])
    layers, fan_in, activation = [], 2 + len(config["features"]), "identity"
    for spec in config["layers"]:
        activation = spec["activation"]
        layers.append(Dense(fan_in, spec["units"], rng=rng, init=init_for(activation, config["init"])))
        if config["batch_norm"]:
            layers.append(BatchNorm(spec["units"]))
        layers.append(make_activation(activation))
        if spec["dropout"] > 0:
            layers.append(Dropout(spec["dropout"], rng=rng))
        fan_in = spec["units"]
    layers.append(Dense(fan_in, n_classes, rng=rng, init=init_for(activation, config["init"])))
    return Sequential(layers, loss_class(config)())


def _optimizer_settings(config: dict) -> tuple[type, dict]:
    """The optimizer class ``config['optimizer']`` names in the registry and the settings it takes."""
    cls = optimizer_class(config["optimizer"])
    settings = {"lr": config["lr"], "momentum": config["momentum"], "weight_decay": config["weight_decay"]}
    return cls, accepted_settings(settings, cls)


def menus() -> dict:
    """:func:`glassnet.nn.registries.registry_menus` (what the page's menus offer), each optimizer and schedule
    with ``fields``: the settings of the page its constructor takes (the page shows only those). Read at each
    call, so that a class registered while the server runs is offered too."""
    out = registry_menus()
    probe = {"lr": 0.0, "momentum": 0.0, "weight_decay": 0.0, "step_size": 1, "gamma": 1.0, "total_epochs": 1}
    for entry in out["optimizers"]:
        entry["fields"] = list(_optimizer_settings({**probe, "optimizer": entry["name"]})[1])
    for entry in out["schedules"]:
        taken = _schedule_settings({**probe, "schedule": entry["name"]}, 1)[1]
        entry["fields"] = ["total_epochs" if name == "total_steps" else name for name in taken]
    return out


def build_optimizer(config: dict):
    """The registered optimizer ``config['optimizer']`` with the playground's settings it takes (``lr``, and
    ``momentum`` and ``weight_decay`` where its constructor has them)."""
    cls, settings = _optimizer_settings(config)
    return cls(**settings)


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    """Batches per epoch as the Trainer cuts them: ``len(range(0, n, batch_size))``."""
    return len(range(0, n_train, batch_size))


def _schedule_settings(config: dict, total_steps) -> tuple[type, dict]:
    """The schedule class ``config['schedule']`` names in the registry and the settings it takes besides ``lr``
    (``step_size``, ``gamma``, and ``total_steps``: ``total_epochs`` epochs of batches)."""
    cls = schedule_class(config["schedule"])
    settings = {"step_size": config["step_size"], "gamma": config["gamma"], "total_steps": total_steps}
    return cls, accepted_settings(settings, cls)


def build_schedule(config: dict, n_train: int):
    """The registered learning-rate schedule ``config['schedule']``; one that decays over a number of steps
    (cosine) spans ``total_epochs`` epochs of ``n_train`` points."""
    total = config["total_epochs"] * steps_per_epoch(n_train, config["batch_size"])
    cls, settings = _schedule_settings(config, total)
    return cls(config["lr"], **settings)


def build_trainer(config: dict, net: Sequential, optimizer, schedule, callbacks=()) -> Trainer:
    """The Trainer of a playground run: the configured batches and L2, one process (the page steps it), the
    BLAS threads left as they are, batch order drawn from ``default_rng(config['seed'] + 1)``."""
    return Trainer(
        net, optimizer, schedule=schedule, batch_size=config["batch_size"], alpha=config["alpha"],
        seed=config["seed"] + 1, n_jobs=1, callbacks=callbacks,
        threads="caller",  # the fit pauses between the page's steps: it must not hold the process's BLAS limit
    )  # fmt: skip


# --- changes while it trains ----------------------------------------------------------------------------------

#: the settings a training network takes as they are, without a reset
LIVE_SETTINGS = ("lr", "schedule", "step_size", "gamma", "total_epochs", "alpha", "momentum", "weight_decay",
                 "batch_size")  # fmt: skip
_SCHEDULE_SETTINGS = ("lr", "schedule", "step_size", "gamma", "total_epochs")


def _shape(config: dict) -> tuple:
    """Everything a live change may not touch: the data, the seeds, the layers (a dropout layer only as being
    there or not: adding or removing one changes the network)."""
    rest = {k: v for k, v in config.items() if k not in LIVE_SETTINGS and k != "layers"}
    return rest, [(s["units"], s["activation"], s["dropout"] > 0) for s in config["layers"]]


def live_changes(old: dict, new: dict) -> list[str] | None:
    """The settings that differ between two configurations when the network can take them while it trains
    (:data:`LIVE_SETTINGS` and dropout rates); ``None`` when something else differs and training must reset."""
    if _shape(old) != _shape(new):
        return None
    changed = [k for k in LIVE_SETTINGS if old[k] != new[k]]
    if [s["dropout"] for s in old["layers"]] != [s["dropout"] for s in new["layers"]]:
        changed.append("dropout")
    return changed


def dropout_layers(config: dict) -> list[tuple[int, float]]:
    """``(index in net.layers, rate)`` of each ``Dropout`` layer that :func:`build_network` makes."""
    found, index = [], 0
    for spec in config["layers"]:
        index += 3 if config["batch_norm"] else 2  # Dense [-> BatchNorm] -> activation
        if spec["dropout"] > 0:
            found.append((index, spec["dropout"]))
            index += 1
    return found


def apply_changes(trainer: Trainer, config: dict, changed: list[str], n_train: int) -> None:
    """Give a Trainer (between two fits) the ``changed`` settings of ``config``: the same assignments as the
    script's lines (:func:`_change_code`). A new learning rate or schedule starts a new schedule at this step."""
    if any(k in changed for k in _SCHEDULE_SETTINGS):
        trainer.schedule = build_schedule(config, n_train)
    trainer.alpha, trainer.batch_size = config["alpha"], config["batch_size"]
    for name, value in _optimizer_settings(config)[1].items():
        if name in changed and name != "lr":  # a new lr goes through the schedule
            setattr(trainer.optimizer, name, value)
    for index, rate in dropout_layers(config):
        trainer.net.layers[index].rate = rate


def _change_code(new: dict, changed: list[str]) -> list[str]:
    """The script's lines for :func:`apply_changes`."""
    lines = [f"# changed while it trained (no reset): {', '.join(changed)}"]
    if any(k in changed for k in _SCHEDULE_SETTINGS):
        lines.append(f"trainer.schedule = {_schedule_code(new)[1]}  # a new schedule from this step")
    if "alpha" in changed:
        lines.append(f"trainer.alpha = {new['alpha']!r}")
    if "batch_size" in changed:
        lines.append(f"trainer.batch_size = {new['batch_size']}")
    for name, value in _optimizer_settings(new)[1].items():
        if name in changed and name != "lr":
            lines.append(f"optimizer.{name} = {value!r}")
    if "dropout" in changed:
        lines += [f"net.layers[{index}].rate = {rate!r}" for index, rate in dropout_layers(new)]
    return lines


# --- the script ------------------------------------------------------------------------------------------------


def _layers_code(config: dict, n_classes: int) -> tuple[list[str], set[type]]:
    lines, classes, fan_in, activation = [], {Dense}, 2 + len(config["features"]), "identity"
    for spec in config["layers"]:
        activation = spec["activation"]
        cls = type(make_activation(activation))
        classes.add(cls)
        lines.append(
            f'Dense({fan_in}, {spec["units"]}, rng=rng, init="{init_for(activation, config["init"])}"),'
        )
        if config["batch_norm"]:
            classes.add(BatchNorm)
            lines.append(f"BatchNorm({spec['units']}),")
        lines.append(f"{cls.__name__}(),")
        if spec["dropout"] > 0:
            classes.add(Dropout)
            lines.append(f"Dropout({spec['dropout']!r}, rng=rng),")
        fan_in = spec["units"]
    lines.append(f'Dense({fan_in}, {n_classes}, rng=rng, init="{init_for(activation, config["init"])}"),')
    return lines, classes


def _call_code(cls: type, args: list[str], settings: dict) -> str:
    """``Name(arg, key=value, ...)`` with the values written as Python literals."""
    return f"{cls.__name__}({', '.join([*args, *(f'{k}={v!r}' for k, v in settings.items())])})"


def _optimizer_code(config: dict) -> tuple[type, str]:
    cls, settings = _optimizer_settings(config)
    return cls, _call_code(cls, [], settings)


def _schedule_code(config: dict) -> tuple[type, str]:
    total = f"{config['total_epochs']} * len(range(0, len(X_train), {config['batch_size']}))"
    cls, settings = _schedule_settings(config, total)
    code = _call_code(cls, [repr(config["lr"])], settings)
    return cls, code.replace(repr(total), total)  # total_steps as the expression, not a string


#: where a script imports glassnet's classes from: the public names (a class registered from elsewhere is
#: imported from its own module)
_PUBLIC = ("glassnet.layers", "glassnet.losses", "glassnet.optim", "glassnet.schedules")


def _import_lines(classes) -> list[str]:
    """``from module import A, B`` lines for ``classes``: glassnet's under its public module names."""
    by_module: dict[str, set[str]] = {}
    for cls in classes:
        module = cls.__module__
        for public in _PUBLIC:
            if module.startswith("glassnet.nn." + public.split(".")[1]):
                module = public
        by_module.setdefault(module, set()).add(cls.__name__)
    return [f"from {module} import {', '.join(sorted(names))}" for module, names in sorted(by_module.items())]


def _data_code(config: dict, csv_name: str) -> tuple[list[str], list[str]]:
    """The script's import and lines that make ``X_train, y_train, X_test, y_test`` as the playground does."""
    if config["dataset"] == "csv":
        imports = ["from glassnet.playground.datasets import parse_csv, split"]
        read = "parse_csv(f.read())" if config["target"] == "class" else 'parse_csv(f.read(), target="value")'
        body = [
            f"# the CSV you uploaded, saved next to this script as {csv_name}",
            f'with open("{csv_name}") as f:',
            f"    X, y, names = {read}",
            f"X_train, y_train, X_test, y_test = split(X, y, {config['train_fraction']!r}, "
            f"np.random.default_rng({config['data_seed']}))",
        ]
        return imports, body
    from glassnet.playground.datasets import DATASETS

    chosen = config["dataset"] in DATASETS and DATASETS[config["dataset"]][2] is None
    classes = f"classes={config['classes']}, " if chosen else ""
    body = [
        "X_train, y_train, X_test, y_test = make_dataset(",
        f'    "{config["dataset"]}", n_samples={config["n_samples"]}, noise={config["noise"]!r}, '
        f"train_fraction={config['train_fraction']!r},",
        f"    {classes}seed={config['data_seed']},",
        ")",
    ]
    return ["from glassnet.playground.datasets import make_dataset"], body


def _features_code(config: dict) -> tuple[list[str], list[str]]:
    """The script's engineered inputs (none: no lines)."""
    if not config["features"]:
        return [], []
    names = config["features"]
    return ["from glassnet.playground.datasets import add_features"], [
        f"features = {names!r}  # engineered inputs after x1, x2",
        "X_train, X_test = add_features(X_train, features), add_features(X_test, features)",
    ]


def _training_code(phases: list[tuple[dict, int]]) -> list[str]:
    """The script's training: the playground's Trainer, stopped after as many steps as the playground took,
    with the settings changed while it trained between the fits."""
    config = phases[0][0]
    lines = [
        "trainer = Trainer(",
        f"    net, optimizer, schedule=schedule, batch_size={config['batch_size']}, alpha={config['alpha']!r},",
        f"    seed={config['seed']} + 1, n_jobs=1,  # seed: a new order of the training points each epoch",
        ")",
    ]
    previous = config
    for i, (config, steps, *edit) in enumerate(phases):
        if edit and edit[0][0] == "weight":  # a weight set by hand on the page
            _, index, row, col, value = edit[0]
            lines += [
                "",
                f'net.layers[{index}].params["W"][{row}, {col}] = {value!r}  # set by hand on the page',
            ]
        elif edit and edit[0][0] == "point":  # a training point added by a click on the plane
            _, x, y, label = edit[0]
            lines += [
                "",
                f"point = np.array([[{x!r}, {y!r}]], dtype=np.float32)  # a point added",
                "X_train = np.vstack([X_train, add_features(point, features) if features else point])",
                f"y_train = np.append(y_train, {label})",
            ]
        elif i:
            lines += ["", *_change_code(config, live_changes(previous, config) or [])]
        if steps or len(phases) == 1:
            lines.append(
                f"fit_steps(trainer, X_train, y_train, steps={steps})  # Trainer.fit, paused after {steps} steps"
            )
        previous = config
    if task_of(phases[0][0]) == "regression":
        return [*lines, "", 'print(f"test R^2: {r2_score(net, X_test, y_test):.3f}")']
    return [*lines, "", 'print(f"test accuracy: {np.mean(net.predict(X_test) == y_test):.3f}")']


def python_script(phases: list[tuple[dict, int]], n_classes: int, csv_name: str = "data.csv") -> str:
    """A short glassnet script that rebuilds the data, the network and the optimizer of the first phase's
    configuration and takes the same training steps as the playground (same batches, same weights): each
    phase ``(config, steps)`` is a fit of ``steps`` steps, after the settings changed while it trained."""
    config = phases[0][0]
    steps = sum(phase[1] for phase in phases)
    layer_lines, layer_classes = _layers_code(config, n_classes)
    loss = loss_class(config)
    opt_cls, opt_code = _optimizer_code(config)
    sched_code = _schedule_code(config)[1]
    sched_classes = {_schedule_code(phase[0])[0] for phase in phases}
    widths = "-".join(str(w) for w in [2, *(s["units"] for s in config["layers"]), n_classes])
    data_imports, data_body = _data_code(config, csv_name)
    feature_imports, feature_body = _features_code(config)
    if not config["features"] and any(len(phase) > 2 and phase[2][0] == "point" for phase in phases):
        feature_body = ["features = []  # no engineered inputs"]
    imports = [
        "import numpy as np",
        "",
        *_import_lines({*layer_classes, loss, opt_cls, *sched_classes}),
        "from glassnet.network import Sequential",
        *data_imports,
        *feature_imports,
        "from glassnet.playground.stepping import fit_steps",
        "from glassnet.training import Trainer" + (", r2_score" if task_of(config) == "regression" else ""),
    ]
    body = [
        "",
        *data_body,
        *feature_body,
        "",
        f"rng = np.random.default_rng({config['seed']})  # initial weights, then dropout masks",
        "net = Sequential(",
        "    [",
        *(f"        {line}" for line in layer_lines),
        "    ],",
        f"    {loss.__name__}(),",
        ")",
        f"optimizer = {opt_code}",
        f"schedule = {sched_code}",
        "",
        *_training_code(phases),
    ]
    header = [
        f'"""A glassnet playground run: {config["dataset"]}, a {widths} network, {opt_cls.__name__} '
        f'(lr {config["lr"]:g}), {steps} steps."""',
        "",
    ]
    return "\n".join(header + imports + body) + "\n"
