"""Turn a :class:`Selection` into ready runners and their cases: the one place both front ends
(command line and pytest plugin) resolve names, so both reject the same mistakes the same way."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .checks import Check, get_checks
from .engines import engine_names, get_engine
from .errors import UsageError
from .app.load import AppError, LoadedApp, load_app, parse_spec
from .app.lifespan import STARTUP_DEADLINE_S, LifespanFailed, check_lifespan
from .app.mount import AppHost
from .options import Selection
from .app.attribute import APP as APP_DIFFERS, APP_HELPS, classify
from .outcomes import BARE, Result
from .routes import build_route
from .runner import Case, Runner, plan_cases
from .scenarios import ScenarioSet, load_scenarios
from .variants import VariantFilter

__all__ = ["Session", "open_session", "open_app", "resolve_engines"]


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


@dataclass
class Session:
    selection: Selection
    scenario_set: ScenarioSet
    checks: list[Check]
    cases: list[Case]
    engines: list[str]  # the ones that will run
    skipped: dict[str, str] = field(default_factory=dict)  # engine -> why it cannot run here
    app: LoadedApp | None = None  # --app: every engine runs through it, and bare beside it
    _runners: dict[tuple[str, str], Runner] = field(default_factory=dict)
    _host: AppHost | None = None

    @property
    def targets(self) -> list[str]:
        """What the variants are served by: the team's app first, then bare (its attribution baseline)."""
        return [self.app.label, BARE] if self.app else [BARE]

    def runs(self) -> list[tuple[str, str, Runner]]:
        """(engine, target, runner) for everything the run performs, engine by engine."""
        return [(e, t, self.runner(e, t)) for e in self.engines for t in self.targets]

    def runner(self, engine: str, target: str = "") -> Runner:
        target = target or self.targets[0]
        if (engine, target) not in self._runners:
            config: dict[str, object] = {}
            if engine != "asgi":
                config.update(self.selection.engine_scenarios())
            builder = build_route
            if target != BARE:
                if engine == "asgi":
                    self._host = self._host or AppHost(self.app)
                    config["lifespan_app"], builder = self.app.app, self._host.builder
                else:  # the server process imports the app and mounts the variants itself
                    config["app"] = self.app.spec.to_json()
            self._runners[(engine, target)] = Runner(get_engine(engine, **config), self.checks, builder=builder,
                                                     deadline_s=self.selection.deadline_s, app=target)
        return self._runners[(engine, target)]

    def close(self) -> None:
        for runner in self._runners.values():
            runner.close()

    def confirm_differences(self, results: list[Result]) -> list[Result]:
        """Measure again where the app and bare differ on a check that reads timing (one with its own
        request mode: a cut, a failure, a shutdown, a latency measurement), through the app and bare.
        A difference that does not repeat the same way is noise on a loaded machine: the repeat's
        results are kept, marked ``unconfirmed``, and never attributed. Normal-mode checks decide by
        lock-step and bytes: they are not repeated."""
        if self.app is None:
            return results
        checks = {c.name: c for c in self.checks}
        cases = {(c.scenario.name, c.variant.id): c for c in self.cases}
        key = lambda r: (r.scenario, r.variant, r.engine, r.check)  # noqa: E731
        bare = {key(r): r for r in results if r.app == BARE}
        pairs = [(r, bare[key(r)]) for r in results if r.app != BARE and key(r) in bare
                 and checks.get(r.check) is not None and checks[r.check].mode != "normal"
                 and (r.scenario, r.variant) in cases
                 and classify(r.outcome, bare[key(r)].outcome) in (APP_DIFFERS, APP_HELPS)]
        if not pairs:
            return results
        forgotten: set[tuple[str, str, str, str]] = set()
        again: dict[tuple[str, tuple], Result] = {}
        try:
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
                again[(first.app, key(first))], again[(BARE, key(first))] = through, alone
        finally:
            for engine, target, _, _ in forgotten:
                self.runner(engine, target).close()
        return [again.get((r.app, key(r)), r) for r in results]


_LOAD = object()


def open_session(selection: Selection, app: LoadedApp | None | object = _LOAD) -> Session:
    """``app``: the already loaded ``--app`` (the pytest plugin checks it at configure time)."""
    scenario_set = load_scenarios(selection.scenario_folders())
    scenarios = scenario_set.select(selection.scenarios)
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
        why = getattr(get_engine(name), "unavailable", None)
        if why:
            skipped[name] = why
        else:
            engines.append(name)
    cases = plan_cases(scenarios, vfilter, selection.include_page)
    if not cases and scenarios:
        raise UsageError(f"--variant {' '.join(selection.variants)!r} selects no variant")
    return Session(selection, scenario_set, checks, cases, engines, skipped,
                   app=open_app(selection) if app is _LOAD else app)


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
