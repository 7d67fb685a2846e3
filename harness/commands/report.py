"""``stream-harness report [PATHS...]``: merge results files of many FastAPI versions into one report.

It exits 0 once the reports are written, whatever they show: the gates are ``run`` (this version)
and ``compare`` (this run against a baseline); 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import UsageError
from . import command

FORMATS = {"md": "report.md", "html": "report.html", "junit": "report.xml"}
DEFAULT_TITLE = "FastAPI Stream Data conformance across releases"


def configure(rep: argparse.ArgumentParser) -> None:
    rep.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                     help="results.json files, or folders searched recursively for them (default: reports)")
    rep.add_argument("--output-dir", type=Path, default=Path("reports"), metavar="DIR",
                     help="write report.md, report.html and report.xml here (default: reports)")
    rep.add_argument("--format", default="md,html,junit", metavar="LIST",
                     help="comma-separated: md, html, junit (default: all three)")
    rep.add_argument("--title", default=DEFAULT_TITLE, help=f"the reports' title (default: {DEFAULT_TITLE!r})")
    rep.add_argument("--max-details", type=int, default=30, metavar="N",
                     help="list at most N problems and conflicts in report.md (default: 30)")


def parse_formats(text: str) -> list[str]:
    names = [p.strip() for p in text.split(",") if p.strip()]
    bad = [n for n in names if n not in FORMATS]
    if bad or not names:
        raise UsageError(f"--format {text!r}: expected a comma-separated list of {', '.join(FORMATS)}")
    return list(dict.fromkeys(names))


@command("report", "merge results files of several FastAPI versions into Markdown, HTML and JUnit reports",
         configure)
def report(args: argparse.Namespace) -> int:
    from ..reports import html, junit, markdown
    from ..reports.merge import merge

    formats = parse_formats(args.format)
    merged = merge(args.paths or [Path("reports")])
    n = sum(len(merged.results[v]) for v in merged.versions)
    print(f"merged {n} results from {len(merged.files)} file(s): FastAPI {', '.join(merged.versions)}"
          + (f" ({merged.duplicates} duplicate record(s) with the same outcome)" if merged.duplicates else ""))
    for c in merged.conflicts[:args.max_details]:
        r = c.first
        print(f"conflict: FastAPI {c.version} [{r.engine}] {r.scenario} / {r.variant} / {r.check}: "
              f"{c.first.outcome.value} in {c.first_from} vs {c.second.outcome.value} in {c.second_from}",
              file=sys.stderr)
    if len(merged.conflicts) > args.max_details:
        print(f"... and {len(merged.conflicts) - args.max_details} more conflict(s): all are in the reports",
              file=sys.stderr)
    written = []
    for fmt in formats:
        path = args.output_dir / FORMATS[fmt]
        if fmt == "md":
            markdown.write(path, merged, args.title, args.max_details)
        elif fmt == "html":
            html.write(path, merged, args.title)
        else:
            junit.write_merged(path, merged)
        written.append(str(path))
    changes = merged.changes()
    print(f"{len(changes)} change(s) along the releases, {len(merged.problems())} problem(s), "
          f"{len(merged.conflicts)} conflict(s)")
    print("wrote " + ", ".join(written))
    return 0
