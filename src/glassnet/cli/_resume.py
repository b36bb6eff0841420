"""``glassnet train --resume DIR``: what a resumed run keeps, what it may change, and how it says so.

Every checkpoint that ``glassnet train --checkpoint`` writes records the command's settings: the options'
values (given, from a recipe, or the defaults), digests of the test rows and of the validation rows, and the
changes made at earlier resumes. They travel in the checkpoint as the state of a callback
(:class:`RunSettings`, through the ``state_dict`` protocol every checkpointed callback follows).

On ``--resume`` each option is compared with the recorded value:

=================================  ======================================================================
not given                          the recorded value is used (so ``--resume DIR`` alone continues the run)
given, the same                    nothing to do
``--lr``, ``--epochs``             applied from the resumed epoch on, and recorded: the model file's
                                   ``info["resumed"]`` lists every change and the epoch it was made at
anything else                      refused with a message naming the option: the data set, its split
                                   (``--seed``, ``--test-size``, ``--limit-train``, ``--validation-split``)
                                   and the network (``--hidden``, ``--dropout``, ...) are the run's; a new
                                   split would turn test rows into training rows
=================================  ======================================================================

With the split fixed, the test rows that ``glassnet evaluate`` scores stay the rows the run never trained on;
the recorded digests make sure the data itself did not change in between.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

import numpy as np

from glassnet.cli._common import CLIError, eprint

__all__ = ["DATA_OPTIONS", "APPLIED", "RunSettings", "Resumed", "load", "held_out_digest"]

#: the data options and their defaults (``None`` in the parser, so that an option given is told from one not)
DATA_OPTIONS = {
    "dataset": "digits", "label_column": None, "scale": None, "standardize": False, "test_size": 0.2,
    "seed": 0, "limit_train": None, "validation_split": 0.1, "dtype": "float32", "recipe": None,
    "early_stopping": 0,
}  # fmt: skip

#: options a resumed run applies from the resumed epoch on (the others are refused when changed)
APPLIED = ("lr", "epochs")

#: why a changed option is refused, by the kind of option
_NETWORK = {"hidden", "activation", "batch_norm", "dtype", "standardize", "scale"}
_SPLIT = {"dataset", "label_column", "test_size", "seed", "limit_train", "validation_split"}

_CALLBACK = "RunSettings"  # the class name the checkpoint records the state under


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _shown(value) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value))
    if value is True:
        return "on"
    if value in (False, None):
        return "off" if value is False else "unset"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _plain(value):
    """An option's value as JSON would give it back (tuples as lists), for comparing and recording."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def held_out_digest(rows: np.ndarray) -> str:
    """SHA-256 of the validation rows' indices (which training rows were held out)."""
    return hashlib.sha256(np.ascontiguousarray(rows, dtype=np.int64).tobytes()).hexdigest()


class RunSettings:
    """A callback that carries ``glassnet train``'s settings into every checkpoint (its ``state_dict``).

    ``options``: option name (``lr``, ``seed``, ``hidden``, ...) -> value; ``digests``: ``test`` (the test
    rows, :meth:`glassnet.data.Dataset.test_digest`) and ``validation`` (:func:`held_out_digest`);
    ``resumed``: one ``{"epoch": e, "changed": {option: [old, new]}}`` per resume that changed something.
    """

    def __init__(self, options: dict, digests: dict, resumed: list) -> None:
        self.options, self.digests, self.resumed = options, digests, resumed

    def state_dict(self) -> dict:
        return {"options": self.options, "digests": self.digests, "resumed": self.resumed}

    def load_state_dict(self, state: dict) -> None:
        """Nothing to restore: :func:`load` has read the recorded settings before the run was built."""


@dataclass
class Resumed:
    """A checkpoint to resume and what the command line changed: ``changed`` maps an option of
    :data:`APPLIED` to ``(recorded, given)``; ``resumed`` is the record of every resume, this one included."""

    where: str  # "--resume DIR", for messages
    checkpoint: object
    recorded: dict | None  # the RunSettings state, or None for a checkpoint written without it
    changed: dict = field(default_factory=dict)
    resumed: list = field(default_factory=list)

    def check_data(self, data, held_out: str | None) -> None:
        """Refuse data whose test or validation rows differ from those the checkpointed run had."""
        digests = (self.recorded or {}).get("digests") or {}
        where = self.where
        if digests.get("test") and digests["test"] != data.test_digest():
            raise CLIError(
                f"{where}: the test rows of {data.name} differ from those the checkpointed run held out (the "
                "data changed since); resuming would train on rows it tested on. Start a new run without --resume",
                code=2,
            )
        if digests.get("validation") and held_out is not None and digests["validation"] != held_out:
            raise CLIError(
                f"{where}: the validation rows differ from those the checkpointed run held out (the data "
                "changed since). Start a new run without --resume",
                code=2,
            )

    def apply(self, trainer, config, n_batches: int) -> None:
        """After :func:`glassnet.checkpoint.resume`: give the trainer the new learning rate and epoch count.

        The checkpoint restored the optimizer's and the schedule's state as they were; a new rate replaces
        the schedule's base rate, and a cosine schedule is stretched over the new number of epochs, both
        from the step the run had reached.
        """
        if not self.changed:
            return
        from glassnet.config.build import make_schedule
        from glassnet.nn.schedules import CosineLR

        old = trainer.schedule
        fresh = make_schedule(config, n_batches)
        if hasattr(old, "t"):
            fresh.t = old.t
        if isinstance(fresh, CosineLR):
            fresh.lr = fresh._rate(fresh.t)  # the new curve at the step reached
        trainer.schedule = fresh
        trainer.optimizer.lr = fresh.lr


def _differs(dest: str, given, recorded) -> bool:
    if dest == "dataset" and given != recorded and os.path.exists(given) and os.path.exists(recorded):
        return not os.path.samefile(given, recorded)  # one file, named from another folder
    if isinstance(given, float) or isinstance(recorded, float):
        try:
            return float(given) != float(recorded)
        except (TypeError, ValueError):
            return True
    return _plain(given) != _plain(recorded)


def _refusal(where: str, refused: list[tuple[str, object, object]]) -> CLIError:
    parts, why = [], set()
    for dest, given, recorded in refused:
        parts.append(f"{_flag(dest)} {_shown(given)} (the checkpoint's run: {_shown(recorded)})")
        if dest in _SPLIT:
            why.add("the data and its train/test split stay the run's: a new split would train on rows it "
                    "tested on")  # fmt: skip
        elif dest in _NETWORK:
            why.add("the network cannot change to another architecture or input scaling mid-run")
        else:
            why.add("the training would no longer continue the checkpointed run")
    keep = " and ".join(_flag(d) for d, _, _ in refused)
    return CLIError(
        f"{where}: {'; '.join(parts)}. A resumed run may change only --lr and --epochs; "
        f"{'; '.join(sorted(why))}. Leave out {keep} to continue with the checkpoint's, or start a new run "
        "without --resume",
        code=2,
    )


def load(args, options: tuple[str, ...]) -> Resumed:
    """Load ``--resume``'s latest checkpoint and reconcile ``args`` with its recorded settings.

    Fills every option not given (``None``) with the recorded value, collects the changes of :data:`APPLIED`
    and refuses any other change (:class:`CLIError`, exit code 2, naming the options).
    """
    from glassnet.files.checkpoint import CheckpointError, load_checkpoint

    where = f"--resume {args.resume}"
    try:
        ckpt = load_checkpoint(args.resume)
    except (CheckpointError, FileNotFoundError) as exc:
        raise CLIError(f"{where}: {exc}", code=2) from None
    recorded = None
    for entry in ckpt.metadata.get("callbacks") or []:
        if (
            isinstance(entry, dict)
            and entry.get("class") == _CALLBACK
            and isinstance(entry.get("state"), dict)
        ):
            recorded = entry["state"]
    if recorded is None or not isinstance(recorded.get("options"), dict):
        eprint(
            f"note: {where}: the checkpoint does not record the command's settings (written by an older glassnet "
            "or from Python); the options given now are used, and must be those of the checkpointed run"
        )
        return Resumed(where, ckpt, None)
    saved = recorded["options"]
    refused, changed = [], {}
    for dest in options:
        if dest not in saved:
            continue
        given = getattr(args, dest, None)
        if given is None:
            setattr(args, dest, tuple(saved[dest]) if isinstance(saved[dest], list) else saved[dest])
        elif _differs(dest, given, saved[dest]):
            if dest in APPLIED:
                changed[dest] = (saved[dest], _plain(given))
            else:
                refused.append((dest, _plain(given), saved[dest]))
    if refused:
        raise _refusal(where, refused)
    history = [dict(r) for r in recorded.get("resumed") or [] if isinstance(r, dict)]
    if changed:
        history.append({"epoch": int(ckpt.epoch), "changed": {k: list(v) for k, v in changed.items()}})
        words = ", ".join(f"{_flag(k)} {_shown(old)} -> {_shown(new)}" for k, (old, new) in changed.items())
        eprint(f"resuming after epoch {ckpt.epoch} with {words} (recorded in the model file)")
    return Resumed(where, ckpt, recorded, changed, history)
