"""The in-process engine: calls the ASGI app directly with a recording ``send``.

No test client sits in between (Starlette's TestClient and httpx's ASGI transport collect the
whole body), so every ``http.response.body`` message is seen as the app sent it, with its
``more_body`` flag and the monotonic time it was sent.

Each request runs in its own event loop on its own daemon thread: the loop's ``wait_for`` enforces
the request deadline, and the thread join is a backstop that holds even when the app blocks its
loop or a worker thread that cannot be cancelled. A stuck request costs its deadline, never the run.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from ..routes import Route
from ..trace import AppException, AppReturned, BodyChunk, DeadlineExceeded, Recorder, ResponseStart, Trace
from . import engine

__all__ = ["AsgiEngine", "call_asgi"]

BACKSTOP_GRACE_S = 2.0


def _scope(path: str, spec_version: str) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": spec_version}, "http_version": "1.1",
        "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode("ascii"), "query_string": b"",
        "root_path": "", "headers": [(b"host", b"harness.invalid")], "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80), "state": {},
    }


async def _drive(app: Any, path: str, recorder: Recorder, deadline_s: float, spec_version: str) -> None:
    """One request: a complete empty request body, then ``http.disconnect`` once the response ended."""
    response_done = asyncio.Event()
    request_given = False

    async def receive() -> dict[str, Any]:
        nonlocal request_given
        if not request_given:
            request_given = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await response_done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "http.response.start":
            headers = tuple((bytes(k), bytes(v)) for k, v in message.get("headers") or ())
            recorder.add(ResponseStart(recorder.now(), int(message["status"]), headers))
        elif kind == "http.response.body":
            more = bool(message.get("more_body", False))
            recorder.add(BodyChunk(recorder.now(), bytes(message.get("body", b"")), more))
            if not more:
                response_done.set()
        else:
            recorder.add(AppException(recorder.now(), "UnexpectedMessage", f"ASGI message of type {kind!r}"))

    try:
        await asyncio.wait_for(app(_scope(path, spec_version), receive, send), deadline_s)
    except asyncio.TimeoutError:
        recorder.add(DeadlineExceeded(recorder.now(), deadline_s))
    except Exception as exc:  # the app under test raised: recorded, judged by the checks
        recorder.add(AppException(recorder.now(), type(exc).__name__, str(exc)))
    else:
        recorder.add(AppReturned(recorder.now()))


def call_asgi(app: Any, path: str, recorder: Recorder, deadline_s: float, spec_version: str = "2.3") -> None:
    """Run one request to completion or deadline, on a fresh loop in a daemon thread."""
    worker = threading.Thread(
        target=lambda: asyncio.run(_drive(app, path, recorder, deadline_s, spec_version)),
        name=f"asgi-request {path}", daemon=True)
    worker.start()
    worker.join(deadline_s + BACKSTOP_GRACE_S)
    if worker.is_alive():  # the app blocked its own loop past the deadline: abandon the thread
        recorder.add(DeadlineExceeded(recorder.now(), deadline_s))


def fetch_openapi_operation(app: Any, path: str, deadline_s: float) -> dict | None:
    """GET /openapi.json through the same ASGI path and return the GET operation for ``path``."""
    rec = Recorder()
    call_asgi(app, "/openapi.json", rec, deadline_s)
    body = b"".join(e.data for e in rec.events if isinstance(e, BodyChunk))
    try:
        return json.loads(body)["paths"][path]["get"]
    except (ValueError, KeyError, TypeError):
        return None


@engine("asgi")
class AsgiEngine:
    """In-process, ASGI spec 2.3 by default (the version uvicorn and hypercorn declare for HTTP)."""

    name = "asgi"

    def __init__(self, spec_version: str = "2.3") -> None:
        self.spec_version = spec_version

    def perform(self, route: Route, recorder: Recorder, deadline_s: float) -> Trace:
        call_asgi(route.app, route.path, recorder, deadline_s, self.spec_version)
        operation = fetch_openapi_operation(route.app, route.path, deadline_s)
        return recorder.freeze(self.name, route.path, operation, notes=(f"ASGI spec_version {self.spec_version}",))
