"""The regression check: a run against a stored baseline, by ratio to the raw baseline, not by time.

An app regressed when its ratio grew by more than ``threshold`` (a factor) over the baseline's ratio
for the same workload and engine. Ratios cancel the machine: a baseline stored on one machine judges
a run on another. The default threshold is chosen from the spread measured across repeated runs
(see the README's "Benchmarks" section and ``reports/bench/report.md``, "Stability").
"""

from __future__ import annotations

from dataclasses import dataclass

from .apps import RAW
from .results import Run, rows

__all__ = ["Change", "compare", "DEFAULT_THRESHOLD"]

# Worst ratio CV across repeated runs measured on the shared 2-core machine was ~5.5 % (time to first
# byte over uvicorn); the per-chunk and throughput ratios stayed under ~4 %. A change of 1.25x is more
# than four times the worst CV: a real slowdown of a quarter is caught, noise is not reported.
DEFAULT_THRESHOLD = 1.25


@dataclass(frozen=True)
class Change:
    workload: str
    engine: str
    key: str
    baseline_ratio: float
    ratio: float

    @property
    def factor(self) -> float:
        return self.ratio / self.baseline_ratio


def compare(run: Run, baseline: Run) -> tuple[list[Change], list[str]]:
    """Every app in both runs (raw excluded: it is 1 by definition), and what only one of them has."""
    mine, theirs = rows(run), rows(baseline)
    changes, unmatched = [], []
    for group in sorted(set(mine) | set(theirs)):
        a = {r.measure.key: r for r in mine.get(group, [])}
        b = {r.measure.key: r for r in theirs.get(group, [])}
        for key in sorted(set(a) | set(b)):
            if key == RAW:
                continue
            if key in a and key in b:
                changes.append(Change(group[0], group[1], key, b[key].ratio, a[key].ratio))
            else:
                unmatched.append(f"{group[0]} [{group[1]}] {key}: only in the {'run' if key in a else 'baseline'}")
    return changes, unmatched
