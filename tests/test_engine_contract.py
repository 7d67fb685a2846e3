"""A new in-process engine is one file: a subclass of ``Engine`` with ``@engine``.

The engine below is the smallest honest one: each request runs on a fresh event loop of its own
(``asyncio.run``), the ASGI messages recorded as the app sends them. It performs only normal
requests, so every check of another kind is ``n/a`` on it, with the reason. The session, the
runner, the checks and the reports need nothing else to use it.
"""

from __future__ import annotations

import asyncio

import pytest

from harness.engines import Engine, _REGISTRY, engine, engine_names
from harness.modes import NORMAL, Kind, Mode
from harness.options import GateOptions, Selection
from harness.outcomes import Outcome
from harness.session import open_session
from harness.trace import AppException, AppReturned, BodyChunk, Recorder, ResponseStart

pytestmark = pytest.mark.needs_feature


class OneLoopPerRequest(Engine):
    """In-process, a fresh loop per request; normal requests only."""

    def stop(self) -> None:
        pass  # nothing outlives a request

    def modes(self, kind: Kind) -> list[Mode]:
        return [NORMAL] if kind is Kind.NORMAL else []

    def perform(self, route, recorder: Recorder, deadline_s: float, mode: Mode = NORMAL):
        async def request() -> None:
            asked, done = False, asyncio.Event()

            async def receive():  # the request once, then (after the response) the client leaves
                nonlocal asked
                if not asked:
                    asked = True
                    return {"type": "http.request", "body": b"", "more_body": False}
                await done.wait()
                return {"type": "http.disconnect"}

            async def send(message):
                if message["type"] == "http.response.start":
                    recorder.add(ResponseStart(recorder.now(), message["status"],
                                               tuple(message.get("headers") or ())))
                else:
                    recorder.add(BodyChunk(recorder.now(), bytes(message.get("body", b"")),
                                           bool(message.get("more_body"))))
                    if not message.get("more_body"):
                        done.set()
            scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
                     "method": "GET", "scheme": "http", "path": route.path, "raw_path": route.path.encode(),
                     "root_path": "", "query_string": b"", "headers": [(b"host", b"test")],
                     "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
            try:
                await asyncio.wait_for(route.app(scope, receive, send), deadline_s)
            except Exception as exc:
                recorder.add(AppException(recorder.now(), type(exc).__name__, str(exc)))
            else:
                recorder.add(AppReturned(recorder.now()))
        asyncio.run(request())
        return recorder.freeze(self.name, route.path, mode=mode.key)


@pytest.fixture
def one_loop_engine():
    engine("one-loop")(OneLoopPerRequest)
    try:
        yield "one-loop"
    finally:
        _REGISTRY.pop("one-loop", None)  # the registry is process-wide: leave it as found


def test_a_small_engine_defined_in_a_test_runs_the_matrix(one_loop_engine):
    assert one_loop_engine in engine_names()
    session = open_session(Selection(scenarios=["story"], engines=[one_loop_engine], include_page=False,
                                     checks=["chunk-order", "no-json-coercion", "closure-on-completion",
                                             "closure-on-disconnect"], variants=["def-ann-*"]),
                           GateOptions(no_expectations=True))
    results, times = session.run()
    assert set(times) == {one_loop_engine} and {r.engine for r in results} == {one_loop_engine}
    by_check: dict[str, set] = {}
    for r in results:
        by_check.setdefault(r.check, set()).add(r.outcome)
    assert by_check["chunk-order"] == by_check["no-json-coercion"] == by_check["closure-on-completion"] == {Outcome.PASS}
    assert by_check["closure-on-disconnect"] == {Outcome.NA}
    assert all("cannot perform 'disconnect' requests" in r.detail for r in results if r.check == "closure-on-disconnect")


def test_the_small_engine_catches_a_mutant_too(one_loop_engine):
    from tests import mutants

    session = open_session(Selection(scenarios=["story"], engines=[one_loop_engine], include_page=False,
                                     checks=["chunk-order"], variants=["def-ann-str-for-plain"]),
                           GateOptions(no_expectations=True))
    session.builder = mutants.reorders_chunks
    results, _ = session.run()
    assert [r.outcome for r in results] == [Outcome.FAIL] and not session.passed(results)


def test_an_engine_must_subclass_the_contract():
    with pytest.raises(TypeError, match="must subclass harness.engines.Engine"):
        engine("not-an-engine")(object)
