"""``stream-harness run``: the conformance matrix (the default command)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .. import environment
from ..options import Selection, add_options
from ..outcomes import Outcome
from ..reports import json as json_report, junit, terminal
from . import command


def configure(run: argparse.ArgumentParser) -> None:
    add_options(run.add_argument)
    run.add_argument("--output-dir", type=Path, default=Path("reports"), metavar="DIR",
                     help="write DIR/<fastapi-version>/results.json and junit.xml (default: reports)")
    run.add_argument("--no-write", action="store_true", help="write no report files")
    run.add_argument("--problems-only", action="store_true",
                     help="print only matrix rows that hold a fail, error or non-strict outcome")
    run.add_argument("--max-details", type=int, default=20, metavar="N",
                     help="print the details of at most N problems (default: 20)")


@command("run", "run the conformance matrix (the default command)", configure)
def run(args: argparse.Namespace) -> int:
    from ..session import open_session

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
    failed = any(r.is_unexpected_problem for r in results) or bool(session.scenario_set.errors)
    return 1 if failed else 0


