"""Entry point of the ``naga`` command.

Each subcommand lives in ``naga/commands/<name>.py`` and exposes two functions:
``add_parser(subparsers)`` (declare its flags; must stay cheap: no heavy imports) and
``run(args) -> int`` (do the work; heavy imports go here). User mistakes raise
``NagaError`` and are printed here as one line, exit code 2. A reader that closes the pipe
(``naga ls | head``) ends every subcommand quietly with exit status 141 (naga._pipes).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module

from naga._argparse import OneLineErrorParser
from naga._pipes import quiet_broken_pipe
from naga._version import __version__
from naga.errors import NagaError

SUBCOMMANDS = (
    "show",
    "ls",
    "plot",
    "report",
    "diff",
    "verify",
    "lineage",
    "rerun",
    "gc",
    "log",
    "status",
    "resume",
    "push",
    "export",
    "import",
)
#: Subcommands whose module name differs from the command (``import`` is a keyword).
_MODULES = {"import": "importing"}
#: Options whose value may start with '-' (``--sort -loss``: descending), which argparse
#: would otherwise take for an unknown option.
_DASH_VALUES = ("--sort",)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="naga",
        description="See, compare, verify, re-create, log and move runs (push, export, "
        "import) from their run.lock files.",
    )
    parser.add_argument("--version", action="version", version=f"naga {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        import_module(f"naga.commands.{_MODULES.get(name, name)}").add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    with quiet_broken_pipe():  # `naga --help | head -1` as much as `naga ls | head -2`
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(_join_dash_values(sys.argv[1:] if argv is None else list(argv)))
    module = import_module(f"naga.commands.{_MODULES.get(args.command, args.command)}")
    try:
        return int(module.run(args) or 0)
    except NagaError as exc:
        print(f"naga {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"naga {args.command}: interrupted", file=sys.stderr)
        return 130


def _join_dash_values(argv: list[str]) -> list[str]:
    """``--sort -loss`` -> ``--sort=-loss`` (argparse reads the latter as intended)."""
    out: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--":
            out += [arg, *args]
            break
        if arg in _DASH_VALUES:
            value = next(args, None)
            if value is not None and value.startswith("-") and value != "--":
                out.append(f"{arg}={value}")
                continue
            out += [arg] if value is None else [arg, value]
            continue
        out.append(arg)
    return out


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
