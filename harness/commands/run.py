"""``stream-harness run``: the conformance matrix (the default command)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .. import expectations as expect, versions as environment
from ..app.attribute import attribute
from ..app.mount import PREFIX
from ..options import GateOptions, Selection, add_options
from ..outcomes import BARE, Outcome, RunInfo
from ..reports import gate as gate_report, store, terminal
from ..retry import flaky, retry_unexpected
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
    run.add_argument("--retry-unexpected", type=int, default=0, metavar="N",
                     help="retry each unexpected fail/error up to N times with a fresh engine; one that then "
                          "comes out as expected is listed as flaky and does not fail the gate (default: 0)")


def app_run_info(app) -> dict[str, object]:
    """The run header's ``app``: what the variants ran through, and its middleware outermost first."""
    if app is None:
        return {}
    return {**app.spec.to_json(), "kind": app.kind, "middleware": app.middleware,
            "stack": app.describe(), "prefix": PREFIX}


@command("run", "run the conformance matrix (the default command)", configure)
def run(args: argparse.Namespace) -> int:
    from ..session import open_session

    selection = Selection.from_values(lambda name: getattr(args, name, None))
    gate_options = GateOptions.from_values(lambda name: getattr(args, name, None))
    expectations_file = expect.find_file(gate_options.expectations, Path("."), disabled=gate_options.no_expectations)
    entries = expect.load(expectations_file) if expectations_file else []  # a bad file stops before any work
    t0 = time.monotonic()
    session = open_session(selection)
    for err in session.scenario_set.errors:
        print(f"error: {err.message}", file=sys.stderr)
    for name, why in session.skipped.items():
        print(f"skipped engine {name}: {why}", file=sys.stderr)
    results, engine_times = [], {}
    try:
        for name, target, runner in session.runs():
            t_engine, label = time.monotonic(), name if target == BARE else f"{name} via app"
            results += runner.run(session.cases, progress=terminal.Progress(sys.stderr, label))
            engine_times[label] = round(time.monotonic() - t_engine, 3)
        results = session.confirm_differences(results)  # through the app vs bare, timing: repeated
    finally:
        session.close()
    app_info = app_run_info(session.app)
    if session.app:  # each result through the app is compared with the same result bare
        results = attribute(results, environment.versions()["fastapi"], app_info["stack"])
    info = RunInfo(engines=session.engines, selection=selection.to_json(), app=app_info,
                               wall_time_s=time.monotonic() - t0, engine_times=engine_times,
                               skipped_engines=session.skipped,
                               load_errors=[{"file": e.file, "message": e.message}
                                            for e in session.scenario_set.errors],
                               expectations=str(expectations_file) if expectations_file else None)
    results = expect.annotate(results, entries, info.versions["fastapi"])
    if args.retry_unexpected > 0:
        results = retry_unexpected(session, results, args.retry_unexpected, entries, info.versions["fastapi"])
    verdict = expect.gate(results, strict=gate_options.strict)
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
    print(gate_report.render_gate(verdict, expectations_file, len(entries), flaky(results),
                                  load_errors=session.scenario_set.errors))
    if not args.no_write:
        print("wrote " + " and ".join(map(str, store.write_run(args.output_dir, info, results))))
    failed = not verdict.passed or bool(session.scenario_set.errors)
    return 1 if failed else 0


