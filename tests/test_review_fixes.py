"""Edge cases found in review: empty chunks and read-ahead, payloads too short to cut, a broken engine."""

from __future__ import annotations

import pytest

from harness.checks import get_checks
from harness.engines.asgi import AsgiEngine
from harness.outcomes import Outcome
from harness.runner import Case, Runner
from harness.scenarios import scenario

from . import mutants
from .helpers import judge, variant

pytestmark = pytest.mark.needs_feature


@pytest.mark.parametrize("vid", ["def-ann-str-for-plain", "async-noann-str-for-plain"])
def test_a_one_chunk_read_ahead_is_caught_even_between_empty_chunks(vid):
    result = judge("incremental-delivery", "empty-chunks", vid, mutants.reads_one_ahead)
    assert result.outcome is Outcome.FAIL, result.detail
    assert judge("incremental-delivery", "empty-chunks", vid).outcome is Outcome.PASS


@pytest.mark.parametrize("chunks", [[b"only"], [b"one", b"two"]])
def test_payloads_too_short_to_cut_are_na_not_fail(chunks):
    short = scenario("short", chunks=chunks)
    checks = get_checks(["closure-on-error", "closure-on-disconnect", "generator-stops-on-disconnect"])
    with Runner(AsgiEngine(), checks) as runner:
        results = runner.judge(Case(short, variant("def-ann-bytes-for-plain")))
    outcomes = {r.check: r.outcome for r in results}
    assert outcomes["closure-on-error"] is Outcome.NA
    if len(chunks) < 2:
        assert outcomes["closure-on-disconnect"] is Outcome.NA


def test_an_engine_that_breaks_gives_error_results_and_the_run_goes_on():
    class Broken(AsgiEngine):
        def perform(self, route, recorder, deadline_s, mode=None):
            raise BrokenPipeError("the server's side channel went away")

    with Runner(Broken(), get_checks(["chunk-order", "annotation-neutral"])) as runner:
        results = runner.run([Case(scenario("two", chunks=[b"a", b"b"]), variant("def-ann-bytes-for-plain"))])
    assert {r.outcome for r in results} == {Outcome.ERROR}
    assert all("BrokenPipeError" in r.detail for r in results)


def test_a_scenario_naming_an_unknown_check_is_a_usage_error(tmp_path, capsys):
    from harness.cli import main

    (tmp_path / "typo.py").write_text("from harness import scenario\n"
                                      "typo = scenario('typo', chunks=[b'a'], checks=['loop-not-blokced'])\n")
    assert main(["run", "--scenarios-dir", str(tmp_path), "--no-write"]) == 2
    assert "typo.py:2: scenario field 'checks': unknown check 'loop-not-blokced'" in capsys.readouterr().err


def test_loop_not_blocked_without_samples_cannot_measure_rather_than_pass():
    """A sum of no samples is 0: without this guard a lost side channel would read as 'not blocked'."""
    from harness.checks.loop_lag import loop_not_blocked
    from harness.checks import CannotMeasure
    from harness.trace import StreamSummary, Trace
    from .helpers import SCENARIOS

    sc = SCENARIOS["blocking-read"]
    empty = Trace("asgi", "/stream", (StreamSummary(0.0, 0, len(sc.chunks), 10, 0.2, 4),), 0.0)
    with pytest.raises(CannotMeasure, match="no loop-lag samples"):
        loop_not_blocked(empty, sc, variant("def-noann-bytes-for-plain"), [])


def test_a_results_file_without_its_run_header_is_named(tmp_path):
    from harness.errors import UsageError
    from harness.reports import json as json_report

    path = tmp_path / "results.json"
    path.write_text('{"format_version": 1, "results": []}')
    with pytest.raises(UsageError, match="results.json: field 'run': expected an object"):
        json_report.load(path)


@pytest.mark.parametrize("name", ["2-chunks", "yield", "class"])
def test_new_scenario_refuses_names_that_cannot_be_a_python_variable(tmp_path, name, capsys):
    from harness.cli import main

    assert main(["new-scenario", name, "--dir", str(tmp_path)]) == 2
    assert "starts with a letter and is not a Python keyword" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_problems_show_control_characters_from_the_app_escaped():
    from harness.outcomes import Result
    from harness.reports.terminal import render_problems

    r = Result("story", "def-ann-str-for-plain", {}, "asgi", "chunk-order", "#c", Outcome.FAIL,
               detail="the app raised RuntimeError: \x1b[2J\x07boom")
    out = render_problems([r])
    assert "\x1b" not in out and "\x07" not in out and "\\x1b[2J\\x07boom" in out


def test_mounted_variants_stay_out_of_the_teams_openapi():
    from harness.app.load import load_app, parse_spec
    from harness.app.mount import AppHost
    from .helpers import SCENARIOS

    host = AppHost(load_app(parse_spec("examples.apps.clean:app")))
    host.mount(SCENARIOS["story"], variant("def-noann-bytes-for-plain"), lambda chunk_type: iter(()))
    assert not [p for p in host.loaded.app.openapi()["paths"] if p.startswith("/_stream_harness")]
