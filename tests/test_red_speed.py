"""A red run is decided as soon as it is certain (issue 14): bare in-process a lock-step violation is
recorded without a wait, and nothing blocks the loop waiting for what only that loop could record.
Neither shortcut may turn a correct app red: the stock route and a BaseHTTPMiddleware pass-through
app (a zero-buffer hand-off that lets the producer run one chunk ahead of the outer send) pass."""

from __future__ import annotations

import asyncio
import time

import pytest

from harness.options import GateOptions, Selection
from harness.outcomes import Outcome
from harness.probes import Marks, LockStep
from harness.session import open_session
from harness.trace import LockStepViolation, Recorder

from . import mutants

pytestmark = pytest.mark.needs_feature

DEF_VARIANTS = ["function=def", "annotation=none", "loop=for"]  # def generators on the threadpool


def test_sse_producers_through_a_base_http_middleware_pass_through_are_not_a_false_fail():
    from harness.forms import FORM_SINCE
    from harness.installed import parse_version, versions

    if parse_version(versions()["fastapi"]) < FORM_SINCE["sse"]:
        pytest.skip(f"FastAPI {versions()['fastapi']} predates Server-Sent Events (0.135.0)")
    selection = Selection(scenarios=["chat", "long-items"], checks=["incremental-delivery"], app="examples.apps.single:base_http()")
    results, _ = open_session(selection, GateOptions(no_expectations=True)).run()
    sse = [r for r in results if r.axes.get("form") == "sse" and r.outcome is not Outcome.NA]
    assert sse and {r.outcome for r in sse} == {Outcome.PASS}, [(r.app, r.detail) for r in sse]


def _incremental(builder=None, app: str | None = None) -> list:
    selection = Selection(scenarios=["long-stream"], checks=["incremental-delivery"], variants=DEF_VARIANTS,
                          include_page=False, app=app)
    session = open_session(selection, GateOptions(no_expectations=True))
    if builder is not None:
        session.builder = builder
    results, _ = session.run()
    return results


def test_the_stock_route_passes_lock_step_bare_in_process_without_a_wait():
    results = _incremental()
    assert results and {r.outcome for r in results} == {Outcome.PASS}, [r.detail for r in results]


def test_a_base_http_middleware_pass_through_app_is_not_a_false_fail():
    """Through the team's app the producer may run one chunk ahead of the outer send: the wait stays."""
    results = _incremental(app="examples.apps.single:base_http()")
    assert results and {r.outcome for r in results} == {Outcome.PASS}, [(r.app, r.detail) for r in results]


@pytest.mark.parametrize("mutant", ["buffers_then_sends_each", "reads_one_ahead"])
def test_a_buffering_framework_fails_at_once_without_waiting_out_the_lock_step_wait(mutant):
    t0 = time.monotonic()
    results = _incremental(getattr(mutants, mutant))
    took = time.monotonic() - t0
    assert results and {r.outcome for r in results} == {Outcome.FAIL}
    assert all("without a wait" in r.detail for r in results), results[0].detail
    # each of these def requests used to wait out the 2 s lock-step wait; none waits now
    assert took < 2.0 * len(results), took


def test_a_gate_told_not_to_wait_records_the_violation_at_once():
    rec = Recorder()
    gate = LockStep(rec, wait_s=0.0)
    gate.step(0, b"a")
    gate.step(1, b"b")  # chunk 0 never reached the client
    (violation,) = rec.of_kind(LockStepViolation)
    assert violation.index == 1 and violation.waited_s == 0.0 and not violation.on_event_loop


def test_waiting_for_the_client_to_leave_on_the_loop_that_records_it_returns_at_once():
    """In-process the client's leaving is recorded on the app's own loop: blocking it cannot help."""
    rec = Recorder()
    marks = Marks(rec, LockStep(rec))

    async def on_the_loop() -> tuple[bool, float]:
        t0 = time.monotonic()
        return marks.wait_gone(5.0), time.monotonic() - t0
    gone, took = asyncio.run(on_the_loop())
    assert gone is False and took < 1.0


def test_through_a_team_stack_one_message_in_a_hand_off_is_not_read_ahead():
    """On the loop nothing can wait: through the app the gate allows the one message a zero-buffer
    hand-off holds (SSE producers through BaseHTTPMiddleware were a false fail), and no more."""
    rec = Recorder()
    gate = LockStep(rec, wait_s=0.0)
    gate.in_flight = 1

    async def on_the_loop() -> None:
        gate.step(0, b"a")
        gate.step(1, b"b")  # chunk 0 may be in the hand-off
        assert not rec.of_kind(LockStepViolation)
        gate.step(2, b"c")  # chunk 0 must have reached the client by now: two cannot be in flight
    asyncio.run(on_the_loop())
    (violation,) = rec.of_kind(LockStepViolation)
    assert violation.index == 2 and violation.on_event_loop
