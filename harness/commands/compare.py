"""``stream-harness compare A B``: what changed between two runs; exit 1 when something got worse."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import command


def configure(cmp: argparse.ArgumentParser) -> None:
    cmp.add_argument("a", type=Path, metavar="A", help="the baseline: a results.json (or a folder of one run's shards)")
    cmp.add_argument("b", type=Path, metavar="B", help="the run to judge against it")
    cmp.add_argument("--format", choices=["text", "md", "json"], default="text",
                     help="text (default), md (for a PR comment) or json")
    cmp.add_argument("--missing-is-worse", action="store_true",
                     help="count results present in A but missing from B as worse (B lost coverage)")
    cmp.add_argument("--limit", type=int, default=50, metavar="N",
                     help="list at most N results per section in text and md (0: all; default: 50)")


@command("compare", "what changed between two runs (exit 1 when an outcome got worse)", configure)
def compare_(args: argparse.Namespace) -> int:
    from ..reports.compare import compare, load_side, render_markdown, render_text, to_json

    a, b = load_side("A", args.a), load_side("B", args.b)
    for side in (a, b):
        for c in side.merged.conflicts:
            print(f"warning: {side.label}: conflicting records of [{c.first.engine}] {c.first.scenario} / "
                  f"{c.first.variant} / {c.first.check}: {c.first.outcome.value} vs {c.second.outcome.value} "
                  f"(the worse is compared)", file=sys.stderr)
    result = compare(a, b, missing_is_worse=args.missing_is_worse)
    limit = args.limit if args.limit > 0 else 1 << 62
    if args.format == "json":
        print(json.dumps(to_json(result), indent=1))
    elif args.format == "md":
        print(render_markdown(result, limit), end="")
    else:
        print(render_text(result, limit))
    return result.exit_code
