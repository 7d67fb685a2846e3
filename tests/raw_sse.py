"""An independent witness for closure after an SSE disconnect: its own FastAPI app and a plain-socket
client, none of the harness's code.

The app streams Server-Sent Events from a generator whose ``with`` block records when it closes;
``hold`` says where the stream waits for the client (which acknowledges every event on ``/ack``):
``send`` in an ASGI wrapper around the server's ``send`` after each event (the producer runs ahead into
FastAPI's buffers, as under the harness's lock-step, or as a slow client makes it on a server that
waits for the socket), ``gen`` in the generator itself (an ``await`` on the client: cancellation
reaches the generator), ``none`` nowhere; ``raise``: the producer fails after two events
(:func:`fail_mid_stream`, which on daphne stops the application checker). Automatic GC is off in the
app's process; ``/state`` says whether the resource closed and how the app's ASGI call ended, and can
collect first (then also who still holds the request's task); ``/timers`` lists a Twisted reactor's
scheduled calls (daphne's ``application_checker`` among them while it runs).

The client reads two events, closes the socket, waits for the app's call to end, then judges as the
harness's ``closure-on-disconnect`` does: closed within 1 s without help (``pass``), only by a GC
(``non-strict``, collections asked for every 0.1 s until ``GIVE_UP_S``), or never (``fail``).

Run it by hand against a server: ``python -m tests.raw_sse daphne`` (or uvicorn, hypercorn, granian):
each shape on a fresh server, then again after one mid-stream failure, each judged twice (as above,
and with one GC as soon as the app's call ended, naming who holds the task then).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterable, Iterable

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.sse import EventSourceResponse

N_EVENTS = 64
WITHOUT_HELP_S = 1.0  # the claim's own bound (closure-on-disconnect: closed within 1 s without help)
GIVE_UP_S = 3.0  # collections asked for until then; daphne lets go of a failed app within ~1 s
DEADLINE_S = 5.0  # every socket operation and wait


# --- the app -----------------------------------------------------------------------------------------
class _Acks:
    """How many events the client has acknowledged, awaitable from the loop and a worker thread."""

    def __init__(self) -> None:
        self.n, self.cond, self.event = 0, threading.Condition(), asyncio.Event()

    def set(self, n: int) -> None:
        with self.cond:
            self.n = max(self.n, n)
            self.cond.notify_all()
        self.event.set()

    async def wait(self, n: int) -> None:
        while self.n < n:
            self.event.clear()
            if self.n < n:
                await self.event.wait()

    def wait_thread(self, n: int) -> None:
        with self.cond:
            self.cond.wait_for(lambda: self.n >= n, DEADLINE_S)


STATE: dict[str, dict[str, Any]] = {}
ACKS: dict[str, _Acks] = {}
TASKS: dict[str, weakref.ref] = {}


class _Resource:
    def __init__(self, rid: str) -> None:
        self.rid = rid

    def __enter__(self) -> "_Resource":
        return self

    def __exit__(self, *exc: object) -> None:
        STATE[self.rid]["closed"] = time.monotonic()


sse_app = FastAPI()


@sse_app.get("/sse-async", response_class=EventSourceResponse)
async def sse_async(rid: str, hold: str) -> AsyncIterable[dict]:
    with _Resource(rid):
        for i in range(N_EVENTS):
            if hold == "raise" and i == 2:
                raise RuntimeError("the producer failed mid-stream")
            if hold == "gen" and i:
                await ACKS[rid].wait(i)
            yield {"i": i}


@sse_app.get("/sse-def", response_class=EventSourceResponse)
def sse_def(rid: str, hold: str) -> Iterable[dict]:
    with _Resource(rid):
        for i in range(N_EVENTS):
            if hold == "gen" and i:
                ACKS[rid].wait_thread(i)
            yield {"i": i}


@sse_app.get("/ack")
async def ack(rid: str, n: int) -> dict:
    ACKS[rid].set(n)
    return {"ok": True}


@sse_app.get("/state")
async def state(rid: str, collect: int = 0) -> JSONResponse:
    if collect:
        gc.collect()
        for _ in range(10):  # a collected async generator closes in the aclose() its finaliser schedules
            await asyncio.sleep(0)
    task, held = TASKS[rid](), ""
    if collect:
        held = "freed" if task is None else ", ".join(sorted({_holder(r, task) for r in gc.get_referrers(task)}))
    return JSONResponse({**STATE[rid], "task": held})


@sse_app.get("/timers")
async def timers() -> list:
    """The Twisted reactor's scheduled calls, when the server runs one (daphne): is its application
    checker still scheduled?"""
    if "twisted.internet.reactor" not in sys.modules:
        return []
    from twisted.internet import reactor

    return sorted(getattr(c.func, "__name__", repr(c.func)) for c in reactor.getDelayedCalls())


def _holder(referrer: Any, task: Any) -> str:
    if isinstance(referrer, dict) and referrer.get("application_instance") is task:
        return "the server's connection table (application_instance)"
    return type(referrer).__name__


async def app(scope, receive, send) -> None:
    """The ASGI entry: registers the request, holds ``send`` for ``hold=send``, records how it ended."""
    gc.disable()  # in the server's process: a close must never depend on when a collection happened to run
    if scope["type"] != "http" or not scope["path"].startswith("/sse"):
        await sse_app(scope, receive, send)
        return
    query = dict(p.split("=", 1) for p in scope["query_string"].decode().split("&") if "=" in p)
    rid, hold = query["rid"], query["hold"]
    ACKS[rid], TASKS[rid] = _Acks(), weakref.ref(asyncio.current_task())
    STATE[rid] = {"closed": None, "ended": None, "how": None}
    sent = 0

    async def held_send(message: dict) -> None:
        nonlocal sent
        await send(message)
        if hold == "send" and message.get("body") and message.get("more_body"):
            sent += 1
            await ACKS[rid].wait(sent)

    try:
        await sse_app(scope, receive, held_send)
    except BaseException as exc:
        STATE[rid].update(ended=time.monotonic(), how=f"raised {type(exc).__name__}", error=str(exc)[:120])
        raise
    STATE[rid].update(ended=time.monotonic(), how="returned")


# --- the client ------------------------------------------------------------------------------------------
def _get(port: int, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" not in head.lower():
        return body
    out = b""
    while True:
        size, _, rest = body.partition(b"\r\n")
        if int(size, 16) == 0:
            return out
        out, body = out + rest[:int(size, 16)], rest[int(size, 16) + 2:]


def _state(port: int, rid: str, collect: bool = False) -> dict:
    return json.loads(_get(port, f"/state?rid={rid}&collect={int(collect)}"))


@dataclass
class Seen:
    function: str
    hold: str
    outcome: str  # pass | non-strict | fail, as closure-on-disconnect says them
    how: str  # how the app's call ended
    error: str  # what it raised, if it did
    detail: str


def disconnect(port: int, function: str, hold: str, keep: int = 2, gc_at_once: bool = False) -> Seen:
    """Read ``keep`` events (acknowledging all but the last), close the socket, judge the closure.
    ``gc_at_once``: instead, one GC as soon as the app's call ended, and who holds its task then
    (the mechanism: daphne holds a failed app's task until its once-a-second check)."""
    rid = uuid.uuid4().hex
    sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S)
    sock.sendall(f"GET /sse-{function}?rid={rid}&hold={hold} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += sock.recv(65536)
    buf = buf.partition(b"\r\n\r\n")[2]
    events, text = 0, b""
    while events < keep:  # HTTP/1.1 chunks, then events (blank-line terminated; comments are not events)
        while b"\r\n" not in buf:
            buf += sock.recv(65536)
        size, _, buf = buf.partition(b"\r\n")
        while len(buf) < int(size, 16) + 2:
            buf += sock.recv(65536)
        text, buf = text + buf[:int(size, 16)], buf[int(size, 16) + 2:]
        while b"\n\n" in text:
            event, _, text = text.partition(b"\n\n")
            if not event.startswith(b":"):
                events += 1
                if events < keep:
                    _get(port, f"/ack?rid={rid}&n={events}")
    sock.close()
    t_cut = time.monotonic()
    seen = _state(port, rid)
    while seen["ended"] is None and time.monotonic() - t_cut < DEADLINE_S:
        time.sleep(0.01)
        seen = _state(port, rid)
    if seen["ended"] is None:
        return Seen(function, hold, "fail", "still running", "", "the app's call never ended")
    app_end = (seen["how"], seen.get("error", ""))
    if gc_at_once:
        seen = _state(port, rid, collect=True)
        return Seen(function, hold, "closed" if seen["closed"] else "open", *app_end,
                    f"after a GC as the app's call ended; its task: {seen['task'] or 'alive'}")
    collected_at = None
    while seen["closed"] is None and time.monotonic() - t_cut < GIVE_UP_S:
        time.sleep(0.1)
        helped = time.monotonic() - t_cut > WITHOUT_HELP_S
        seen = _state(port, rid, collect=helped)
        if helped and collected_at is None:
            collected_at = time.monotonic() - t_cut
    if seen["closed"] is None:
        return Seen(function, hold, "fail", *app_end, f"still open {GIVE_UP_S:g} s after the disconnect, GC asked "
                                                      f"every 0.1 s; the request's task: {seen['task']}")
    after = seen["closed"] - seen["ended"]
    if collected_at is None:
        when = f"{after * 1000:.1f} ms after the app's call ended" if after > 0 else "as the app's call unwound"
        return Seen(function, hold, "pass", *app_end, f"closed {when}")
    return Seen(function, hold, "non-strict", *app_end, f"closed only by a GC ({collected_at:.2f} s after the "
                                                        f"disconnect: GCs are asked from {WITHOUT_HELP_S:g} s)")


def fail_mid_stream(port: int, stay_s: float = 1.5) -> str:
    """A producer that raises after two events while its client stays connected ``stay_s`` (longer than
    daphne's once-a-second application check), then leaves. On daphne this stops the application
    checker for good: it calls ``handle_exception`` on the still-connected request, whose 500 response
    cannot start on a started response (``ValueError``), and the checker reschedules itself only at its
    end. Returns how the app's call ended."""
    rid = uuid.uuid4().hex
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S) as sock:
        sock.sendall(f"GET /sse-async?rid={rid}&hold=raise HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        end = time.monotonic() + stay_s
        sock.settimeout(0.1)
        while time.monotonic() < end:
            try:
                if not sock.recv(65536):
                    break
            except socket.timeout:
                pass
    return _state(port, rid)["how"]


# --- a server to run it on -----------------------------------------------------------------------------
def server_argv(server: str, port: int) -> list[str]:
    py, target = sys.executable, "tests.raw_sse:app"
    return {
        "daphne": [py, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "-v", "0", target],
        "uvicorn": [py, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port), "--log-level", "critical"],
        "hypercorn": [py, "-m", "hypercorn", target, "--bind", f"127.0.0.1:{port}", "--log-level", "critical"],
        "granian": [py, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
                    "--workers", "1", "--log-level", "critical", target],
    }[server]


class Server:
    """A server process serving :func:`app` on 127.0.0.1, ready within a deadline, always stopped."""

    def __init__(self, server: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        root = Path(__file__).resolve().parent.parent
        self.popen = subprocess.Popen(server_argv(server, self.port), cwd=root, start_new_session=True,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      env={**os.environ, "PYTHONPATH": str(root)})

    def __enter__(self) -> "Server":
        end = time.monotonic() + 30
        while True:
            try:
                _get(self.port, "/openapi.json")
                return self
            except OSError:
                if self.popen.poll() is not None or time.monotonic() > end:
                    self.__exit__()
                    raise RuntimeError(f"the server did not start on 127.0.0.1:{self.port}")
                time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)


SHAPES = [("async", "send"), ("async", "none"), ("async", "gen"), ("def", "send"), ("def", "none")]
# (a `def` generator waiting for the client in its worker thread cannot be interrupted: not run)

if __name__ == "__main__":
    for name in sys.argv[1:] or ["daphne"]:
        with Server(name) as srv:
            for phase in ("fresh", "after a mid-stream failure"):
                if phase != "fresh":
                    print(f"{name:9} the server's timers: {_get(srv.port, '/timers').decode()}")
                    how = fail_mid_stream(srv.port)
                    print(f"{name:9} a producer fails mid-stream, its client stays 1.5 s: app {how}")
                    print(f"{name:9} the server's timers: {_get(srv.port, '/timers').decode()}")
                for fn, hold in SHAPES:
                    for at_once in (False, True):
                        r = disconnect(srv.port, fn, hold, gc_at_once=at_once)
                        print(f"{name:9} {phase[:5]} {fn:5} hold={hold:4} {r.outcome:10} app {r.how:22} {r.detail}",
                              flush=True)
