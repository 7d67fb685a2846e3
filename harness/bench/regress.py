"""The regression check: runs against stored baseline runs, by ratio to the raw baseline, not by time.

An app regressed when its ratio grew by more than the threshold (a factor) over the baseline's ratio
for the same workload and engine. Ratios cancel the machine: a baseline stored on one machine judges
a run on another. Several runs on either side are combined by taking each app's best (lowest) ratio
over them (its fastest round over all runs against raw's, ``results.best_ratio``): noise only adds
time, so a run disturbed by another process cannot raise an alarm while another run of the same
code was undisturbed.

The thresholds are chosen from the spread measured on a shared, noisy 2-core machine: six runs of
one FastAPI version, every split into three runs against the other three (20 splits x every app);
each threshold sits above the largest best-of-three change seen between runs of the same code
(chunk-overhead 1.45, throughput in-process 1.22, over uvicorn 2.12, first byte 1.12 and 1.11;
see the README's "Benchmarks" section). Over uvicorn, throughput puts three busy threads of two
processes on two shared cores, and its threshold only catches a gross slowdown.
"""

from __future__ import annotations

from dataclasses import dataclass

from .apps import RAW
from .results import Row, Run, best_ratio, rows

__all__ = ["Change", "Breach", "compare", "best_ratios", "over_ceiling", "CEILINGS", "DEFAULT_THRESHOLDS",
           "FALLBACK_THRESHOLD", "threshold_for"]

DEFAULT_THRESHOLDS: dict[tuple[str, str], float] = {
    ("chunk-overhead", "asgi"): 1.5,
    ("throughput", "asgi"): 1.3,
    ("throughput", "uvicorn"): 2.5,
    ("ttfb", "asgi"): 1.2,
    ("ttfb", "uvicorn"): 1.2,
}
FALLBACK_THRESHOLD = 1.5  # a workload without a measured spread
# A ratio some workloads must stay under whatever the baseline says: a goal, not a drift. ``red-run``
# is a run on a mutant framework against the green run of the same selection (issue 14: a gate is
# used on the day something breaks, so a red run may cost at most 1.5x a green one).
CEILINGS: dict[tuple[str, str], float] = {
    ("red-run", "asgi"): 1.5,
}


def threshold_for(workload: str, engine: str, override: float | None = None) -> float:
    return override if override is not None else DEFAULT_THRESHOLDS.get((workload, engine), FALLBACK_THRESHOLD)


@dataclass(frozen=True)
class Change:
    workload: str
    engine: str
    key: str
    baseline_ratio: float
    ratio: float
    threshold: float

    @property
    def factor(self) -> float:
        return self.ratio / self.baseline_ratio

    @property
    def regressed(self) -> bool:
        return self.factor > self.threshold


@dataclass(frozen=True)
class Breach:
    """An app whose ratio is over its workload's ceiling (baseline or not)."""

    workload: str
    engine: str
    key: str
    ratio: float
    ceiling: float


def over_ceiling(runs: list[Run]) -> list[Breach]:
    """Every app of the runs, by its best ratio, that is over its workload's ceiling."""
    return [Breach(w, e, k, ratio, CEILINGS[(w, e)]) for (w, e, k), ratio in sorted(best_ratios(runs).items())
            if (w, e) in CEILINGS and ratio > CEILINGS[(w, e)]]


def best_ratios(runs: list[Run]) -> dict[tuple[str, str, str], float]:
    """(workload, engine, app) -> the app's best ratio over the runs that have it (raw left out)."""
    seen: dict[tuple[str, str, str], list[Row]] = {}
    for run in runs:
        for (workload, engine), group in rows(run).items():
            for row in group:
                if row.measure.key != RAW:
                    seen.setdefault((workload, engine, row.measure.key), []).append(row)
    return {key: best_ratio(same_app) for key, same_app in seen.items()}


def compare(runs: list[Run], baselines: list[Run], override: float | None = None) -> tuple[list[Change], list[str]]:
    """Every app in both sides, and a note for each app only one side has."""
    mine, theirs = best_ratios(runs), best_ratios(baselines)
    changes = [Change(*key, theirs[key], mine[key], threshold_for(key[0], key[1], override))
               for key in sorted(set(mine) & set(theirs))]
    unmatched = [f"{w} [{e}] {k}: only in the {'run' if (w, e, k) in mine else 'baseline'}"
                 for w, e, k in sorted(set(mine) ^ set(theirs))]
    return changes, unmatched
