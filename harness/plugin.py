"""The pytest plugin (entry point ``pytest11``): the same matrix as ``stream-harness run``, one
pytest item per scenario x variant x check.

Inert unless enabled with ``--stream-harness`` (or ``addopts``). Scenario files are collected
where pytest walks into them, the way pytest's documentation collects YAML tests: each file
becomes a collector, each variant a collector below it, each check an item, so ids read
``scenarios/story.py::def-ann-bytes-for-plain::chunk-order`` and ``-k`` works on any part.
To run the shipped scenarios from another project: ``pytest --stream-harness --pyargs harness.builtin_scenarios``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .errors import UsageError
from .options import Selection, add_options
from .outcomes import Outcome
from .runner import Case
from .scenarios import builtin_dir

_STATE = pytest.StashKey["_State"]()


class _State:
    """The run state attached to the config: the selection, and the session opened on first use."""

    def __init__(self, config: pytest.Config) -> None:
        self.selection = Selection.from_values(config.getoption, prefix="stream-")
        dirs = self.selection.scenarios_dirs or [builtin_dir()]
        self.dirs = {d.resolve() for d in dirs}
        self._session = None
        self.app = None
        if self.selection.app:  # a broken --stream-app is a usage error before anything is collected
            from .session import open_app
            try:
                self.app = open_app(self.selection)
            except UsageError as exc:
                raise pytest.UsageError(str(exc)) from None
            _collect_scenarios_too(config, self.dirs)

    @property
    def session(self):
        if self._session is None:
            from .session import open_session
            self._session = open_session(self.selection, app=self.app)
        return self._session

    def is_scenario_file(self, path: Path) -> bool:
        return path.suffix == ".py" and not path.name.startswith("_") and path.parent.resolve() in self.dirs


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stream-harness", "FastAPI Stream Data conformance matrix")
    group.addoption("--stream-harness", action="store_true", default=False,
                    help="collect the conformance matrix from scenario files")
    add_options(group.addoption, prefix="stream-")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("stream_harness") or config.getoption("stream_app"):  # --stream-app alone switches it on
        config.stash[_STATE] = _State(config)


def _collect_scenarios_too(config: pytest.Config, dirs: set[Path]) -> None:
    """With ``--stream-app`` a team's own run collects the matrix without naming the scenario folder."""
    args = [Path(str(a).split("::")[0]).resolve() for a in config.args]
    for folder in sorted(dirs):
        if not any(folder == a or a in folder.parents for a in args):
            config.args.append(str(folder))


@pytest.fixture(scope="session")
def stream_app_results(request: pytest.FixtureRequest):
    """Every result of the selected matrix through ``--stream-app`` and bare beside it, compared
    (``harness.attribution.AppRun``): for a team's own assertions, e.g.
    ``assert not stream_app_results.problems_in_app()``."""
    from .attribution import AppRun, attribute
    from .environment import versions

    state = request.config.stash.get(_STATE, None)
    if state is None or state.app is None:
        pytest.skip("stream_app_results needs --stream-app MODULE:ATTR")
    session = state.session
    results = session.confirm_differences([r for engine in session.engines for target in session.targets
                                           for case in session.cases for r in session.runner(engine, target).judge(case)])
    return AppRun(state.app.label, state.app.middleware,
                  attribute(results, versions()["fastapi"], state.app.describe()))


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None and state._session is not None:
        state._session.close()  # stop every engine: no server outlives the test run


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    state = parent.config.stash.get(_STATE, None)
    if state is not None and state.is_scenario_file(file_path):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self):
        state: _State = self.config.stash[_STATE]
        try:
            session = state.session
        except UsageError as exc:
            raise self.CollectError(str(exc)) from None
        mine = str(self.path.resolve())
        for err in session.scenario_set.errors:
            if str(Path(err.file).resolve()) == mine:
                yield LoadErrorItem.from_parent(self, name="load", message=err.message)
        for engine in session.engines:
            for case in session.cases:
                if str(Path(case.scenario.file).resolve()) == mine:
                    name = case.variant.id if engine == "asgi" else f"{case.variant.id}[{engine}]"
                    collector = VariantCollector.from_parent(self, name=name, case=case, engine=engine)
                    if "slow" in case.scenario.tags:  # left out by -m 'not slow'
                        collector.add_marker("slow")
                    yield collector
        for engine, why in session.skipped.items():
            yield SkippedEngineItem.from_parent(self, name=f"engine[{engine}]", why=why)


class LoadErrorItem(pytest.Item):
    def __init__(self, *, message: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.message = message

    def runtest(self) -> None:
        raise CheckFailed(self.message)

    def repr_failure(self, excinfo, style=None):
        return str(excinfo.value)


class SkippedEngineItem(pytest.Item):
    def __init__(self, *, why: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.why = why

    def runtest(self) -> None:
        pytest.skip(f"engine not available: {self.why}")


class VariantCollector(pytest.Collector):
    def __init__(self, *, case: Case, engine: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.case, self.engine = case, engine

    def collect(self):
        state: _State = self.config.stash[_STATE]
        for check in state.session.checks:
            yield CheckItem.from_parent(self, name=check.name, check=check)


class CheckFailed(Exception):
    """A fail or error outcome, shown as its detail rather than as a traceback."""


class CheckItem(pytest.Item):
    def __init__(self, *, check, **kwargs) -> None:
        super().__init__(**kwargs)
        self.check = check
        self.result = None

    def runtest(self) -> None:
        state: _State = self.config.stash[_STATE]
        case: Case = self.parent.case
        (self.result,) = state.session.runner(self.parent.engine).judge(case, [self.check])
        if state.app is not None:  # through the team's app: compare with bare, where it matters
            from .attribution import attribute_one
            from .environment import versions
            from .outcomes import BARE

            if self.result.outcome.is_problem or self.result.outcome is Outcome.NON_STRICT:
                (bare,) = state.session.runner(self.parent.engine, BARE).judge(case, [self.check])
                self.result, bare = state.session.confirm_differences([self.result, bare])
                self.result = attribute_one(self.result, bare, versions()["fastapi"], state.app.describe())
            self.user_properties.append(("app", state.app.label))
        self.user_properties.append(("outcome", self.result.outcome.value))
        outcome = self.result.outcome
        if outcome in (Outcome.NA, Outcome.UNSUPPORTED):
            pytest.skip(f"{outcome.value}: {self.result.detail}")
        if outcome.is_problem and not self.result.is_unexpected_problem:
            pytest.xfail(f"expected {outcome.value}: {self.result.extra['expected']['reason']}")
        if outcome.is_problem:
            via = f" through {state.app.label}" if state.app is not None else ""
            raise CheckFailed(f"{outcome.value}: {case.id} / {self.check.name}{via} (cites {self.check.claim})\n"
                              f"{self.result.detail}")

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CheckFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        case: Case = self.parent.case
        return self.path, case.scenario.line, f"{case.id}::{self.check.name}"
