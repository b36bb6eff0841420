"""The ``glassnet`` command: compare, train, evaluate and predict, plus ``data`` and ``bench``.

Each sub-command lives in its own module with two functions, ``add_parser(subparsers)`` and
``run(args) -> int``. :func:`main` parses the arguments, runs the command and turns every expected error
(missing file, bad data, corrupt model, diverged training, ...) into one line on stderr and a non-zero exit
code; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from glassnet import fast
from glassnet._version import __version__
from glassnet.cli._common import CLIError, GlassnetArgumentParser, UsageError, add_common, set_command_prog

__all__ = ["main", "build_parser", "CLIError"]

_COMMANDS = ("compare", "train", "evaluate", "predict", "data", "bench", "export", "playground")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``glassnet`` command with all sub-commands."""
    import importlib

    parser = GlassnetArgumentParser(
        prog="glassnet",
        description=(
            "glassnet: a transparent NumPy neural-network library. Start with `glassnet compare`, which trains "
            "the lab's network, glassnet's recommended one and two scikit-learn models on the 8x8 digits and "
            "writes a report."
        ),
    )
    # the version and which engine path runs (glassnet.fast: compiled kernels, or the NumPy reference alone)
    parser.add_argument("--version", action="version", version=f"glassnet {__version__}, {fast.describe()}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=GlassnetArgumentParser)
    for name in _COMMANDS:
        module = importlib.import_module(f"glassnet.cli.{name}")
        command = module.add_parser(sub)
        add_common(command)
        command.set_defaults(_run=module.run)
    set_command_prog(parser)
    return parser


def _fail(message: str, code: int) -> int:
    message = " ".join(str(message).split())  # one line, whatever the exception's text held
    print(f"glassnet: error: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``glassnet`` command with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if getattr(args, "_run", None) is None:
            parser.print_help(sys.stderr)
            return 2
        return int(args._run(args) or 0)
    except SystemExit as exc:  # --help and --version exit through argparse
        return exc.code if isinstance(exc.code, int) else 0
    except UsageError as exc:
        return _fail(str(exc), 2)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:  # `glassnet evaluate m.npz | head`: the reader left, nothing to report
        sys.stderr.close()
        return 141
    except Exception as exc:
        if debug:
            raise
        return _fail(*_describe(exc))


def _describe(exc: Exception) -> tuple[str, int]:
    """The message and exit code for an exception."""
    from glassnet.exceptions import TrainingDivergedError

    if isinstance(exc, CLIError):
        return str(exc), exc.code
    if isinstance(exc, FileNotFoundError):
        return str(exc) if exc.filename is None else f"file not found: {exc.filename}", 1
    if isinstance(exc, TrainingDivergedError):
        return str(exc), 1
    if isinstance(exc, ImportError):
        return f"{exc}; install the command-line extras: pip install 'glassnet[cli]'", 1
    if isinstance(exc, (ValueError, TypeError, OSError)):
        return str(exc), 1
    return f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)", 1
