"""``stream-harness list``: what can be selected (scenarios, checks, axes, variants, engines)."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import command


def configure(lst: argparse.ArgumentParser) -> None:
    lst.add_argument("what", nargs="?", choices=["scenarios", "checks", "axes", "variants", "engines"],
                     default=None)
    lst.add_argument("--scenarios-dir", action="append", type=Path, metavar="DIR")


@command("list", "list scenarios, checks, axes and engines", configure)
def list_(args: argparse.Namespace) -> int:
    from ..checks import registry
    from ..engines import engine_names
    from ..scenarios import load_scenarios
    from ..variants import AXES, all_variants

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


