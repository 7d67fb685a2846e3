"""``stream-harness``: the command-line front end. Each sub-command is a module of ``harness.commands``.

Exit codes: 0 when nothing failed or errored, 1 when something did (or a scenario file is
broken), 2 on bad usage (an unknown name gets the list of valid ones).
"""

from __future__ import annotations

import argparse
import sys
import traceback

from .commands import commands
from .errors import HarnessError, UsageError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stream-harness",
        description="Check FastAPI's 'Stream Data' promises for every documented way of writing a route.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of harness errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in commands().values():
        cmd.configure(sub.add_parser(cmd.name, help=cmd.help, description=cmd.help))
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--debug"):
        argv.insert(0, "run")  # `stream-harness` alone, or with run's options, means `run`
    if argv[:1] == ["--debug"] and (len(argv) == 1 or argv[1].startswith("-")):
        argv.insert(1, "run")
    args = build_parser().parse_args(argv)
    try:
        return commands()[args.command].action(args)
    except UsageError as exc:
        cause = getattr(exc, "cause", None)
        if getattr(args, "debug", False) and cause is not None:  # e.g. what a broken --app raised
            traceback.print_exception(type(cause), cause, cause.__traceback__, file=sys.stderr)
        print(f"stream-harness: error: {exc}", file=sys.stderr)
        return 2
    except HarnessError as exc:
        if args.debug:
            raise
        print(f"stream-harness: harness error: {exc} (run with --debug for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
