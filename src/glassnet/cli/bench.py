"""``glassnet bench speed|accuracy ...``: forward to the benchmark modules of ``glassnet.bench``."""

from __future__ import annotations

import argparse
import importlib

from glassnet.cli._common import CLIError

BENCHMARKS = ("speed", "accuracy", "accuracy_cv")


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "bench",
        help="run a benchmark (speed or accuracy); the remaining arguments go to it",
        description="Run glassnet.bench.speed or glassnet.bench.accuracy; every argument after the "
        "benchmark's name is passed on (try `glassnet bench speed --help`).",
    )
    p.add_argument("benchmark", choices=BENCHMARKS, help="which benchmark")
    p.add_argument("bench_args", nargs=argparse.REMAINDER, help="arguments of the benchmark")
    return p


def run(args) -> int:
    name = f"glassnet.bench.{args.benchmark}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (exc.name == name or name.startswith(exc.name + ".")):
            raise CLIError(
                f"the {args.benchmark} benchmark ({name}) is not available in this glassnet"
            ) from None
        raise
    return int(module.main(list(args.bench_args)) or 0)
