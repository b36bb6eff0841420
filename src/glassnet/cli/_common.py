"""Helpers shared by the sub-commands: errors, argument types, progress bars and printing."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = [
    "CLIError",
    "UsageError",
    "GlassnetArgumentParser",
    "DefaultsHelpFormatter",
    "set_command_prog",
    "add_common",
    "add_data_options",
    "positive_int",
    "fraction",
    "positive_float",
    "int_list",
    "format_table",
    "eprint",
]


class CLIError(Exception):
    """An error to show the user as one line, with an exit code (1 by default)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class UsageError(CLIError):
    """A bad command line (unknown option, bad value); exit code 2 as argparse."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code=2)


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Help that states every option's default: ``(default: X)`` is added where the text does not say it.

    Options whose default says nothing (``None``, ``False`` of a flag, a suppressed one) are left alone, and
    so is a help text that already names its default in words.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "default" in text
            or default is None
            or default is argparse.SUPPRESS
            or isinstance(default, bool)
            or not action.option_strings
        ):
            return text
        return f"{text} (default %(default)s)"


class GlassnetArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors become one line (``glassnet train: error: ...``), not usage + exit.

    Its help states the defaults (:class:`DefaultsHelpFormatter`). Every error names the help of the
    command it concerns: ``glassnet train --bogus`` points to ``glassnet train --help`` (see
    :func:`set_command_prog` and :meth:`parse_args`).
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # noqa: D401 - argparse's API
        raise UsageError(f"{message} (see `{self.prog} --help`)")

    def parse_args(self, args=None, namespace=None):  # noqa: D401 - argparse's API
        # argparse reports unknown options from the top-level parser, which would point to `glassnet --help`;
        # report them from the (sub-)command they were given to instead
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            prog = getattr(parsed, "_prog", None) or self.prog
            raise UsageError(f"unrecognized arguments: {' '.join(extras)} (see `{prog} --help`)")
        return parsed


def set_command_prog(parser: argparse.ArgumentParser) -> None:
    """Record in every (nested) sub-command's defaults its ``prog``, for the errors of :meth:`parse_args`.

    A nested sub-command's defaults override its parent's, so ``glassnet data fetch --bogus`` names
    ``glassnet data fetch``.
    """
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                child.set_defaults(_prog=child.prog)
                set_command_prog(child)


def add_common(parser: argparse.ArgumentParser) -> None:
    """Options every sub-command accepts."""
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")


def add_data_options(
    parser: argparse.ArgumentParser,
    default: str | None = "digits",
    from_model: bool = False,
    resumable: bool = False,
) -> None:
    """``--dataset``, ``--data-dir``, ``--label-column``, ``--test-size``, ``--seed``.

    With ``from_model`` (``glassnet evaluate``) the data set, test size and seed default to ``None``: the
    command takes them from the model file, which records how training split the data. With ``resumable``
    (``glassnet train``) they are ``None`` unless given, and the help shows the defaults the command fills in
    (a resumed run takes the checkpoint's instead, and must tell an option given from one left out).
    """
    if from_model:
        dataset_help, size_help, seed_help = (
            "(default: the data set the model was trained on)",
            "(default: the model's, else 0.2)",
            "(default: the model's, else 0)",
        )
        default, test_size, seed = None, None, None
    else:
        dataset_help, size_help, seed_help = f"(default {default})", "(default 0.2)", "(default 0)"
        test_size, seed = (None, None) if resumable else (0.2, 0)
    parser.add_argument(
        "--dataset",
        default=None if resumable else default,
        required=default is None and not from_model,
        help=f"digits, fashion-mnist, mnist, or the path of your own .npz/.csv file {dataset_help}",
    )
    parser.add_argument(
        "--data-dir",
        help="folder with the IDX files of fashion-mnist/mnist (searched before $GLASSNET_DATA and "
        "/usr/share/datasets/fashion-mnist)",
    )
    parser.add_argument(
        "--label-column", help="CSV label column, name or index (default: label, else the last)"
    )
    parser.add_argument(
        "--test-size",
        type=fraction,
        default=test_size,
        help=f"test fraction for digits and your files {size_help}",
    )
    what = "seed of the split" if from_model else "seed of the split and the training"
    parser.add_argument("--seed", type=int, default=seed, help=f"{what} {seed_help}")


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a float > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def fraction(text: str) -> float:
    """argparse type: a float in [0, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {value}")
    return value


def int_list(text: str) -> tuple[int, ...]:
    """argparse type: ``"256,128"`` -> ``(256, 128)``."""
    try:
        sizes = tuple(int(s) for s in text.replace("x", ",").split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 256,128, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive sizes like 256,128, got {text!r}")
    return sizes


def angle_list(text: str) -> tuple[float, ...]:
    """argparse type: ``"-10,-5,0,5,10"`` -> ``(-10.0, -5.0, 0.0, 5.0, 10.0)``, angles in degrees in [-180, 180]."""
    try:
        angles = tuple(float(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected angles like -10,-5,0,5,10, got {text!r}") from None
    if not angles or not all(-180.0 <= a <= 180.0 for a in angles):
        raise argparse.ArgumentTypeError(f"expected angles in [-180, 180] like -10,-5,0,5,10, got {text!r}")
    return angles


def format_table(rows: Sequence[dict]) -> str:
    """A plain-text table of dicts with the same keys (floats with 4 decimals)."""
    if not rows:
        return ""
    headers = list(rows[0])

    def cell(value) -> str:
        return f"{value:.4f}" if isinstance(value, float) else str(value)

    cells = [[cell(r.get(h, "")) for h in headers] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]

    def line(values) -> str:
        # first column left-aligned (names), the numbers right-aligned
        return "  ".join(
            v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True))
        )

    lines = [line(headers), "  ".join("-" * w for w in widths)]
    lines.extend(line(row) for row in cells)
    return "\n".join(lines)


def eprint(*args) -> None:
    """Print to stderr (progress and notes; results go to stdout)."""
    print(*args, file=sys.stderr, flush=True)
