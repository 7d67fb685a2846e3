"""The runner: lock-step between producer and client, cut requests, and an engine that breaks."""

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
