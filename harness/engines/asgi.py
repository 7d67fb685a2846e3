"""The in-process engine: calls the ASGI app directly with a recording ``send``.

No test client sits in between (Starlette's TestClient and httpx's ASGI transport collect the
whole body), so every ``http.response.body`` message is seen as the app sent it, with its
``more_body`` flag and the monotonic time it was sent.

Requests run on one long-lived event loop in a daemon thread, as in a server: an async generator
abandoned by a disconnect is then finalised the way it would be in production, not rescued by a
loop shutdown. ``wait_for`` enforces each request's deadline; if the app blocks the loop itself,
the caller's wait on the future is the backstop and the stuck loop is abandoned for a new one.

Disconnects are modelled in both ASGI styles: ``receive`` returns ``http.disconnect`` (spec 2.3,
the engine's default, what uvicorn and hypercorn declare for HTTP), or ``send`` raises ``OSError``
(spec 2.4, where Starlette stops listening on ``receive``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import json
import threading
import time
from typing import Any

from ..app.encoding import CLIENT_HEADERS, decode_trace
from ..errors import HarnessError
from ..app.lifespan import STARTUP_DEADLINE_S, Lifespan, LifespanFailed
from .closure import collect, gc_paused, settle, watch_closure
from .loop_probe import lag_monitor, ping_app, probe_loop
from ..modes import DISCONNECT_STYLES, NORMAL, Kind, Mode, modes_for
from ..routes import Route
from ..trace import (AppException, AppReturned, BodyChunk, ClientDisconnected, DeadlineExceeded,
                     Recorder, ResourceClosed, ResponseStart, StreamSummary, Trace)
from . import engine
from .base import Engine, EngineSetup
from .quiet import QUIET

__all__ = ["AsgiEngine", "LoopThread"]

BACKSTOP_GRACE_S = 2.0
SETTLE_TIMEOUT_S = 1.0  # how long the loop may take to settle after a cut stream


class LoopThread:
    """An event loop running forever in a daemon thread; coroutines are submitted to it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="harness-asgi-loop", daemon=True)
        self.thread.start()

    def submit(self, coro) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self, timeout: float = 2.0) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout)
        if not self.thread.is_alive():
            self.loop.close()


def _scope(path: str, spec_version: str, state: dict[str, Any] | None = None,
           request: tuple[str, bytes, tuple] = ("GET", b"", ())) -> dict[str, Any]:
    method, body, extra = request
    headers = [(b"host", b"harness.invalid")] + [(k.encode(), v.encode()) for k, v in CLIENT_HEADERS]
    headers += [(k.encode(), v.encode()) for k, v in extra]
    if body:
        headers.append((b"content-length", str(len(body)).encode()))
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": spec_version}, "http_version": "1.1",
        "method": method, "scheme": "http", "path": path, "raw_path": path.encode("ascii"), "query_string": b"",
        "root_path": "", "headers": headers, "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80), "state": dict(state or {}),  # a copy of the lifespan's state, as servers do
    }


async def _drive(app: Any, path: str, recorder: Recorder, deadline_s: float, spec_version: str,
                 mode: Mode, state: dict[str, Any] | None = None,
                 request: tuple[str, bytes, tuple] = ("GET", b"", ())) -> None:
    """One request: an empty request body, then the response, cut where ``mode`` says."""
    client_left = asyncio.Event()
    request_given = False
    received = 0  # non-empty chunks the client took

    async def receive() -> dict[str, Any]:
        nonlocal request_given
        if not request_given:
            request_given = True
            return {"type": "http.request", "body": request[1], "more_body": False}
        await client_left.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal received
        if recorder.gone:  # the client left: a real server drops the message or raises
            if mode.style == "send-oserror":
                raise OSError("the client disconnected")
            return
        kind = message.get("type")
        if kind == "http.response.start":
            headers = tuple((bytes(k), bytes(v)) for k, v in message.get("headers") or ())
            recorder.add(ResponseStart(recorder.now(), int(message["status"]), headers))
        elif kind == "http.response.body":
            more, data = bool(message.get("more_body", False)), bytes(message.get("body", b""))
            recorder.add(BodyChunk(recorder.now(), data, more))
            received += bool(data)
            if not more:
                client_left.set()  # the exchange is over: a later receive() reports the disconnect
            elif mode.rules.client_cuts and received == mode.at:
                recorder.mark_gone(ClientDisconnected(recorder.now(), received, mode.style))
                client_left.set()
        else:
            recorder.add(AppException(recorder.now(), "UnexpectedMessage", f"ASGI message of type {kind!r}"))

    try:
        await asyncio.wait_for(app(_scope(path, spec_version, state, request), receive, send), deadline_s)
    except asyncio.TimeoutError:
        recorder.add(DeadlineExceeded(recorder.now(), deadline_s))
    except (Exception, asyncio.CancelledError) as exc:  # the app under test raised: recorded, judged
        recorder.add(AppException(recorder.now(), type(exc).__name__, str(exc)))
    else:
        recorder.add(AppReturned(recorder.now()))


@engine("asgi")
class AsgiEngine(Engine):
    """In-process, on a long-lived loop; ASGI spec 2.3 unless a mode asks for the 2.4 disconnect style."""

    name = "asgi"
    effort = 14.0

    def __init__(self, setup: EngineSetup | None = None, spec_version: str = "2.3") -> None:
        super().__init__(setup)
        self.spec_version = spec_version
        # a team's app: its lifespan runs on the engine's loop
        self.lifespan_app = self.setup.app.app if self.setup.app is not None else None
        self._lifespan: Lifespan | None = None
        self._loop: LoopThread | None = None

    def start(self) -> None:
        if self._loop is None:
            self._loop = LoopThread()
            if self.lifespan_app is not None:
                self._lifespan = Lifespan(self.lifespan_app)
                try:
                    self._loop.submit(self._lifespan.startup()).result(STARTUP_DEADLINE_S + BACKSTOP_GRACE_S)
                except (LifespanFailed, concurrent.futures.TimeoutError) as exc:
                    self._lifespan = None
                    self.stop()
                    raise HarnessError(f"the app's {exc or 'lifespan startup timed out'}") from exc

    @property
    def _state(self) -> dict[str, Any] | None:
        return self._lifespan.state if self._lifespan is not None else None

    def stop(self) -> None:
        if self._loop is not None:
            if self._lifespan is not None:
                lifespan, self._lifespan = self._lifespan, None
                try:
                    self._loop.submit(lifespan.shutdown()).result(STARTUP_DEADLINE_S + BACKSTOP_GRACE_S)
                except (LifespanFailed, concurrent.futures.TimeoutError):
                    pass  # the run is over; a failing shutdown has nothing left to judge
            self._loop.stop()
            self._loop = None

    def modes(self, kind: Kind) -> list[Mode]:
        """Both ASGI disconnect styles; no server process to shut down in-process."""
        return modes_for(kind, DISCONNECT_STYLES, servers=False)

    def call(self, app: Any, path: str, recorder: Recorder, deadline_s: float, mode: Mode = NORMAL,
             request: tuple[str, bytes, tuple] = ("GET", b"", ())) -> None:
        """Run one request (``request``: method, body, extra headers) to completion or deadline."""
        self.start()
        spec = "2.4" if mode.style == "send-oserror" else self.spec_version
        future = self._loop.submit(_drive(app, path, recorder, deadline_s, spec, mode, self._state, request))
        try:
            future.result(deadline_s + BACKSTOP_GRACE_S)
        except concurrent.futures.CancelledError:
            recorder.add(AppException(recorder.now(), "CancelledError", "the request's task was cancelled"))
        except concurrent.futures.TimeoutError:  # the app blocked the loop itself: abandon that loop
            recorder.add(DeadlineExceeded(recorder.now(), deadline_s))
            self._loop, stuck = None, self._loop
            self._lifespan = None  # it ran on the abandoned loop: a fresh start must not stack a second one
            stuck.loop.call_soon_threadsafe(stuck.loop.stop)

    def openapi_operation(self, app: Any, path: str, deadline_s: float,
                          openapi_path: str = "/openapi.json", method: str = "GET") -> dict | None:
        """GET ``openapi_path`` through the same ASGI path and return the GET operation for ``path``
        (the document decoded first if a middleware compressed it)."""
        rec = Recorder()
        self.call(app, openapi_path, rec, deadline_s)
        body = decode_trace(rec.freeze(self.name, openapi_path)).body
        try:
            return json.loads(body)["paths"][path][method.lower()]
        except (ValueError, KeyError, TypeError):
            return None

    def _settle(self) -> None:
        if self._loop is not None:
            try:
                self._loop.submit(settle()).result(SETTLE_TIMEOUT_S)
            except concurrent.futures.TimeoutError:
                pass  # a loop that will not settle: whatever is open now stays open in the trace

    def _collect(self, generation: int) -> None:
        if self._loop is not None:
            self._loop.submit(collect(generation)).result(10)
        else:
            gc.collect(generation)

    def _ping(self) -> None:
        rec = Recorder()
        self._loop.submit(_drive(ping_app, "/ping", rec, 5.0, self.spec_version, NORMAL)).result(10)

    def _measure(self, route: Route, recorder: Recorder, deadline_s: float, streams: int) -> None:
        """``streams`` requests at once on the loop, with the lag monitor in it and the probe outside."""
        self.start()

        async def group() -> None:
            stop = asyncio.Event()
            monitor = asyncio.create_task(lag_monitor(recorder, stop))

            done: list[tuple[int, Recorder, float]] = []

            async def one(index: int) -> None:
                rec, t0 = Recorder(), time.monotonic()
                await _drive(route.app, route.path, rec, deadline_s, self.spec_version, NORMAL, self._state,
                             (route.method, route.body, route.headers))
                done.append((index, rec, time.monotonic() - t0))
            await asyncio.gather(*(one(i) for i in range(streams)))
            stop.set()
            await monitor
            for index, rec, took in done:  # summed once the loop is no longer measured
                data = [m.data for m in decode_trace(rec.freeze(self.name, route.path)).body_messages if m.data]
                recorder.add(StreamSummary(recorder.now(), index, len(data), sum(map(len, data)), took, streams))

        future = self._loop.submit(group())
        probe_loop(recorder, self._ping, future.done)
        future.result(deadline_s * 4)

    def perform(self, route: Route, recorder: Recorder, deadline_s: float, mode: Mode = NORMAL) -> Trace:
        if mode.stream_counts:  # it measures this interpreter: the other engines wait meanwhile
            with QUIET.alone():
                for streams in mode.stream_counts:
                    self._measure(route, recorder, deadline_s, streams)
            return recorder.freeze(self.name, route.path, mode=mode.key)
        if mode.wants_closure_watch:
            with gc_paused():
                self.call(route.app, route.path, recorder, deadline_s, mode, (route.method, route.body, route.headers))
                watch_closure(recorder, self._settle, self._collect, lambda: bool(recorder.of_kind(ResourceClosed)))
        else:
            self.call(route.app, route.path, recorder, deadline_s, mode, (route.method, route.body, route.headers))
        operation = (self.openapi_operation(route.app, route.documented_path or route.path, deadline_s,
                                            route.openapi_path, route.method)
                     if route.openapi_path and mode.rules.side_requests else None)
        spec = "2.4" if mode.style == "send-oserror" else self.spec_version
        return recorder.freeze(self.name, route.path, operation, notes=(f"ASGI spec_version {spec}",),
                               mode=mode.key)
