"""Turn a :class:`Selection` into a ready runner and its cases: the one place both front ends
(command line and pytest plugin) resolve names, so both reject the same mistakes the same way."""

from __future__ import annotations

from dataclasses import dataclass

from .checks import Check, get_checks
from .engines import get_engine
from .errors import UsageError
from .options import Selection
from .runner import Case, Runner, plan_cases
from .scenarios import ScenarioSet, load_scenarios
from .variants import VariantFilter

__all__ = ["Session", "open_session"]


@dataclass
class Session:
    selection: Selection
    scenario_set: ScenarioSet
    checks: list[Check]
    cases: list[Case]
    runner: Runner


def open_session(selection: Selection) -> Session:
    scenario_set = load_scenarios(selection.scenarios_dirs or None)
    scenarios = scenario_set.select(selection.scenarios)
    checks = get_checks(selection.checks)
    vfilter = VariantFilter(selection.variants)
    engine = get_engine(selection.engine)
    cases = plan_cases(scenarios, vfilter, selection.include_page)
    if not cases and scenarios:
        raise UsageError(f"--variant {' '.join(selection.variants)!r} selects no variant")
    runner = Runner(engine, checks, deadline_s=selection.deadline_s)
    return Session(selection, scenario_set, checks, cases, runner)
