"""The pytest plugin (entry point ``pytest11``): the same matrix as ``stream-harness run``, one
pytest item per scenario x variant x check.

Inert unless enabled with ``--stream-harness`` (or ``addopts``). Scenario files are collected
where pytest walks into them, the way pytest's documentation collects YAML tests: each file
becomes a collector, each variant a collector below it, each check an item, so ids read
``scenarios/story.py::def-ann-bytes-for-plain::chunk-order`` and ``-k`` works on any part.
To run the shipped scenarios from another project: ``pytest --stream-harness --pyargs harness.builtin_scenarios``.

Every item is judged by the session (``harness/session.py``), the same chain ``stream-harness run``
uses: through ``--stream-app`` and bare, differences confirmed and attributed, expectations
(``--stream-expectations FILE``, default ``expectations.toml`` at the rootdir), retries
(``--stream-retry-unexpected N``). An unexpected ``fail``/``error`` fails the item, a recorded one is
``xfail``, a stale entry is listed in the summary (and fails the item with ``--stream-strict``);
``n/a`` and ``unsupported`` points are counted apart from genuine skips. Under pytest-xdist
(``-n auto``) every worker opens its own session (its own servers on free ports, its own temporary
files); workers hand their results to the controller (``workeroutput``), whose session writes the one
``results.json`` of the run when ``--stream-output-dir DIR`` is given: the same file, header included,
that ``stream-harness run`` writes for the same selection.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from . import expectations as expect
from .errors import UsageError
from .options import GateOptions, Selection, add_options
from .outcomes import Outcome, Result
from .runner import Case

_STATE = pytest.StashKey["_State"]()


class _State:
    """The run state attached to the config: the selection, and the session opened on first use."""

    def __init__(self, config: pytest.Config) -> None:
        self.selection = Selection.from_values(config.getoption, prefix="stream-")
        self.selection.slow = True  # every scenario is collected; -m 'not slow' leaves the slow ones out
        self.gate_options = GateOptions.from_values(config.getoption, prefix="stream-")
        self.root = config.rootpath
        try:
            self.dirs = {d.resolve() for d in self.selection.scenario_folders()}
        except UsageError as exc:
            raise pytest.UsageError(str(exc)) from None
        self._session = None
        self.app = None
        if self.selection.app:  # a broken --stream-app is a usage error before anything is collected
            from .session import open_app
            try:
                self.app = open_app(self.selection)
            except UsageError as exc:
                raise pytest.UsageError(str(exc)) from None
            _collect_scenarios_too(config, self.dirs)
        try:  # a broken expectations file is a usage error too, before anything runs
            self.expectations_file = expect.find_file(self.gate_options.expectations, self.root,
                                                      disabled=self.gate_options.no_expectations)
            if self.expectations_file:
                expect.load(self.expectations_file)
        except UsageError as exc:
            raise pytest.UsageError(str(exc)) from None
        self.output_dir: Path | None = config.getoption("stream_output_dir")
        self.written: list[Path] = []  # the files --stream-output-dir got (one run folder)
        self.results: list[dict] = []  # result records of this process (and, on the controller, every worker's)
        self.times: dict[str, float] = {}  # seconds per engine label, summed over items
        self.started = time.monotonic()

    @property
    def session(self):
        if self._session is None:
            from .session import open_session
            self._session = open_session(self.selection, self.gate_options, root=self.root, app=self.app)
        return self._session

    def is_scenario_file(self, path: Path) -> bool:
        return path.suffix == ".py" and not path.name.startswith("_") and path.parent.resolve() in self.dirs


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stream-harness", "FastAPI Stream Data conformance matrix")
    group.addoption("--stream-harness", action="store_true", default=False,
                    help="collect the conformance matrix from scenario files")
    add_options(group.addoption, prefix="stream-")
    group.addoption("--stream-output-dir", type=Path, default=None, metavar="DIR",
                    help="write DIR/runs/<fastapi-version>/<run>/results.json of the items run (one file, also under -n)")


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
    (``harness.app.attribute.AppRun``): for a team's own assertions, e.g.
    ``assert not stream_app_results.problems_in_app()``."""
    from .app.attribute import AppRun

    state = request.config.stash.get(_STATE, None)
    if state is None or state.app is None:
        pytest.skip("stream_app_results needs --stream-app MODULE:ATTR")
    results, _ = state.session.run()
    return AppRun(state.app.label, state.app.middleware, results)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None and state._session is not None:
        state._session.close()  # stop every engine: no server outlives the test run


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_sessionfinish(session: pytest.Session) -> None:
    state = session.config.stash.get(_STATE, None)
    if state is None:
        return
    if _is_worker(session.config):
        session.config.workeroutput["stream_harness_results"] = state.results
        session.config.workeroutput["stream_harness_times"] = state.times
    elif state.output_dir is not None and state.results:
        _write_results(state)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """xdist controller: a worker is done; keep its results for the one merged file."""
    state = node.config.stash.get(_STATE, None)
    if state is not None:
        state.results += node.workeroutput.get("stream_harness_results", [])
        for label, seconds in node.workeroutput.get("stream_harness_times", {}).items():
            state.times[label] = state.times.get(label, 0.0) + seconds


def _results(state: "_State") -> list[Result]:
    return [Result(**{**rec, "outcome": Outcome(rec["outcome"])}) for rec in state.results]


def _write_results(state: "_State") -> None:
    """The same files ``stream-harness run`` writes for this selection (a run folder of their own):
    the session writes both."""
    session = state.session
    info = session.header(time.monotonic() - state.started, {k: round(v, 3) for k, v in state.times.items()})
    state.written = session.write(state.output_dir, info, _results(state), junit_xml=False)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is None or not state.results or _is_worker(config):
        return
    from .reports.gate import render_gate
    from .session import flaky

    results = _results(state)
    session = state.session
    terminalreporter.write_sep("-", "stream-harness gate")
    terminalreporter.write_line(render_gate(session.verdict(results), session.expectations_file,
                                            len(session.file_entries), flaky(results)))
    if state.written:
        terminalreporter.write_line(f"wrote {state.written[0]}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    """Mark the report of an item whose outcome is ``n/a`` or ``unsupported``: those are verdicts of
    the matrix, not skipped tests, and are counted apart (see :func:`pytest_report_teststatus`)."""
    outcome = yield
    verdict = getattr(item, "verdict", None)
    if verdict is not None and call.when == "call":
        outcome.get_result().stream_verdict = verdict


def pytest_report_teststatus(report, config: pytest.Config):
    """``n/a`` and ``unsupported`` points get their own count in the summary ("2833 passed, 8114
    inapplicable, 3 skipped"): thousands of points that do not exist must not hide a genuine skip (no
    chromium, a server not installed) in the same number. (A one-word category, so pytest's own
    ``parseoutcomes`` and CI log readers count it.)"""
    verdict = getattr(report, "stream_verdict", None)
    if verdict is not None and report.skipped:
        if verdict == Outcome.NA.value:
            return "inapplicable", "-", "N/A"
        return "unsupported", "U", "UNSUPPORTED"
    return None


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
        self.verdict: str | None = None  # "n/a" / "unsupported": counted apart from genuine skips

    def runtest(self) -> None:
        state: _State = self.config.stash[_STATE]
        case: Case = self.parent.case
        t0 = time.monotonic()
        results = state.session.judge(self.parent.engine, case, self.check)  # through the app first, then bare
        label = state.session.label(self.parent.engine, results[0].app)
        state.times[label] = state.times.get(label, 0.0) + time.monotonic() - t0
        state.results += [r.to_json() for r in results]
        self.result = results[0]
        if state.app is not None:
            self.user_properties.append(("app", state.app.label))
        self.user_properties.append(("outcome", self.result.outcome.value))
        outcome, status = self.result.outcome, expect.classify(self.result)
        via = f" through {state.app.label}" if state.app is not None else ""
        where = f"{case.id} / {self.check.name}{via} (cites {self.check.claim})"
        if outcome in (Outcome.NA, Outcome.UNSUPPORTED):
            self.verdict = outcome.value
            pytest.skip(f"{outcome.value}: {self.result.detail}")
        if status is expect.Status.UNEXPECTED:
            raise CheckFailed(f"{outcome.value}: {where}\n{self.result.detail}")
        if status is expect.Status.KNOWN and outcome.is_problem:
            pytest.xfail(f"expected {outcome.value}: {self.result.expectation['reason']} "
                         f"({self.result.expectation['source']})")
        if state.gate_options.strict and status in (expect.Status.STALE, expect.Status.UNRECORDED):
            recorded = (f"recorded {self.result.expected} at {self.result.expectation['source']}"
                        if self.result.expectation else "no expectation records it")
            raise CheckFailed(f"{status.value} (--stream-strict): {outcome.value}, {recorded}: {where}\n"
                              f"{self.result.detail}")

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CheckFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        case: Case = self.parent.case
        return self.path, case.scenario.line, f"{case.id}::{self.check.name}"
