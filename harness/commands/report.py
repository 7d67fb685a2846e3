"""``stream-harness report [PATHS...]``: merge results files of many FastAPI versions into one report.

By default it reads the published results (``reports/<version>/results.json[.gz]``; a user's own runs
under ``reports/runs/`` only when named) and writes to ``reports/merged/``: the published
``reports/report.md`` and ``report.html`` are rewritten only with ``--publish``. Progress goes to
stderr. It exits 0 once the reports are written, whatever they show: the gates are ``run`` (this
version) and ``compare`` (this run against a baseline); 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..errors import UsageError
from ..reports.store import MERGED, RUNS
from . import command

FORMATS = {"md": "report.md", "html": "report.html", "junit": "report.xml"}
PUBLISHED = Path("reports")  # the repository's published results and report.md / report.html
PUBLISHED_FORMATS = "md,html"
DEFAULT_TITLE = "FastAPI Stream Data conformance across releases"


def configure(rep: argparse.ArgumentParser) -> None:
    rep.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                     help=f"results.json files, or folders searched recursively for them (default: {PUBLISHED}, "
                          f"the published results; a folder's {RUNS}/ store is read only when named, and then "
                          "its latest run of each version)")
    rep.add_argument("--output-dir", type=Path, default=None, metavar="DIR",
                     help=f"write report.md, report.html and report.xml here (default: {PUBLISHED / MERGED})")
    rep.add_argument("--publish", action="store_true",
                     help=f"rewrite the published {PUBLISHED}/report.md and report.html (tracked files) "
                          f"instead of writing to {PUBLISHED / MERGED}")
    rep.add_argument("--format", default=None, metavar="LIST",
                     help=f"comma-separated: md, html, junit (default: all three; {PUBLISHED_FORMATS} with --publish)")
    rep.add_argument("--title", default=DEFAULT_TITLE, help=f"the reports' title (default: {DEFAULT_TITLE!r})")
    rep.add_argument("--max-details", type=int, default=30, metavar="N",
                     help="list at most N problems and conflicts in report.md (default: 30)")
    rep.add_argument("--quiet", action="store_true", help="no progress on stderr")


def parse_formats(text: str) -> list[str]:
    names = [p.strip() for p in text.split(",") if p.strip()]
    bad = [n for n in names if n not in FORMATS]
    if bad or not names:
        raise UsageError(f"--format {text!r}: expected a comma-separated list of {', '.join(FORMATS)}")
    return list(dict.fromkeys(names))


class _Progress:
    """Progress of a long report on stderr: one line per file read (in place on a terminal), then
    one per step."""

    def __init__(self, quiet: bool) -> None:
        self.quiet, self.tty, self.t0 = quiet, sys.stderr.isatty(), time.monotonic()

    def file(self, i: int, n: int, path: Path) -> None:
        if self.quiet:
            return
        text = f"[{i:>3}/{n}] reading {path}"
        if self.tty:
            sys.stderr.write("\r\x1b[K" + text + ("\n" if i == n else ""))
        elif i == 1 or i == n or i % 10 == 0:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def step(self, text: str) -> None:
        if not self.quiet:
            print(f"{text} ({time.monotonic() - self.t0:.1f} s)", file=sys.stderr, flush=True)


@command("report", "merge results files of several FastAPI versions into Markdown, HTML and JUnit reports",
         configure)
def report(args: argparse.Namespace) -> int:
    from ..reports import html, junit, markdown
    from ..reports.merge import merge

    if args.publish and args.output_dir is not None:
        raise UsageError("--publish rewrites the published reports in reports/; it takes no --output-dir")
    output_dir = PUBLISHED if args.publish else (args.output_dir or PUBLISHED / MERGED)
    formats = parse_formats(args.format or (PUBLISHED_FORMATS if args.publish else ",".join(FORMATS)))
    progress = _Progress(args.quiet)
    merged = merge(args.paths or [PUBLISHED], progress=progress.file)
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
    progress.step("merged; finding the changes along the releases")
    changes = merged.changes()
    written = []
    for fmt in formats:
        path = output_dir / FORMATS[fmt]
        progress.step(f"writing {path}")
        if fmt == "md":
            markdown.write(path, merged, args.title, args.max_details)
        elif fmt == "html":
            html.write(path, merged, args.title)
        else:
            junit.write_merged(path, merged)
        written.append(str(path))
    print(f"{len(changes)} change(s) along the releases, {len(merged.problems())} problem(s), "
          f"{len(merged.conflicts)} conflict(s)")
    print("wrote " + ", ".join(written))
    return 0
