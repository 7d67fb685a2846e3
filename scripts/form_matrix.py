"""Outcome counts per form, check and engine, from results files: the matrix a closing note or a
release review quotes ("the three forms on 0.134.0, 0.135.0 and the latest, on every engine").

    python scripts/form_matrix.py reports/runs/0.165.0/latest/results.json [more results.json ...]
    python scripts/form_matrix.py --checks status-code,cancellable RESULTS...   # some checks only

One Markdown table per FastAPI version: a row per (form, check), a column per engine, each cell the
counts of the outcomes seen (``n/a`` left out: it says what does not apply, not what happened).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

ORDER = ("pass", "non-strict", "fail", "error", "unsupported", "informational")
SHORT = {"non-strict": "ns", "unsupported": "unsup", "informational": "info"}


def _cell(counts: Counter) -> str:
    return " ".join(f"{SHORT.get(o, o)} {counts[o]}" for o in ORDER if counts[o]) or "n/a"


def matrix(paths: list[Path], checks: set[str] | None) -> str:
    by_version: dict[str, dict[tuple[str, str], dict[str, Counter]]] = defaultdict(lambda: defaultdict(dict))
    engines: dict[str, set[str]] = defaultdict(set)
    for path in paths:
        try:
            data = json.loads(path.read_text())
            version = data["run"]["versions"]["fastapi"]
            results = data["results"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SystemExit(f"{path}: not a results.json of `stream-harness run` ({exc!r})")
        for r in results:
            if checks and r["check"] not in checks:
                continue
            row = (r.get("axes", {}).get("form", "raw"), r["check"])
            engines[version].add(r["engine"])
            by_version[version][row].setdefault(r["engine"], Counter())[r["outcome"]] += 1
    out = []
    for version in sorted(by_version, key=lambda v: tuple(int(p) if p.isdigit() else 0 for p in v.split("."))):
        cols = sorted(engines[version], key=lambda e: (e != "asgi", e))
        out += [f"FastAPI {version}", "", "| form | check | " + " | ".join(cols) + " |",
                "| --- | --- | " + " | ".join("---" for _ in cols) + " |"]
        for (form, check), cells in sorted(by_version[version].items()):
            if all(set(c) <= {"n/a"} for c in cells.values()):
                continue
            out.append(f"| {form} | {check} | " + " | ".join(_cell(cells.get(e, Counter())) for e in cols) + " |")
        out.append("")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", type=Path)
    parser.add_argument("--checks", default="", help="comma-separated check names (default: every check)")
    args = parser.parse_args(argv)
    print(matrix(args.results, {c for c in args.checks.split(",") if c} or None))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
