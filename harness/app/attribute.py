"""Attribution: is a problem seen through a team's app theirs, or FastAPI's?

Each result through the app is compared with the same scenario x variant x engine x check run bare
in the same run. Worse through the app than bare: the team's stack (the detail lists its
middleware, outermost first, where to look). The same problem bare: FastAPI's (or the server's),
not the stack's. Better through the app: the stack fixes something (said, never hidden).
A check that applies on one side only (``n/a`` bare, ``fail`` through the app) is a difference too.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass

from ..outcomes import BARE, Outcome, Result

__all__ = ["APP", "FASTAPI", "APP_HELPS", "attribute", "attribute_one", "across_engines", "summary_lines", "AppRun"]

APP = "app"  # worse through the app than bare: the team's stack
FASTAPI = "fastapi"  # the same problem bare too
APP_HELPS = "app-helps"  # better through the app than bare (bare has it, through the app it is gone)
_PROBLEMS = (Outcome.NON_STRICT, Outcome.FAIL, Outcome.ERROR)


def _verb(outcome: Outcome) -> str:
    return {Outcome.PASS: "holds", Outcome.NON_STRICT: "is non-strict", Outcome.FAIL: "fails",
            Outcome.ERROR: "errors", Outcome.NA: "does not apply", Outcome.UNSUPPORTED: "is unsupported",
            Outcome.INFORMATIONAL: "is informational"}[outcome]


def classify(through: Outcome, bare: Outcome | None) -> str | None:
    """Who a difference belongs to. Every difference of outcome is attributed, a check that does not
    apply on one side included (``n/a`` bare, ``fail`` through the app is the app's): the matrix and
    the summary never disagree. Worse is :attr:`Outcome.rank` order."""
    if bare is None:
        return None
    if through is bare:
        return FASTAPI if through in _PROBLEMS else None
    return APP if through.rank > bare.rank else APP_HELPS


def attribute_one(result: Result, bare: Result | None, fastapi_version: str, stack: str) -> Result:
    """``result`` (through the app) with the comparison added to its detail and ``extra``."""
    who = classify(result.outcome, bare.outcome if bare else None)
    if who is None or result.extra.get("unconfirmed"):  # a difference that did not repeat is not attributed
        return result
    assert bare is not None
    base = f"bare FastAPI {fastapi_version}"
    if who == APP:
        line = (f"{_verb(bare.outcome)} on {base}, {_verb(result.outcome).replace('is ', '')} through your app: "
                f"the difference is in your stack ({stack})")
    elif who == APP_HELPS:
        line = f"{_verb(bare.outcome)} on {base}, {_verb(result.outcome)} through your app ({stack})"
    else:
        line = f"{_verb(bare.outcome)} on {base} too: FastAPI's (or the server's), not your stack's"
    if who != FASTAPI and bare.outcome in (Outcome.NA, Outcome.UNSUPPORTED) and bare.detail:
        line += f"; bare: {bare.detail.splitlines()[0]}"
    if who != FASTAPI and result.extra.get("repeated"):
        line += "; the same on a repeat"
    extra = {**result.extra, "bare_outcome": bare.outcome.value, "attributed_to": who}
    return dataclasses.replace(result, detail=f"{result.detail}\n[{line}]" if result.detail else f"[{line}]",
                               extra=extra)


def attribute(results: list[Result], fastapi_version: str, stack: str) -> list[Result]:
    """Every result through an app gets its comparison with the bare result of the same run."""
    bare = {(r.scenario, r.variant, r.engine, r.check): r for r in results if r.app == BARE}
    return [r if r.app == BARE else attribute_one(r, bare.get((r.scenario, r.variant, r.engine, r.check)),
                                                  fastapi_version, stack) for r in results]


_BY_ENGINE = "the same stack differs by engine"


def across_engines(results: list[Result]) -> list[Result]:
    """One cause, one verdict, or a detail that says why not: where the same variant and check through
    the app comes out differently on two engines and the difference is the stack's on one of them
    (a buffering middleware is ``fail`` in-process and ``n/a`` on a server that never got to cut the
    stream), each such result says what every engine saw, with its first line of detail, side by side."""
    groups: dict[tuple[str, str, str, str], list[Result]] = defaultdict(list)
    for r in results:
        if r.app != BARE:
            groups[(r.app, r.scenario, r.variant, r.check)].append(r)
    notes: dict[tuple, str] = {}
    for rs in groups.values():
        if len({r.outcome for r in rs}) < 2 or not any(r.extra.get("attributed_to") == APP for r in rs):
            continue
        if any(_BY_ENGINE in r.detail for r in rs):
            continue  # already said (the same results written after they were printed)
        seen = "; ".join(f"{r.engine}: {r.outcome.value} ({(r.detail.splitlines() or [''])[0][:100]})" for r in rs)
        for r in rs:
            notes[r.key] = f"[{_BY_ENGINE}, each engine sees the cause its own way: {seen}]"
    return [dataclasses.replace(r, detail=f"{r.detail}\n{notes[r.key]}" if r.detail else notes[r.key])
            if r.key in notes else r for r in results]


def summary_lines(results: list[Result], fastapi_version: str) -> list[str]:
    """Per engine and check, how many variants differ through the app, and which way."""
    groups: dict[tuple[str, str, str, str, str], list[Result]] = defaultdict(list)
    for r in results:
        who = r.extra.get("attributed_to") if r.app != BARE else None
        if who:
            groups[(r.engine, r.check, str(who), str(r.extra["bare_outcome"]), r.outcome.value)].append(r)
    lines = []
    order = {APP: 0, FASTAPI: 1, APP_HELPS: 2}
    for (engine, check, who, bare, through), rs in sorted(groups.items(), key=lambda kv: (order[kv[0][2]], kv[0])):
        scenarios = ", ".join(dict.fromkeys(r.scenario for r in rs))
        b, t = _verb(Outcome(bare)), _verb(Outcome(through)).replace("is ", "")
        if who == APP:
            what = f"{b} on bare FastAPI {fastapi_version}, {t} through your app: your stack"
        elif who == FASTAPI:
            what = f"{b} on bare FastAPI {fastapi_version} too: FastAPI's or the server's, not your stack's"
        else:
            what = f"{b} on bare FastAPI {fastapi_version}, {_verb(Outcome(through))} through your app"
        lines.append(f"  {check} [{engine}]: {what} ({len(rs)} cases: {scenarios})")
    return lines


@dataclass
class AppRun:
    """What the pytest fixture hands a test: every result of the run, through the app and bare."""

    app: str
    middleware: list[str]
    results: list[Result]

    @property
    def through_app(self) -> list[Result]:
        return [r for r in self.results if r.app != BARE]

    @property
    def bare(self) -> list[Result]:
        return [r for r in self.results if r.app == BARE]

    def select(self, *, check: str | None = None, outcome: Outcome | str | None = None,
               attributed_to: str | None = None, engine: str | None = None) -> list[Result]:
        """Results through the app matching every criterion given."""
        want = Outcome(outcome) if outcome is not None else None
        return [r for r in self.through_app
                if (check is None or r.check == check) and (want is None or r.outcome is want)
                and (engine is None or r.engine == engine)
                and (attributed_to is None or r.extra.get("attributed_to") == attributed_to)]

    def problems_in_app(self) -> list[Result]:
        """What got worse through the app than bare: the team's own regressions."""
        return self.select(attributed_to=APP)
