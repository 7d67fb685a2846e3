"""``stream-harness bench-check``: fail when benchmark runs are slower than stored baselines, by ratio."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import command


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN_JSON",
                        help="the benchmark JSON to judge; several runs: each app's best ratio over them")
    parser.add_argument("--baseline", type=Path, action="append", required=True, metavar="JSON",
                        help="a stored benchmark JSON to compare with (repeat for several runs)")
    parser.add_argument("--threshold", type=float, default=None, metavar="FACTOR",
                        help="fail when an app's ratio to the raw baseline grew by more than this factor "
                             "(default: per workload, chosen from the measured spread; see the README)")


@command("bench-check", "compare benchmark runs with stored baselines by ratio; exit 1 on a regression",
         configure)
def bench_check(args: argparse.Namespace) -> int:
    from ..bench.regress import compare, over_ceiling
    from ..bench.results import load_run
    from ..errors import UsageError

    if args.threshold is not None and args.threshold <= 1.0:
        raise UsageError(f"--threshold {args.threshold}: expected a factor above 1 (1.25 = 25 % slower)")
    runs, baselines = [load_run(p) for p in args.runs], [load_run(p) for p in args.baseline]
    changes, unmatched = compare(runs, baselines, args.threshold)
    if not changes:
        raise UsageError(f"{', '.join(map(str, args.runs))} and {', '.join(map(str, args.baseline))} "
                         "have no benchmark in common")
    versions = lambda rs: ", ".join(sorted({r.fastapi for r in rs}))  # noqa: E731
    print(f"{len(runs)} run(s) (FastAPI {versions(runs)}) vs {len(baselines)} baseline run(s) "
          f"(FastAPI {versions(baselines)}); best ratio to the raw baseline per app")
    worse = [c for c in changes if c.regressed]
    breaches = over_ceiling(runs)
    for c in sorted(changes, key=lambda c: -c.factor / c.threshold):
        print(f"  {'REGRESSED' if c.regressed else 'ok':<9} {c.workload + ' [' + c.engine + ']':<24} {c.key:<34} "
              f"{c.baseline_ratio:7.2f}x -> {c.ratio:7.2f}x  ({c.factor:.2f}x, threshold {c.threshold:g}x)")
    for b in breaches:
        print(f"  {'OVER':<9} {b.workload + ' [' + b.engine + ']':<24} {b.key:<34} {b.ratio:7.2f}x "
              f"over its {b.ceiling:g}x ceiling (a goal, whatever the baseline)")
    for line in unmatched:
        print(f"  note: {line}")
    print(f"{len(worse)} of {len(changes)} apps regressed past their threshold" if worse
          else f"no regression: {len(changes)} apps within their thresholds")
    if breaches:
        print(f"{len(breaches)} app(s) over their workload's ceiling")
    return 1 if worse or breaches else 0
