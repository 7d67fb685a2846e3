"""Outcomes and results: the verdict records every later stage reads."""

from __future__ import annotations

import enum
import platform
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone

from .installed import versions

__all__ = ["Outcome", "Result", "RunInfo", "BARE"]

BARE = "bare"  # Result.app of a variant served by its own small FastAPI app, not through a team's app


class Outcome(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    NON_STRICT = "non-strict"  # holds only with help (a GC, merged chunk boundaries)
    UNSUPPORTED = "unsupported"  # the installed FastAPI lacks the feature
    NA = "n/a"  # the point does not exist (async + yield from) or the check does not apply
    INFORMATIONAL = "informational"  # measured, no verdict
    ERROR = "error"  # the harness or the engine broke: never hidden

    @property
    def is_problem(self) -> bool:
        """Outcomes that make a run exit non-zero."""
        return self in (Outcome.FAIL, Outcome.ERROR)

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]

    @property
    def severity(self) -> int:
        """Order for combining several verdicts of one result into one (modes of a check): the worst
        wins, and a measured pass outranks a mode that could not apply (n/a)."""
        return _SEVERITY.index(self)

    @property
    def rank(self) -> int:
        """How bad a *change* of one result is, for comparing runs (``stream-harness compare``):
        ``pass < informational = n/a < non-strict < unsupported < fail < error`` (a check that stopped
        applying, or a feature that went missing, is worse than a pass). ``severity`` is the order for
        combining outcomes into one (modes of a check, a matrix cell), where a pass outranks an n/a."""
        return _RANK[self]


_SYMBOLS = {
    Outcome.PASS: ".",
    Outcome.FAIL: "F",
    Outcome.NON_STRICT: "~",
    Outcome.UNSUPPORTED: "U",
    Outcome.NA: "-",
    Outcome.INFORMATIONAL: "i",
    Outcome.ERROR: "E",
}


_RANK = {Outcome.PASS: 0, Outcome.INFORMATIONAL: 1, Outcome.NA: 1, Outcome.NON_STRICT: 2, Outcome.UNSUPPORTED: 3,
         Outcome.FAIL: 4, Outcome.ERROR: 5}

_SEVERITY = [Outcome.NA, Outcome.UNSUPPORTED, Outcome.INFORMATIONAL, Outcome.PASS, Outcome.NON_STRICT,
             Outcome.FAIL, Outcome.ERROR]


@dataclass(frozen=True, slots=True)
class Result:
    """One verdict: a check on one scenario x variant x engine. Slotted: a run of every engine holds
    158 000 of them until its end, and each instance dict was one more object for every full
    collection of the harness's heap to walk."""

    scenario: str
    variant: str
    axes: dict[str, str]
    engine: str
    check: str
    claim: str
    outcome: Outcome
    detail: str = ""
    duration_s: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)
    app: str = "bare"  # the app it ran through: "bare" (the harness's own small app per variant) or --app's value
    # set by harness.expectations.annotate: the recorded outcome of the matching entry (None: no entry)
    # and that entry's reason, link, intermittent outcomes and file:line. Absent from older results files.
    expected: str | None = None
    expectation: dict[str, object] | None = None

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.scenario, self.variant, self.engine, self.check, self.app)

    def to_json(self) -> dict[str, object]:
        """Its fields by name, shallow (``asdict`` deep-copies every nested dict: a run of every engine
        has 158 000 results, and the copies were seconds of the run's end)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["outcome"] = self.outcome.value
        data["duration_s"] = round(self.duration_s, 6)
        return data


@dataclass
class RunInfo:
    """The header of a results file: what ran, where, with what."""

    engines: list[str]
    selection: dict[str, object]
    versions: dict[str, str] = field(default_factory=versions)
    platform: str = field(default_factory=platform.platform)
    started: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    wall_time_s: float = 0.0
    engine_times: dict[str, float] = field(default_factory=dict)
    # where the time went: {"engines"|"scenarios": {name: {"total_s", "requests_s"}}} (Session.time_spent)
    timing: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    skipped_engines: dict[str, str] = field(default_factory=dict)
    load_errors: list[dict[str, str]] = field(default_factory=list)
    app: dict[str, object] = field(default_factory=dict)  # --app: what it is and its middleware, outermost first
    expectations: str | None = None  # the expectations file the results were judged against
    scenario_folders: list[str] = field(default_factory=list)  # where the scenarios came from, built-ins first

    def __post_init__(self) -> None:
        if not self.scenario_folders and "scenarios_dirs" in self.selection:  # read from the selection
            from .scenarios import builtin_dir
            builtin = [str(builtin_dir())] if self.selection.get("builtin_scenarios", True) else []
            self.scenario_folders = builtin + [str(d) for d in self.selection["scenarios_dirs"]]
