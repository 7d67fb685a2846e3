"""``stream-harness``: the command-line front end (``run`` and ``list``).

Exit codes: 0 when nothing failed or errored, 1 when something did (or a scenario file is
broken), 2 on bad usage (an unknown name gets the list of valid ones).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import environment
from .errors import HarnessError, UsageError
from .options import Selection, add_options
from .outcomes import Outcome
from .reports import json as json_report, junit, terminal

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stream-harness",
        description="Check FastAPI's 'Stream Data' promises for every documented way of writing a route.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of harness errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run the conformance matrix (the default command)")
    add_options(run.add_argument)
    run.add_argument("--output-dir", type=Path, default=Path("reports"), metavar="DIR",
                     help="write DIR/<fastapi-version>/results.json and junit.xml (default: reports)")
    run.add_argument("--no-write", action="store_true", help="write no report files")
    run.add_argument("--problems-only", action="store_true",
                     help="print only matrix rows that hold a fail, error or non-strict outcome")
    run.add_argument("--max-details", type=int, default=20, metavar="N",
                     help="print the details of at most N problems (default: 20)")

    new = sub.add_parser("new-scenario", help="write a commented starting file for a new scenario")
    new.add_argument("name", help="the scenario's name, lower-case kebab-case (my-payload)")
    new.add_argument("--dir", type=Path, default=Path("scenarios"), metavar="DIR",
                     help="where to write it (default: scenarios)")

    lst = sub.add_parser("list", help="list scenarios, checks, axes and engines")
    lst.add_argument("what", nargs="?", choices=["scenarios", "checks", "axes", "variants", "engines"],
                     default=None)
    lst.add_argument("--scenarios-dir", action="append", type=Path, metavar="DIR")
    return parser


def _run(args: argparse.Namespace) -> int:
    from .session import open_session

    selection = Selection.from_values(lambda name: getattr(args, name, None))
    t0 = time.monotonic()
    session = open_session(selection)
    for err in session.scenario_set.errors:
        print(f"error: {err.message}", file=sys.stderr)
    for name, why in session.skipped.items():
        print(f"skipped engine {name}: {why}", file=sys.stderr)
    results, engine_times = [], {}
    try:
        for name in session.engines:
            t_engine = time.monotonic()
            results += session.runner(name).run(session.cases, progress=terminal.Progress(sys.stderr, name))
            engine_times[name] = round(time.monotonic() - t_engine, 3)
    finally:
        session.close()
    info = environment.RunInfo(engines=session.engines, selection=selection.to_json(),
                               wall_time_s=time.monotonic() - t0, engine_times=engine_times,
                               skipped_engines=session.skipped,
                               load_errors=[{"file": e.file, "message": e.message}
                                            for e in session.scenario_set.errors])
    color = terminal.use_color(sys.stdout)
    shown = results
    if args.problems_only:
        bad = {(r.engine, r.scenario, r.variant) for r in results
               if r.outcome.is_problem or r.outcome is Outcome.NON_STRICT}
        shown = [r for r in results if (r.engine, r.scenario, r.variant) in bad]
    print(terminal.render_matrix(shown, color) if shown else "no problems to show")
    problems = terminal.render_problems(results, args.max_details)
    if problems:
        print("\n" + problems)
    latency = terminal.render_latency(results)
    if latency:
        print("\n" + latency)
    print("\n" + terminal.render_summary(info, results, color))
    if not args.no_write:
        folder = args.output_dir / info.versions["fastapi"]
        json_report.write(folder / "results.json", info, results)
        junit.write(folder / "junit.xml", info, results)
        print(f"wrote {folder / 'results.json'} and {folder / 'junit.xml'}")
    failed = any(r.outcome.is_problem for r in results) or bool(session.scenario_set.errors)
    return 1 if failed else 0


def _list(args: argparse.Namespace) -> int:
    from .checks import registry
    from .engines import engine_names
    from .scenarios import load_scenarios
    from .variants import AXES, all_variants

    what = args.what
    if what in (None, "scenarios"):
        loaded = load_scenarios(args.scenarios_dir)
        print("scenarios:")
        for sc in loaded.scenarios.values():
            print(f"  {sc.name:<20} {len(sc.chunks):>4} {'str' if sc.is_text else 'bytes'} chunks, "
                  f"source={sc.source}, media_type={sc.media_type}  {sc.description}")
        for err in loaded.errors:
            print(f"  error: {err.message}")
    if what in (None, "checks"):
        print("checks:")
        for c in registry().values():
            print(f"  {c.name:<24} {c.claim:<38} {c.doc.splitlines()[0] if c.doc else ''}")
    if what in (None, "axes"):
        print("axes (select with --variant AXIS=VALUE):")
        for a in AXES:
            print(f"  {a.name:<11} {' | '.join(a.values):<28} {a.help}")
    if what == "variants":
        for v in all_variants():
            print(f"  {v.id:<34} {v.na_reason or ''}")
    if what in (None, "engines"):
        print("engines: " + ", ".join(engine_names()))
    return 0


SCAFFOLD = '''"""{name}: say in one sentence what this payload is and which promise of the page it stresses."""

from harness import scenario

{ident} = scenario(
    "{name}",
    description="What a reader of the matrix should know about this payload.",
    # The chunks, in order: all str or all bytes (the page allows no other type). Every variant
    # yields them; str ones are sent UTF-8 encoded, and a bytes-only payload makes the str axis n/a.
    chunks=[b"first chunk\\n", b"second chunk\\n", b"third chunk\\n"],
    # How the route gets them, inside its `with` block: "list" (an object iterated chunk by chunk)
    # or "file-like" (an in-memory file iterated line by line: then the chunks must be its lines).
    source="list",
    # The media_type of the StreamingResponse subclass the `subclass` variants use.
    media_type="application/octet-stream",
    # Optional: block_s=0.02 makes every read block (a blocking file read), for the latency checks;
    # checks=["chunk-order"] restricts the scenario to some checks; deadline_s bounds each request.
)
'''


def _new_scenario(args: argparse.Namespace) -> int:
    from .scenarios import NAME_PATTERN, load_scenarios

    if not NAME_PATTERN.match(args.name):
        raise UsageError(f"new-scenario {args.name!r}: expected a lower-case kebab-case name such as 'my-payload'")
    path = args.dir / f"{args.name.replace('-', '_')}.py"
    if path.exists():
        raise UsageError(f"{path} already exists: choose another name or edit that file")

    if args.dir.is_dir() and args.name in load_scenarios([args.dir]).scenarios:
        raise UsageError(f"a scenario named {args.name!r} already exists in {args.dir}")
    args.dir.mkdir(parents=True, exist_ok=True)
    from .reports import atomic_write

    atomic_write(path, SCAFFOLD.format(name=args.name, ident=args.name.replace("-", "_")).encode())
    print(f"wrote {path}\nrun it:  stream-harness run --scenario {args.name}"
          + ("" if args.dir == Path("scenarios") else f" --scenarios-dir {args.dir}"))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--debug"):
        argv.insert(0, "run")  # `stream-harness` alone, or with run's options, means `run`
    if argv[:1] == ["--debug"] and (len(argv) == 1 or argv[1].startswith("-")):
        argv.insert(1, "run")
    args = build_parser().parse_args(argv)
    try:
        if args.command == "new-scenario":
            return _new_scenario(args)
        return _list(args) if args.command == "list" else _run(args)
    except UsageError as exc:
        print(f"stream-harness: error: {exc}", file=sys.stderr)
        return 2
    except HarnessError as exc:
        if args.debug:
            raise
        print(f"stream-harness: harness error: {exc} (run with --debug for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
