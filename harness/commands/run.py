"""``stream-harness run``: the conformance matrix (the default command)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .. import expectations as expect
from ..options import GateOptions, Selection, add_options
from ..outcomes import BARE, Outcome
from ..reports import gate as gate_report, terminal
from . import command


def configure(run: argparse.ArgumentParser) -> None:
    add_options(run.add_argument)
    run.add_argument("--output-dir", type=Path, default=Path("reports"), metavar="DIR",
                     help="write results.json and junit.xml into a new folder DIR/runs/<fastapi-version>/<run>/, "
                          "DIR/runs/<fastapi-version>/latest pointing to it (default: reports)")
    run.add_argument("--no-write", action="store_true", help="write no report files")
    run.add_argument("--problems-only", action="store_true",
                     help="print only matrix rows that hold a fail, error or non-strict outcome")
    run.add_argument("--show-all", action="store_true",
                     help="show every matrix row and column, also those whose results are all n/a")
    run.add_argument("--max-details", type=int, default=20, metavar="N",
                     help="print the details of at most N problems (default: 20)")
    run.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                     help="show tracebacks (of harness errors, and of what a broken --app raised)")


@command("run", "run the conformance matrix (the default command)", configure)
def run(args: argparse.Namespace) -> int:
    """A thin front end over the session: print progress, the matrix, problems, the gate; write."""
    from ..session import flaky, open_session

    selection = Selection.from_values(lambda name: getattr(args, name, None))
    gate_options = GateOptions.from_values(lambda name: getattr(args, name, None))
    t0 = time.monotonic()
    session = open_session(selection, gate_options)
    for err in session.scenario_set.errors:
        print(f"error: {err.message}", file=sys.stderr)
    for name, why in session.skipped.items():
        print(f"skipped engine {name}: {why}", file=sys.stderr)
    results, engine_times = session.run(progress=lambda label: terminal.Progress(sys.stderr, label))
    info = session.header(time.monotonic() - t0, engine_times)
    verdict = session.verdict(results)
    color = terminal.use_color(sys.stdout)
    shown = results
    if args.problems_only:
        bad = {(r.engine, r.scenario, r.variant) for r in results
               if r.outcome.is_problem or r.outcome is Outcome.NON_STRICT}
        shown = [r for r in results if (r.engine, r.scenario, r.variant) in bad]
    if session.app:  # the team reads its app's matrix; bare is its baseline (in results.json)
        shown = [r for r in shown if r.app != BARE]
    print(terminal.render_matrix(shown, color, show_all=args.show_all) if shown else "no problems to show")
    unexpected = verdict.by_status[expect.Status.UNEXPECTED]
    problems = terminal.render_problems([r for r in unexpected if r.app != BARE] if session.app else unexpected,
                                        args.max_details)
    if problems:
        print("\n" + problems)
    latency = terminal.render_latency(results)
    if latency:
        print("\n" + latency)
    if session.app:
        print("\n" + terminal.render_attribution(info, results))
    print("\n" + terminal.render_summary(info, results, color))
    print(gate_report.render_gate(verdict, session.expectations_file, len(session.file_entries), flaky(results),
                                  load_errors=session.scenario_set.errors))
    if not args.no_write:
        print("wrote " + " and ".join(map(str, session.write(args.output_dir, info, results))))
    return 0 if session.passed(results) else 1
