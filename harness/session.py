"""Turn a :class:`Selection` into ready runners and their cases: the one place both front ends
(command line and pytest plugin) resolve names, so both reject the same mistakes the same way."""

from __future__ import annotations

from dataclasses import dataclass, field

from .checks import Check, get_checks
from .engines import engine_names, get_engine
from .errors import UsageError
from .options import Selection
from .runner import Case, Runner, plan_cases
from .scenarios import ScenarioSet, load_scenarios
from .variants import VariantFilter

__all__ = ["Session", "open_session", "resolve_engines"]


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
    _runners: dict[str, Runner] = field(default_factory=dict)

    def runner(self, engine: str) -> Runner:
        if engine not in self._runners:
            config = {"scenarios_dirs": [str(d) for d in self.selection.scenarios_dirs]} if engine != "asgi" else {}
            self._runners[engine] = Runner(get_engine(engine, **config), self.checks,
                                           deadline_s=self.selection.deadline_s)
        return self._runners[engine]

    def close(self) -> None:
        for runner in self._runners.values():
            runner.close()


def open_session(selection: Selection) -> Session:
    scenario_set = load_scenarios(selection.scenarios_dirs or None)
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
    return Session(selection, scenario_set, checks, cases, engines, skipped)
