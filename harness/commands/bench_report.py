"""``stream-harness bench-report``: Markdown tables and SVG plots from benchmark JSON (``tox -e bench``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import command

DEFAULT_DIR = Path("reports/bench")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="*", type=Path, metavar="JSON",
                        help=f"pytest-benchmark JSON files or folders of them (default: {DEFAULT_DIR}/*.json); "
                             "several FastAPI versions are compared, several runs of one version give the spread")
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_DIR, metavar="DIR",
                        help=f"where report.md and the SVG plots go (default: {DEFAULT_DIR})")


@command("bench-report", "turn benchmark JSON of one or more FastAPI versions into Markdown and SVG plots",
         configure)
def bench_report(args: argparse.Namespace) -> int:
    from ..bench.report import write_report
    from ..bench.results import load_runs

    runs = load_runs(args.inputs or [DEFAULT_DIR])
    for path in write_report(runs, args.output_dir):
        print(f"wrote {path}")
    return 0
