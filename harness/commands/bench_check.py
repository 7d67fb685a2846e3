"""``stream-harness bench-check``: fail when a benchmark run is slower than a stored baseline, by ratio."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import command


def configure(parser: argparse.ArgumentParser) -> None:
    from ..bench.regress import DEFAULT_THRESHOLD

    parser.add_argument("run", type=Path, metavar="RUN_JSON", help="the benchmark JSON to judge")
    parser.add_argument("--baseline", type=Path, required=True, metavar="JSON",
                        help="the stored benchmark JSON to compare with (e.g. the last release's)")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, metavar="FACTOR",
                        help="fail when an app's ratio to the raw baseline grew by more than this factor "
                             f"(default {DEFAULT_THRESHOLD}, from the spread of repeated runs)")


@command("bench-check", "compare a benchmark run with a stored baseline by ratio; exit 1 on a regression",
         configure)
def bench_check(args: argparse.Namespace) -> int:
    from ..bench.regress import compare
    from ..bench.results import load_run
    from ..errors import UsageError

    if args.threshold <= 1.0:
        raise UsageError(f"--threshold {args.threshold}: expected a factor above 1 (1.25 = 25 % slower)")
    run, baseline = load_run(args.run), load_run(args.baseline)
    changes, unmatched = compare(run, baseline)
    if not changes:
        raise UsageError(f"{args.run} and {args.baseline} have no benchmark in common")
    print(f"run {args.run} (FastAPI {run.fastapi}) vs baseline {args.baseline} (FastAPI {baseline.fastapi}), "
          f"threshold {args.threshold:g}x")
    worse = [c for c in changes if c.factor > args.threshold]
    for c in sorted(changes, key=lambda c: -c.factor):
        mark = "REGRESSED" if c in worse else "ok"
        print(f"  {mark:<9} {c.workload + ' [' + c.engine + ']':<24} {c.key:<34} "
              f"{c.baseline_ratio:7.2f}x -> {c.ratio:7.2f}x  ({c.factor:.2f}x)")
    for line in unmatched:
        print(f"  note: {line}")
    print(f"{len(worse)} of {len(changes)} apps regressed past {args.threshold:g}x" if worse
          else f"no regression: {len(changes)} apps within {args.threshold:g}x of the baseline")
    return 1 if worse else 0
