"""The session: one run, assembled once.

selection -> runners (through the team's app and bare) -> results confirmed, attributed and judged
against expectations -> retries -> run header -> gate -> files. pytest-benchmark's
``BenchmarkSession`` is the model: one object owns a run from selection to files, and the front
ends (``stream-harness run``, the pytest items, the ``stream_app_results`` fixture) only call it:

* the command calls :meth:`Session.run` (every engine, every target, with progress), then
  :meth:`Session.header`, :meth:`Session.verdict` and :meth:`Session.write`;
* a pytest item calls :meth:`Session.judge` for its one (engine, case, check): the same chain on a
  smaller list, so both front ends write the same ``results.json`` for one selection.

Every step of the chain is a method here, and each is a pure function of the raw results plus what
it re-measures: attribution and expectations are recomputed from the raw results after a retry,
never stacked on an already annotated detail.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import expectations as expect
from .app import encoding
from .app.attribute import APP as APP_DIFFERS, APP_HELPS, across_engines, attribute, classify
from .app.lifespan import STARTUP_DEADLINE_S, LifespanFailed, check_lifespan
from .app.load import AppError, LoadedApp, load_app, parse_spec
from .app.mount import PREFIX, AppHost
from .checks import Check, get_checks
from .engines import EngineSetup, engine_effort, engine_names, engine_unavailable, get_engine
from .errors import UsageError
from .heap import run_heap
from .modes import Kind
from .options import GateOptions, Selection
from .outcomes import BARE, Result, RunInfo
from .routes import build_route
from .runner import Case, Runner, plan_cases
from .scenarios import ScenarioSet, load_scenarios
from .variants import VariantFilter
from .installed import versions

__all__ = ["Session", "open_session", "open_app", "resolve_engines", "flaky"]

Progress = Callable[[Case, int, int, list[Result]], None]


def resolve_engines(names: list[str]) -> list[str]:
    """``all`` means every registered engine, the in-process one first; unknown names are refused."""
    known = engine_names()
    out: list[str] = []
    for name in names:
        for n in (["asgi"] + [k for k in known if k != "asgi"]) if name == "all" else [name]:
            if n not in known:
                raise UsageError(f"unknown engine {n!r}; engines are: {', '.join(known)}, all")
            if n not in out:
                out.append(n)
    return out


def flaky(results: list[Result]) -> list[Result]:
    """Results whose first attempt was unexpected and a retry was not."""
    return [r for r in results if r.extra.get("retries")]


def _key(r: Result) -> tuple[str, str, str, str]:
    """What pairs a result through the app with its bare twin."""
    return (r.scenario, r.variant, r.engine, r.check)


@dataclass
class Session:
    selection: Selection
    scenario_set: ScenarioSet
    checks: list[Check]
    cases: list[Case]
    engines: list[str]  # the ones that will run
    skipped: dict[str, str] = field(default_factory=dict)  # engine -> why it cannot run here
    app: LoadedApp | None = None  # --app: every engine runs through it, and bare beside it
    gate_options: GateOptions = field(default_factory=GateOptions)
    expectations_file: Path | None = None
    file_entries: list[expect.Expectation] = field(default_factory=list)  # from expectations_file
    builder: Callable[..., object] = build_route  # how a bare route is built (tests pass a mutant framework)
    _runners: dict[tuple[str, str], Runner] = field(default_factory=dict)
    _host: AppHost | None = None
    fastapi_version: str = field(default_factory=lambda: versions()["fastapi"])
    timing: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # label -> scenario -> [all, requests]
    engine_jobs: int = 0  # server engines at once (--engine-jobs; 0: one per core; 1: one after another)

    # ------------------------------------------------------------------------------- planning
    @property
    def targets(self) -> list[str]:
        """What the variants are served by: the team's app first, then bare (its attribution baseline)."""
        return [self.app.label, BARE] if self.app else [BARE]

    @property
    def expectations(self) -> list[expect.Expectation]:
        """Every expectation the gate judges by: the scenarios' own first, the file's entries after
        them (the last match wins, so the gate file can override a scenario's word)."""
        scenarios = dict.fromkeys(c.scenario for c in self.cases)
        own = [e for sc in scenarios for e in sc.expectations]
        return own + self.file_entries

    def runs(self) -> list[tuple[str, str, Runner]]:
        """(engine, target, runner) for everything the run performs, engine by engine."""
        return [(e, t, self.runner(e, t)) for e in self.engines for t in self.targets]

    def runner(self, engine: str, target: str = "") -> Runner:
        """The run's runner for ``engine`` through ``target`` (opened on first use, kept: it owns the
        only trace cache, so every check and twin reads one request)."""
        target = target or self.targets[0]
        if (engine, target) not in self._runners:
            self._runners[(engine, target)] = self.fresh_runner(engine, target)
        return self._runners[(engine, target)]

    def fresh_runner(self, engine: str, target: str, checks: list[Check] | None = None) -> Runner:
        """A new runner with a new engine: nothing from another attempt's requests (retries)."""
        through = self.app if target != BARE else None
        setup = EngineSetup(tuple(str(d) for d in self.selection.scenarios_dirs), through,
                            builtin_scenarios=self.selection.builtin_scenarios)
        performer = get_engine(engine, setup)
        if through is None and self.app is not None and self.app.patches and performer.in_process:
            # importing the app patched Starlette/FastAPI in this interpreter: bare runs in one that never did
            from .app.isolated import IsolatedRunner

            performer.stop()
            return IsolatedRunner(self.selection, engine,  # type: ignore[return-value]
                                  [c.name for c in (self.checks if checks is None else checks)])
        builder = self.builder
        if through is not None and performer.in_process:  # mounted into the team's app, here
            self._host = self._host or AppHost(self.app)
            builder = self._host.builder
        return Runner(performer, self.checks if checks is None else checks, builder=builder,
                      deadline_s=self.selection.deadline_s, app=target, plan=self.cases)

    def close(self) -> None:
        """Stop every engine: no server, loop or lifespan outlives the session."""
        for runner in self._runners.values():
            runner.close()
        self._runners.clear()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------- running
    def run(self, progress: Callable[[str], Progress | None] = lambda label: None
            ) -> tuple[list[Result], dict[str, float]]:
        """Every engine through every target, then the chain (:meth:`finish`). ``progress(label)``
        gives the progress callback of one (engine, target). Returns the results and the time each
        (engine, target) took."""
        times: dict[str, float] = {}

        def one_engine(engine: str) -> list[Result]:
            out: list[Result] = []
            for target in self.targets:  # the app's targets share a host: in order, in one worker
                t0, label = time.monotonic(), self.label(engine, target)
                runner = self.runner(engine, target)
                out += runner.run(self.cases, progress=progress(label))
                times[label] = round(time.monotonic() - t0, 3)
                self.timing[label] = dict(getattr(runner, "timing", {}))  # a fresh interpreter's bare twin: none
            return out

        try:
            with run_heap():  # a case's garbage dies young (harness.heap says why)
                by_engine = self._run_engines(one_engine)
                raw = [r for engine in self.engines for r in by_engine[engine]]  # the sequential order
                return self.across_engines(self.finish(raw)), times
        finally:
            self.close()

    def _run_engines(self, one_engine: Callable[[str], list[Result]]) -> dict[str, list[Result]]:
        """Every engine at once, as many as there are cores (``engine_jobs``): each serves from
        processes of its own (the in-process one from this interpreter), so they are independent, and
        a run of every engine takes about half the sum on two cores instead of the sum. A timing
        measurement runs alone meanwhile (:data:`~harness.engines.quiet.QUIET`): the others wait for it.
        Results come back in the engines' order whatever the order they finished in."""
        from concurrent.futures import ThreadPoolExecutor

        jobs = max(1, min(len(self.engines), self.engine_jobs or os.cpu_count() or 1))
        if jobs == 1:
            return {e: one_engine(e) for e in self.engines}
        # the longest first (Engine.effort): the last one left running alone is then a short one
        order = sorted(self.engines, key=engine_effort, reverse=True)
        with ThreadPoolExecutor(jobs, thread_name_prefix="harness-engine") as pool:
            by_engine = dict(zip(order, pool.map(one_engine, order)))
        return {e: by_engine[e] for e in self.engines}

    def label(self, engine: str, target: str) -> str:
        return engine if target == BARE else f"{engine} via app"

    def judge(self, engine: str, case: Case, check: Check) -> list[Result]:
        """One (engine, case, check) through every target, through the whole chain: what a pytest
        item runs. Results in target order (through the app first, then bare)."""
        raw = [r for t in self.targets for r in self.runner(engine, t).judge(case, [check])]
        return self.finish(raw)

    def finish(self, raw: list[Result]) -> list[Result]:
        """The chain after the requests: confirm differences, attribute, judge; retry what is
        unexpected; judge again. ``raw`` is what the runners returned."""
        raw = self.confirm_differences(raw)
        if self.gate_options.retries > 0:
            raw = self._retry(raw)
        return self.annotate(raw)

    def across_engines(self, results: list[Result]) -> list[Result]:
        """Through the app, a check that differs by engine says what each engine saw (a whole-run
        step: a pytest item sees one engine, so the run's file gets it when it is written)."""
        return across_engines(results) if self.app is not None and len(self.engines) > 1 else results

    def annotate(self, raw: list[Result]) -> list[Result]:
        """Attribution (through the app vs bare) and each result's expectation."""
        if self.app is not None:
            raw = attribute(raw, self.fastapi_version, self.app.describe())
        return expect.annotate(raw, self.expectations, self.fastapi_version)

    def confirm_differences(self, results: list[Result]) -> list[Result]:
        """Measure again where the app and bare differ on a check that reads timing (one with its own
        request kind: a cut, a failure, a shutdown, a latency measurement), through the app and bare.
        A difference that does not repeat the same way is noise on a loaded machine: the repeat's
        results are kept, marked ``unconfirmed``, and never attributed. Normal-kind checks decide by
        lock-step and bytes: they are not repeated."""
        if self.app is None:
            return results
        checks = {c.name: c for c in self.checks}
        cases = {(c.scenario.name, c.variant.id): c for c in self.cases}
        bare = {_key(r): r for r in results if r.app == BARE}
        pairs = [(r, bare[_key(r)]) for r in results if r.app != BARE and _key(r) in bare
                 and checks.get(r.check) is not None and checks[r.check].kind is not Kind.NORMAL
                 and (r.scenario, r.variant) in cases
                 and classify(r.outcome, bare[_key(r)].outcome) in (APP_DIFFERS, APP_HELPS)]
        if not pairs:
            return results
        forgotten: set[tuple[str, str, str, str]] = set()
        again: dict[tuple[str, tuple], Result] = {}
        for first, first_bare in pairs:
            case, check = cases[(first.scenario, first.variant)], checks[first.check]
            for target in (self.app.label, BARE):
                if (first.engine, target, first.scenario, first.check) not in forgotten:
                    forgotten.add((first.engine, target, first.scenario, first.check))
                    self.runner(first.engine, target).forget(case.scenario, check)
            (through,) = self.runner(first.engine, self.app.label).judge(case, [check])
            (alone,) = self.runner(first.engine, BARE).judge(case, [check])
            if classify(through.outcome, alone.outcome) != classify(first.outcome, first_bare.outcome):
                note = (f"[differed from bare on a first measurement (through the app: {first.outcome.value}, "
                        f"bare: {first_bare.outcome.value}) but not the same way on a repeat (through the app: "
                        f"{through.outcome.value}, bare: {alone.outcome.value}): timing noise, not attributed]")
                through = dataclasses.replace(through, detail=f"{through.detail}\n{note}",
                                              extra={**through.extra, "unconfirmed": True})
            else:
                through = dataclasses.replace(through, extra={**through.extra, "repeated": True})
            again[(first.app, _key(first))], again[(BARE, _key(first))] = through, alone
        return [again.get((r.app, _key(r)), r) for r in results]

    def _retry(self, raw: list[Result]) -> list[Result]:
        """Each unexpected result measured again, up to ``--retry-unexpected`` times, as wptrunner's
        ``--retry-unexpected`` does: through the target it ran on (the team's app or bare), with a
        fresh runner (fresh engine, nothing cached from the first attempt). One that comes out as
        expected keeps every earlier attempt in ``extra["retries"]`` (listed as flaky, never
        hidden); one unexpected every time keeps its first attempt, with ``extra["attempts"]``."""
        current = {r.key: r for r in raw}
        cases = {(c.scenario.name, c.variant.id): c for c in self.cases}
        checks = {c.name: c for c in self.checks}
        history: dict[tuple, list[dict]] = defaultdict(list)
        for _ in range(self.gate_options.retries):
            judged = {r.key: r for r in self.annotate(list(current.values()))}
            todo = [current[k] for k, r in judged.items() if expect.classify(r) is expect.Status.UNEXPECTED]
            if not todo:
                break
            for engine, target in dict.fromkeys((r.engine, r.app) for r in todo):
                mine = [r for r in todo if (r.engine, r.app) == (engine, target)]
                wanted = [checks[n] for n in dict.fromkeys(r.check for r in mine) if n in checks]
                with self.fresh_runner(engine, target, wanted) as runner:
                    again = {a.key: a for a in runner.run(list(dict.fromkeys(
                        cases[(r.scenario, r.variant)] for r in mine if (r.scenario, r.variant) in cases)))}
                for r in mine:
                    history[r.key].append({"outcome": r.outcome.value, "detail": r.detail})
                    current[r.key] = again.get(r.key, r)
        judged = {r.key: r for r in self.annotate(list(current.values()))}
        out = []
        for first in raw:
            now = current[first.key]
            if first.key not in history:
                out.append(now)
            elif expect.classify(judged[first.key]) is not expect.Status.UNEXPECTED:
                out.append(dataclasses.replace(now, extra={**now.extra, "retries": history[first.key]}))
            else:  # unexpected every time: the first attempt stands, the others are counted
                out.append(dataclasses.replace(first, extra={**first.extra, "attempts": len(history[first.key]) + 1}))
        return out

    # ------------------------------------------------------------------------------- reporting
    def order(self, results: list[Result]) -> list[Result]:
        """The run's canonical order (engine, target, case, check): whatever order a front end
        produced them in (pytest collects file by file, xdist workers finish in any order)."""
        engines = {e: i for i, e in enumerate(self.engines)}
        targets = {t: i for i, t in enumerate(self.targets)}
        cases = {(c.scenario.name, c.variant.id): i for i, c in enumerate(self.cases)}
        checks = {c.name: i for i, c in enumerate(self.checks)}
        big = len(self.cases) + len(self.checks) + len(self.engines) + 2
        return sorted(results, key=lambda r: (engines.get(r.engine, big), targets.get(r.app, big),
                                              cases.get((r.scenario, r.variant), big), checks.get(r.check, big)))

    def app_info(self) -> dict[str, object]:
        """The run header's ``app``: what the variants ran through, and its middleware outermost first."""
        if self.app is None:
            return {}
        return {**self.app.spec.to_json(), "kind": self.app.kind, "middleware": self.app.middleware,
                "stack": self.app.describe(), "prefix": PREFIX, "patched": self.app.patches,
                "bare_in_process": "a fresh interpreter that never imported the app" if self.app.patches
                else "this interpreter"}

    def header(self, wall_time_s: float = 0.0, engine_times: dict[str, float] | None = None) -> RunInfo:
        """The results file's run header: the same fields whichever front end ran the session."""
        return RunInfo(engines=self.engines, selection=self.selection.to_json(), app=self.app_info(),
                       wall_time_s=wall_time_s, engine_times=dict(engine_times or {}), timing=self.time_spent(),
                       skipped_engines=dict(self.skipped),
                       load_errors=[{"file": e.file, "message": e.message} for e in self.scenario_set.errors],
                       expectations=str(self.expectations_file) if self.expectations_file else None)

    def time_spent(self) -> dict[str, dict[str, dict[str, float]]]:
        """Where the run's time went, per engine (label) and per scenario: ``total_s`` of its cases and
        ``requests_s`` of it in the engine's requests (the app, and the engine driving it); the rest
        is the harness's own (building routes, checks, twins' bookkeeping)."""
        def spent(total: float, requests: float) -> dict[str, float]:
            return {"total_s": round(total, 3), "requests_s": round(requests, 3)}
        scenarios: dict[str, list[float]] = {}
        for per in self.timing.values():
            for name, (total, requests) in per.items():
                both = scenarios.setdefault(name, [0.0, 0.0])
                both[0], both[1] = both[0] + total, both[1] + requests
        engines = {label: spent(sum(t for t, _ in per.values()), sum(r for _, r in per.values()))
                   for label, per in self.timing.items()}
        return {"engines": engines, "scenarios": {n: spent(*v) for n, v in scenarios.items()}} if self.timing else {}

    def verdict(self, results: list[Result]) -> expect.Gate:
        return expect.gate(results, strict=self.gate_options.strict)

    def passed(self, results: list[Result]) -> bool:
        """The run's exit status: the gate, and no scenario file that failed to load."""
        return self.verdict(results).passed and not self.scenario_set.errors

    def write(self, output_dir: Path, info: RunInfo, results: list[Result], junit_xml: bool = True) -> list[Path]:
        """The run's files in a folder of their own under ``output_dir`` (``reports/store.py``: never
        over another run's), results in the canonical order; returns what was written."""
        from .reports import store

        return store.write_run(output_dir, info, self.order(self.across_engines(results)), junit_xml=junit_xml)


_LOAD = object()


def open_session(selection: Selection, gate_options: GateOptions | None = None, *, root: Path = Path("."),
                 app: LoadedApp | None | object = _LOAD) -> Session:
    """Resolve every name of ``selection`` (scenarios, checks, engines, the expectations file, the
    app) so both front ends refuse the same mistakes the same way, before anything runs.
    ``app``: the already loaded ``--app`` (the pytest plugin checks it at configure time)."""
    gate_options = gate_options or GateOptions()
    encoding.configure(selection.accept_encoding)  # what every request of the run offers
    expectations_file = expect.find_file(gate_options.expectations, root, disabled=gate_options.no_expectations)
    file_entries = expect.load(expectations_file) if expectations_file else []  # a bad file stops before any work
    scenario_set = load_scenarios(selection.scenario_folders())
    scenarios = [sc for sc in scenario_set.select(selection.scenarios)  # a named one runs whatever its tags
                 if selection.slow or selection.scenarios or "slow" not in sc.tags]
    checks = get_checks(selection.checks)
    known = {c.name for c in get_checks(None)}
    for sc in scenarios:
        for field_, names in (("checks", sc.checks), ("expect", [e.check for e in sc.expectations])):
            unknown = [c for c in names if c not in known]
            if unknown:
                raise UsageError(f"{sc.file}:{sc.line}: scenario field {field_!r}: unknown check "
                                 f"{', '.join(map(repr, unknown))}; checks are: {', '.join(sorted(known))}")
        unknown = [e for e in sc.engines if e not in engine_names()]
        if unknown:
            raise UsageError(f"{sc.file}:{sc.line}: scenario field 'engines': unknown engine "
                             f"{', '.join(map(repr, unknown))}; engines are: {', '.join(engine_names())}")
    vfilter = VariantFilter(selection.variants)
    engines, skipped = [], {}
    for name in resolve_engines(selection.engines):
        why = engine_unavailable(name)
        if why:
            skipped[name] = why
        else:
            engines.append(name)
    cases = plan_cases(scenarios, vfilter, selection.include_page)
    if not cases and scenarios:
        raise UsageError(f"--variant {' '.join(selection.variants)!r} selects no variant")
    if selection.engine_jobs < 0:
        raise UsageError(f"--engine-jobs: expected a number of engines at once >= 0, got {selection.engine_jobs}")
    if gate_options.retries < 0:
        raise UsageError(f"--retry-unexpected: expected a number of retries >= 0, got {gate_options.retries}")
    return Session(selection, scenario_set, checks, cases, engines, skipped,
                   app=open_app(selection) if app is _LOAD else app, gate_options=gate_options,
                   expectations_file=expectations_file, file_entries=file_entries,
                   engine_jobs=selection.engine_jobs)


def open_app(selection: Selection) -> LoadedApp | None:
    """``--app``: import it, check it is an app the harness can mount into, and that its lifespan
    starts and stops (once, on a loop of its own), so a broken app is a usage error (exit 2) before
    anything runs, whatever the engines."""
    if not selection.app:
        return None
    loaded = load_app(parse_spec(selection.app, selection.app_dir))
    try:
        check_lifespan(loaded.app)
    except LifespanFailed as exc:
        raise AppError(f"--app {loaded.label!r}: the app's {exc}; expected its lifespan to start "
                       f"(lifespan.startup.complete) and stop again within {STARTUP_DEADLINE_S:g} s each.",
                       exc.cause) from None
    return loaded
