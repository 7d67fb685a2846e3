"""Retrying unexpected results, as wptrunner's ``--retry-unexpected`` does: a gate on a shared,
noisy machine must not fail a build on one unlucky timing.

Only results the gate would fail on are retried, each with a fresh runner (fresh engine, fresh
requests: nothing from the first attempt's trace cache). A result that comes out differently on
a retry is kept with the retry's outcome and carries every earlier attempt in
``extra["retries"]``, so the report lists it as flaky instead of hiding it; one that is unexpected
every time stays unexpected.
"""

from __future__ import annotations

from dataclasses import replace

from . import expectations as expect
from .engines import get_engine
from .outcomes import Result
from .routes import build_route
from .runner import Runner

__all__ = ["retry_unexpected", "flaky"]


def flaky(results: list[Result]) -> list[Result]:
    """Results whose first attempt was unexpected and a retry was not."""
    return [r for r in results if r.extra.get("retries")]


def retry_unexpected(session, results: list[Result], attempts: int, entries: list[expect.Expectation],
                     fastapi_version: str, builder=build_route) -> list[Result]:
    """``results`` with each unexpected one retried up to ``attempts`` times (see the module doc);
    ``session`` is the run's :class:`harness.session.Session` (its cases, checks and selection)."""
    current = {r.key: r for r in results}
    cases = {(c.scenario.name, c.variant.id): c for c in session.cases}
    checks = {c.name: c for c in session.checks}
    history: dict[tuple, list[dict]] = {}
    for _ in range(attempts):
        todo = [r for r in current.values() if expect.classify(r) is expect.Status.UNEXPECTED]
        if not todo:
            break
        for engine in dict.fromkeys(r.engine for r in todo):
            mine = [r for r in todo if r.engine == engine]
            config = session.selection.engine_scenarios() if engine != "asgi" else {}
            runner = Runner(get_engine(engine, **config), [checks[n] for n in dict.fromkeys(r.check for r in mine)],
                            deadline_s=session.selection.deadline_s, builder=builder)
            with runner:
                again = runner.run(list(dict.fromkeys(cases[(r.scenario, r.variant)] for r in mine)))
            again_by_key = {a.key: a for a in expect.annotate(again, entries, fastapi_version)}
            for r in mine:
                history.setdefault(r.key, []).append({"outcome": r.outcome.value, "detail": r.detail})
                current[r.key] = again_by_key.get(r.key, r)
    out = []
    for r in results:
        now = current[r.key]
        if now is not r and expect.classify(now) is not expect.Status.UNEXPECTED:
            now = replace(now, extra={**now.extra, "retries": history[r.key]})
        elif now is not r:  # unexpected every time: the first attempt stands, the others are noted
            now = replace(r, extra={**r.extra, "attempts": len(history[r.key]) + 1})
        out.append(now)
    return out
