"""loop-not-blocked: stable verdicts on a noisy machine, the control is required, the table reads."""

from __future__ import annotations

import pytest

from harness.checks import get_checks
from harness.engines import get_engine
from harness.outcomes import Outcome
from harness.runner import Case, Runner

from . import mutants
from .helpers import SCENARIOS, judge, variant

pytestmark = pytest.mark.needs_feature


def _verdicts(runs: int) -> list[tuple[Outcome, Outcome, Outcome]]:
    """Each run measures afresh: the def variant, its async control, and the mutant with its own."""
    out = []
    sc = SCENARIOS["blocking-read"]
    for _ in range(runs):
        with Runner(get_engine("asgi"), get_checks(["loop-not-blocked"])) as stock:
            (good,) = stock.judge(Case(sc, variant("def-ann-bytes-for-plain")))
            (control,) = stock.judge(Case(sc, variant("async-noann-bytes-for-plain")))
        bad = judge("loop-not-blocked", "blocking-read", "def-ann-bytes-for-plain", mutants.runs_def_on_the_loop)
        expected = (Outcome.PASS, Outcome.INFORMATIONAL, Outcome.FAIL)
        got = (good, control, bad)
        out.append(tuple(r.outcome for r in got))
        assert out[-1] == expected, "\n".join(f"{r.variant}: {r.outcome.value}: {r.detail}" for r in got)
    return out


def test_verdicts_are_stable_over_5_runs():
    assert set(_verdicts(5)) == {(Outcome.PASS, Outcome.INFORMATIONAL, Outcome.FAIL)}


@pytest.mark.slow
def test_verdicts_are_stable_over_20_runs():
    assert set(_verdicts(20)) == {(Outcome.PASS, Outcome.INFORMATIONAL, Outcome.FAIL)}


def test_a_control_that_shows_no_blocking_makes_the_check_an_error():
    """If the async control does not block the loop, no pass can be trusted: error, not pass."""
    result = judge("loop-not-blocked", "blocking-read", "def-ann-bytes-for-plain", mutants.async_runs_as_def)
    assert result.outcome is Outcome.ERROR and "cannot see blocking" in result.detail, result.detail


def test_saturation_table_has_a_row_per_stream_count():
    result = judge("threadpool-saturation", "blocking-read", "def-noann-bytes-for-plain")
    assert result.outcome is Outcome.INFORMATIONAL
    lines = result.detail.splitlines()
    assert [line.split("|")[0].strip() for line in lines[1:]] == ["1", "8", "40", "64"]
    assert judge("threadpool-saturation", "blocking-read", "def-ann-bytes-for-plain").outcome is Outcome.NA


def test_latency_checks_are_na_elsewhere_and_perform_nothing():
    assert judge("loop-not-blocked", "png", "def-ann-bytes-for-plain").outcome is Outcome.NA
    assert SCENARIOS["blocking-read"].check_na_reason("chunk-order")


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
