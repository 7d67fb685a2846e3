"""The harness's ``closure-on-disconnect`` verdict on daphne for Server-Sent Events agrees with an
independent witness: its own FastAPI app and a plain-socket client (``tests/raw_sse.py``, none of the
harness's code), on a daphne process of its own, with the same shape of request, in both states a
daphne process can be in.

Why this needs a test: daphne keeps a failed app's task (its exception, so through the traceback the
request's frames and generator) in its connection table until its application checker, once a second,
logs the exception and lets go. FastAPI's SSE teardown raises (an ``ExceptionGroup`` of anyio's
``BrokenResourceError``) when the client leaves while the producer is ahead of the response, so a GC
asked for as soon as the app's call ended cannot close the generator: the harness once called that
"never closed" where a GC after daphne let go does close it (``non-strict``). And once a failed app's
client stayed connected after the response started, daphne's checker stops for good (its 500 page
cannot start a started response): from then on the generator is never closed (``fail``).
"""

from __future__ import annotations

import importlib.util
import json

import pytest

pytestmark = [pytest.mark.needs_feature, pytest.mark.skipif(importlib.util.find_spec("daphne") is None,
                                                            reason="daphne not installed (.[servers])")]
NEEDS_SSE = pytest.mark.skipif(importlib.util.find_spec("fastapi.sse") is None,
                               reason="FastAPI < 0.135.0 has no Server-Sent Events")

SCENARIO = "long-items"
# (harness variant, the witness's producer, where the witness waits for the client): the harness holds
# the server's send for the client's acknowledgement (lock-step), its producer running ahead into
# FastAPI's buffers; the witness's hold=send does the same, in its own code
PAIRS = [
    ("sse-async-model-data-for-get", "async", "send"),
    ("sse-def-model-data-for-get", "def", "send"),
]
# after the checker stopped: only the async pair, whose app raises at every disconnect (a `def` one
# raises or returns by a race, in the harness and in the witness alike)
AFTER = PAIRS[:1]
STOPPED = "reaper having stopped"  # what the harness's detail says then


@pytest.fixture(scope="module")
def witness():
    if importlib.util.find_spec("fastapi.sse") is None:
        pytest.skip("FastAPI < 0.135.0 has no Server-Sent Events")
    from . import raw_sse

    with raw_sse.Server("daphne") as server:
        fresh = {(fn, hold): raw_sse.disconnect(server.port, fn, hold) for _, fn, hold in PAIRS}
        raw_sse.fail_mid_stream(server.port, stay_s=2.5)  # longer than the checker's period, with margin
        stopped = "application_checker" not in json.loads(raw_sse._get(server.port, "/timers"))
        after = {(fn, hold): raw_sse.disconnect(server.port, fn, hold) for _, fn, hold in AFTER}
    return fresh, stopped, after


@pytest.fixture(scope="module")
def harness():
    if importlib.util.find_spec("fastapi.sse") is None:
        pytest.skip("FastAPI < 0.135.0 has no Server-Sent Events")
    from harness.checks import get_checks
    from harness.engines import get_engine
    from harness.runner import Case, Runner

    from .helpers import SCENARIOS, variant

    engine = get_engine("daphne")

    def judge(check: str, vid: str, deadline_s: float | None = None):  # a fresh runner (its own trace cache),
        runner = Runner(engine, get_checks([check]), lockstep_wait_s=0.5, deadline_s=deadline_s)  # one server
        return runner.judge(Case(SCENARIOS[SCENARIO], variant(vid)))[0]
    try:
        fresh = {vid: judge("closure-on-disconnect", vid) for vid, _, _ in PAIRS}
        # fails mid-stream; daphne leaves the response open, the client stays until its deadline (2 s: two ticks)
        judge("closure-on-error", "sse-async-model-event-for-get", deadline_s=2.0)
        after = {vid: judge("closure-on-disconnect", vid) for vid, _, _ in AFTER}
    finally:
        engine.stop()
    return fresh, after


def _agree(got, seen) -> None:
    assert got.outcome.value == seen.outcome, (
        f"the harness says {got.outcome.value} ({got.detail}); the independent client says {seen.outcome} "
        f"(app {seen.how} {seen.error}: {seen.detail})")


@NEEDS_SSE
@pytest.mark.parametrize("vid,function,hold", PAIRS, ids=[p[0] for p in PAIRS])
def test_on_a_fresh_daphne_the_harness_agrees_with_the_independent_client(witness, harness, vid, function, hold):
    _agree(harness[0][vid], witness[0][(function, hold)])


@NEEDS_SSE
def test_a_failed_app_whose_client_stays_stops_daphnes_application_checker(witness):
    assert witness[1], "daphne's application_checker is still scheduled after a mid-stream failure"


@NEEDS_SSE
@pytest.mark.parametrize("vid,function,hold", AFTER, ids=[p[0] for p in AFTER])
def test_after_a_mid_stream_failure_the_harness_agrees_with_the_independent_client(witness, harness, vid, function,
                                                                                  hold):
    """The harness's own failing request stops the checker when its client is still connected at the
    checker's next tick (it waits up to 1 s for the broken response to end, the checker's period):
    its detail says which state it saw, and the witness in that state must agree."""
    got = harness[1][vid]
    _agree(got, (witness[2] if STOPPED in got.detail else witness[0])[(function, hold)])


def test_waiting_for_daphne_to_let_go_still_fails_a_generator_kept_forever():
    """The wait's own mutant pair: both responses' calls fail after the disconnect, so daphne holds their
    tasks until it reaps them; one keeps the generator forever (``fail``), one closes it (``pass``). A
    ``def`` route: the response is given the user's generator itself (an ``async`` one is given FastAPI's
    wrapper, which a cancellation landing inside it finishes, orphaning the generator for a GC)."""
    from harness.outcomes import Outcome

    from . import mutants
    from .helpers import judge

    kept = judge("closure-on-disconnect", "png", "def-ann-bytes-for-plain", mutants.keeps_abandoned_streams_and_raises,
                 engine="daphne")
    assert kept.outcome is Outcome.FAIL and "never closed" in kept.detail, kept.detail
    closed = judge("closure-on-disconnect", "png", "def-ann-bytes-for-plain", mutants.closes_and_raises,
                   engine="daphne")
    assert closed.outcome is Outcome.PASS, closed.detail
