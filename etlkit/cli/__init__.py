"""The ``etlkit`` command line.

Each subcommand lives in a module of this package that exposes
``register(subparsers)``; the module sets ``handler`` on its parser. Handlers
return an exit code; an :class:`~etlkit.errors.EtlkitError` becomes its
documented exit code and a one-line message on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from etlkit.errors import EtlkitError

COMMAND_MODULES = ("demo", "refs", "spec")


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="etlkit",
        description="Plan, run and prove data movement from ClickHouse to DuckDB.",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log DEBUG lines to stderr"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True

    for name in COMMAND_MODULES:
        module = importlib.import_module(f"etlkit.cli._{name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )

    try:
        return args.handler(args)
    except EtlkitError as error:
        label = f"{error.failure_class} " if error.failure_class else ""
        print(f"etlkit: {label}{error}", file=sys.stderr)
        return error.exit_code
    except BrokenPipeError:
        # The reader of stdout went away (``etlkit spec schema | head``): stop
        # quietly, and keep Python from reporting the failed flush at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
