"""Real clients on a real server (uvicorn): SSE parsed by httpx-sse and by a browser's ``EventSource``
(Debian's chromium, headless, through playwright with ``executable_path``), JSON Lines read line by
line off a raw socket while the producer is held in lock-step.

What each client must get is the harness's independent encoder (``forms.expected.expected_messages``), never
FastAPI's output, on the pages' samples and on the generated variants."""

from __future__ import annotations

import json
import shutil
import socket
import sys
import uuid

import pytest

from harness.engines.control import ControlClient
from harness.engines.server_app import route_path
from harness.engines.servers import SERVERS, ServerProcess
from harness.forms.expected import expected_messages
from harness.routes import build_route
from harness.trace import GeneratorStep
from harness.variants import form_variants, page_variants

from .helpers import SCENARIOS, variant

pytestmark = pytest.mark.needs_feature
NEEDS_SSE = pytest.mark.skipif(__import__("importlib.util").util.find_spec("fastapi.sse") is None,
                               reason="FastAPI < 0.135.0 has no Server-Sent Events")
CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
DEADLINE_S = 10.0


@pytest.fixture(scope="module")
def server():
    if SERVERS["uvicorn"].missing():
        pytest.fail("uvicorn is in the test extra: " + SERVERS["uvicorn"].missing())
    proc = ServerProcess(SERVERS["uvicorn"], {"builder": "harness.routes:build_route", "scenarios_dirs": [],
                                              "builtin_scenarios": True, "sys_path": [p for p in sys.path if p],
                                              "lockstep_wait_s": 2.0}).start()
    try:
        yield proc
    finally:
        proc.stop()


def _request(scenario: str, vid: str):
    """Where and how to request the variant (the route built here says method, body and headers)."""
    sc, v = SCENARIOS[scenario], variant(vid)
    route = build_route(sc, v, lambda chunk_type: None)
    return sc, v, route, route_path(scenario, vid, route.path)


# --- httpx-sse --------------------------------------------------------------------------------------

SSE_CASES = ([("items", v.id) for v in form_variants("sse") if not v.na_reason]
             + [("adversarial-items", v.id) for v in form_variants("sse")
                if not v.na_reason and v.axis["function"] == "async" and v.axis["method"] == "get"]
             + [(s, v.id) for s in ("items", "priced-items", "logs", "chat") for v in page_variants(s)
                if v.form == "sse"])


def _dispatched(expected) -> list[tuple[str, str, str, int | None]]:
    """What an event-stream parser dispatches, from the independent encoder's events: a block with no
    field is a comment only (nothing dispatched); the last event id carries over (WHATWG)."""
    out, last_id = [], ""
    for e in (x.event for x in expected):
        last_id = e.id if e.id is not None else last_id
        if e.data is None and e.event is None and e.id is None and e.retry is None:
            continue
        out.append((e.event or "message", e.data or "", last_id, e.retry))
    return out


@NEEDS_SSE
@pytest.mark.parametrize("scenario,vid", SSE_CASES, ids=[f"{s}/{v}" for s, v in SSE_CASES])
def test_httpx_sse_parses_every_event_in_order(server, scenario, vid):
    import httpx
    from httpx_sse import connect_sse

    sc, v, route, path = _request(scenario, vid)
    headers = {**dict(route.headers), "x-harness-request": uuid.uuid4().hex}
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=DEADLINE_S) as client:
        with connect_sse(client, route.method, path, content=route.body or None, headers=headers) as source:
            assert source.response.status_code == 200
            got = [(e.event, e.data, e.id, e.retry) for e in source.iter_sse()]
    assert got == _dispatched(expected_messages(sc, v))


# --- JSON Lines off a raw socket, line by line ------------------------------------------------------


def _dechunk(sock: socket.socket, buffer: bytearray):
    """Yield the body's bytes as HTTP chunks arrive (the headers already consumed)."""
    def need(n: int) -> None:
        while len(buffer) < n:
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("closed mid-response")
            buffer.extend(data)
    while True:
        while b"\r\n" not in buffer:
            need(len(buffer) + 1)
        size_line, _, rest = bytes(buffer).partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        buffer[:] = rest
        need(size + 2)
        chunk = bytes(buffer[:size])
        del buffer[:size + 2]
        if size == 0:
            return
        yield chunk


@pytest.mark.parametrize("vid", ["jsonl-async-model-for", "jsonl-def-model-for"])
def test_jsonl_lines_arrive_while_the_producer_is_held(server, vid):
    """Each line is parsed as it arrives; after reading line k the producer has made at most k+1 items
    (lock-step: the server's probe holds it until this client acknowledges the line), so the first
    line is in hand long before the last item exists."""
    sc, v, route, path = _request("long-items", vid)
    expected = [e.value for e in expected_messages(sc, v)]
    rid, control = uuid.uuid4().hex, ControlClient(server.control_port)
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE_S)
    try:
        sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nx-harness-request: {rid}\r\n"
                      "x-harness-lockstep: wire\r\nx-harness-mode: normal\r\n\r\n").encode())
        buffer = bytearray()
        while b"\r\n\r\n" not in buffer:
            buffer.extend(sock.recv(65536))
        head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and b"transfer-encoding: chunked" in head.lower()
        buffer[:] = rest
        pending, lines, made_at_first = b"", [], None
        for chunk in _dechunk(sock, buffer):
            pending += chunk
            while b"\n" in pending:
                line, _, pending = pending.partition(b"\n")
                lines.append(json.loads(line))
                made = _made(control, rid, len(lines))
                assert made <= len(lines) + 1, f"{made} items made when line {len(lines)} arrived"
                if made_at_first is None:
                    made_at_first = made
                control.send("ack", rid=rid, n=len(lines))
        assert pending == b"" and lines == expected
        assert made_at_first is not None and made_at_first < len(expected)
    finally:
        sock.close()
        control.send("gone", rid=rid)
        control.call("forget", rid=rid)
        control.close()


def _made(control: ControlClient, rid: str, lines: int) -> int:
    """How many items the producer has made, once it has made the next one or is waiting for this
    line's acknowledgement (the server's events, read through the side channel)."""
    steps = [e for e in control.events(rid) if isinstance(e, GeneratorStep)]
    return len(steps)


# --- EventSource in chromium ------------------------------------------------------------------------

EVENT_SOURCE_CASES = ["sse-async-model-data-for-get", "sse-def-noann-event-for-get", "sse-async-plain-raw-for-get",
                      "page:sse:/items/stream", "page:sse:/items/stream-no-async-no-annotation"]


@NEEDS_SSE
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary on PATH (apt-get install chromium)")
def test_event_source_in_chromium_receives_every_event_in_order(server):
    from playwright.sync_api import sync_playwright  # in the test extra: missing is a failure, not a skip

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.set_default_timeout(DEADLINE_S * 1000)
            page.goto(f"http://127.0.0.1:{server.port}/h/_ping")  # same origin as the streams
            for vid in EVENT_SOURCE_CASES:
                sc, v, route, path = _request("items", vid)
                want = _dispatched(expected_messages(sc, v))
                page.set_extra_http_headers({"x-harness-request": uuid.uuid4().hex})
                got = page.evaluate(_COLLECT, {"path": path, "count": len(want),
                                               "types": sorted({w[0] for w in want})})
                assert [(g["type"], g["data"], g["id"]) for g in got] == [w[:3] for w in want], vid
        finally:
            browser.close()


# Collect ``count`` events (of the listed types) from one EventSource, then close it before the browser
# reconnects; an error before that is a failure with what was received so far.
_COLLECT = """({path, count, types}) => new Promise((resolve, reject) => {
  const got = [], source = new EventSource(path);
  const take = (e) => {
    got.push({type: e.type, data: e.data, id: e.lastEventId});
    if (got.length === count) { source.close(); resolve(got); }
  };
  for (const t of types) source.addEventListener(t, take);
  source.onerror = () => { source.close(); reject(new Error("EventSource error after " + JSON.stringify(got))); };
})"""
