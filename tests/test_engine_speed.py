"""What keeps a server engine fast without changing what it observes (issue 14): the side channel's
connections, the batches, and a response cut short once the app failed."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from harness.checks import get_checks
from harness.engines import engine_unavailable, get_engine
from harness.engines.control import ControlClient, ControlServer, ProbeRegistry
from harness.engines.servers import BROKEN_END_S, ServerEngine
from harness.forms import form_missing_reason
from harness.runner import Case, Runner
from harness.trace import AppException, AppReturned, DeadlineExceeded

from .helpers import SCENARIOS, variant

pytestmark = pytest.mark.needs_feature


def _until(condition, deadline_s: float = 10.0) -> None:
    """Wait for another thread to reach a state (coordination, with a deadline; never a verdict)."""
    end = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < end, "the other thread never got there"
        time.sleep(0.001)


def test_an_acknowledgement_never_waits_behind_another_requests_blocking_wait():
    """One request blocks in ``wait`` until its app returns; another request's acknowledgement, sent
    meanwhile, reaches the server at once (on one shared connection it queued behind the wait)."""
    registry = ProbeRegistry()
    server = ControlServer(0, registry)
    server.start()
    client = ControlClient(server.server_address[1])
    try:
        waiting = threading.Thread(target=client.call, args=("wait",),
                                   kwargs=dict(rid="slow", kinds=[AppReturned.__name__], timeout=30))
        waiting.start()
        _until(lambda: client.connections == 1 and not client._idle)  # the wait holds the first connection
        client.send("ack", rid="fast", n=3)
        _until(lambda: registry.get("fast").recorder.acked == 3)
        assert waiting.is_alive()  # the acknowledgement did not wait for it
        assert client.connections == 2
        registry.get("slow").recorder.add(AppReturned(time.monotonic()))
        waiting.join(10)
        assert not waiting.is_alive()
    finally:
        client.close()
        server.shutdown()
        server.server_close()


def test_failed_answers_when_the_app_raised_and_when_the_request_was_released():
    registry = ProbeRegistry()
    server = ControlServer(0, registry)
    server.start()
    client = ControlClient(server.server_address[1])
    try:
        with client.lease() as news:
            news.send("failed", rid="a", timeout=30)
            registry.get("a").recorder.add(AppException(time.monotonic(), "ValueError", "on purpose"))
            assert news.reply(timeout=30) == {"ok": True}
            news.send("failed", rid="b", timeout=30)
            client.send("gone", rid="b")  # released: nothing to cut short
            assert news.reply(timeout=30) == {"ok": False}
    finally:
        client.close()
        server.shutdown()
        server.server_close()


@pytest.mark.skipif(bool(engine_unavailable("daphne")), reason="daphne is not installed")
def test_a_response_the_server_leaves_open_after_the_app_failed_costs_the_grace_not_the_deadline():
    """daphne leaves a stream open after the app raised mid-way (an item its model rejects): the client
    hears of the failure through the side channel and gives the server ``BROKEN_END_S`` to end or
    close it, as in the ``error`` kind, not the request's whole 10 s deadline."""
    case = Case(SCENARIOS["invalid-item"], variant("sse-async-model-data-for-get"))
    missing = form_missing_reason(case.variant)
    if missing:
        pytest.skip(missing)
    with Runner(get_engine("daphne"), get_checks(["item-validation"]), deadline_s=10.0) as runner:
        trace = runner.trace(case.scenario, case.variant)
    assert trace.of(AppException), trace.events
    (late,) = trace.of(DeadlineExceeded)
    assert late.deadline_s == BROKEN_END_S


@pytest.mark.skipif(bool(engine_unavailable("uvicorn")), reason="uvicorn is not installed")
def test_a_batch_requests_only_what_a_check_judges_and_twins_together(monkeypatch):
    """The error batch leaves out scenarios whose checks never read an error trace (invalid-item), and
    a check's context twins in a batched kind come in one batch per mode, not one each."""
    batches: list[tuple[str, list[str]]] = []
    perform_batch = ServerEngine.perform_batch

    def spy(self, items, deadline_s, mode):
        batches.append((mode.key, [f"{route.scenario}/{route.variant}" for route, _ in items]))
        return perform_batch(self, items, deadline_s, mode)
    monkeypatch.setattr(ServerEngine, "perform_batch", spy)
    cases = [Case(SCENARIOS[name], variant(vid)) for name in ("long-stream", "invalid-item")
             for vid in ("def-ann-bytes-for-plain", "async-ann-bytes-for-plain", "jsonl-async-model-for")
             if not SCENARIOS[name].na_reason(variant(vid))]
    with Runner(get_engine("uvicorn"), get_checks(["closure-on-error", "dependency-teardown"]), plan=cases) as runner:
        runner.run(cases)
    errors = [names for key, names in batches if key.startswith("error")]
    assert errors and not [n for names in errors for n in names if n.startswith("invalid-item/")]
    twins = [names for names in errors if any("~teardown" in n for n in names)]
    assert len(twins) == 1 and len(twins[0]) == 2, batches  # both variants' teardown twins at once


def _uvicorn_offered(taken: int, monkeypatch):
    """A uvicorn server process started when the first port it is offered is ``taken``."""
    from harness.engines import servers

    ports = iter([taken, servers.free_port(), servers.free_port(), servers.free_port()])
    monkeypatch.setattr(servers, "free_port", lambda: next(ports))
    config = {"builder": "harness.routes:build_route", "scenarios_dirs": [], "builtin_scenarios": True,
              "sys_path": [], "lockstep_wait_s": 2.0}
    return servers.ServerProcess(servers.SERVERS["uvicorn"], config).start()


@pytest.mark.skipif(bool(engine_unavailable("uvicorn")), reason="uvicorn is not installed")
def test_a_server_whose_port_another_process_took_starts_again_on_other_ports(monkeypatch):
    """Between choosing a free port and the server binding it, another process (another run on the
    machine) may bind it: its listener answers, so it looked ready while our server exited, and every
    request of the engine failed. The listener must be the server's own, or it starts again."""
    from harness.engines import servers

    foreign = socket.socket()
    foreign.bind(("127.0.0.1", 0))
    foreign.listen()
    taken = foreign.getsockname()[1]
    proc = _uvicorn_offered(taken, monkeypatch)
    try:
        assert taken not in (proc.port, proc.control_port)
        assert servers._ours(proc.port, proc.popen.pid) and servers._ours(proc.control_port, proc.popen.pid)
        assert not servers._ours(taken, proc.popen.pid)
    finally:
        proc.stop()
        foreign.close()


@pytest.mark.skipif(bool(engine_unavailable("uvicorn")), reason="uvicorn is not installed")
def test_a_server_whose_port_is_a_clients_source_port_starts_again_on_other_ports(monkeypatch):
    """The kernel gives a client connection its source port from the range :func:`free_port` draws
    from: a port chosen free can be an open connection's local port by the time the server binds it.
    Nothing listens there, yet the bind fails ("address already in use"; seen once in CI as an
    ``error`` result): the server starts again on other ports."""
    from harness.engines import servers

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    client = socket.create_connection(listener.getsockname())  # its source port: a port nobody listens on
    accepted, _ = listener.accept()
    taken = client.getsockname()[1]
    assert not servers._socket_inodes(taken) and servers._socket_inodes(taken, listening=False)
    proc = _uvicorn_offered(taken, monkeypatch)
    try:
        assert taken not in (proc.port, proc.control_port)
        assert servers._ours(proc.port, proc.popen.pid)
    finally:
        proc.stop()
        for s in (client, accepted, listener):
            s.close()
