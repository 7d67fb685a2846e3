"""A tight in-process driver: direct ASGI calls on one event loop, no test client, no probes.

ASGI spec_version 2.3, as uvicorn and hypercorn declare for HTTP (so Starlette runs its disconnect
listener beside the stream, as in production). The loop runs in the calling thread (the benchmark's), so an ``async def`` variant is timed without a
thread hop of the harness's own; a ``def`` variant pays the hops to anyio's worker threads that
Starlette makes, which is what is measured. ``send`` only counts; one checked request per app (not
timed) proves the app streams the right bytes before its time means anything.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

from ..engines.asgi import LoopThread
from ..errors import HarnessError
from .apps import PATH

__all__ = ["InProcess", "FirstByte", "Received", "timed", "fastest", "bench_in_process"]

DEADLINE_S = 60.0


def _scope() -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
            "method": "GET", "scheme": "http", "path": PATH, "raw_path": PATH.encode(), "query_string": b"",
            "root_path": "", "headers": [(b"host", b"bench.invalid")], "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80), "state": {}}


@dataclass
class Received:
    """What the client saw of one response."""

    status: int = 0
    bytes: int = 0
    chunks: int = 0
    crc: int = 0
    first_byte: float | None = None  # perf_counter when the first non-empty body arrived
    ended: bool = False
    checked: bool = False
    on_first: Callable[[], None] | None = field(default=None, repr=False)

    def expect(self, what: str, total_bytes: int, chunks: int, crc: int | None = None) -> None:
        """Raise unless this is a complete 200 response of ``total_bytes`` in ``chunks`` chunks."""
        seen = (self.status, self.ended, self.bytes, self.chunks) + ((self.crc,) if crc is not None else ())
        want = (200, True, total_bytes, chunks) + ((crc,) if crc is not None else ())
        if seen != want:
            raise HarnessError(f"{what}: expected (status, ended, bytes, chunks{', crc' if crc is not None else ''}) "
                               f"= {want}, seen {seen}")


async def _call(app: Any, got: Received) -> None:
    """One request with an empty body; ``send`` counts what the app sends into ``got``."""
    given = False
    never = asyncio.get_running_loop().create_future()

    async def receive() -> dict[str, Any]:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await never  # the client stays: Starlette's disconnect listener is cancelled at the end
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            body = message.get("body", b"")
            if body:
                if got.first_byte is None:
                    got.first_byte = time.perf_counter()
                    if got.on_first is not None:
                        got.on_first()
                got.bytes += len(body)
                got.chunks += 1
                if got.checked:
                    got.crc = zlib.crc32(body, got.crc)
            if not message.get("more_body", False):
                got.ended = True
        elif message["type"] == "http.response.start":
            got.status = message["status"]

    try:
        await app(_scope(), receive, send)
    finally:
        never.cancel()


def timed(fn: Callable[..., Any], *args: Any) -> float:
    """Seconds one call of ``fn`` takes."""
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def fastest(measure: Callable[[], float], rounds: int = 15) -> float:
    """The fastest of ``rounds`` measurements (each returns seconds): a raw baseline taken beside a
    benchmark, so a ratio does not hang on one disturbed second at the start of a workload."""
    return min(measure() for _ in range(rounds))


class InProcess:
    """One event loop for a whole benchmark module; ``close`` ends it and anyio's worker threads."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def request(self, app: Any, checked: bool = False) -> Received:
        """One whole request; with ``checked`` the body's CRC-32 is computed too."""
        got = Received(checked=checked)
        self.loop.run_until_complete(asyncio.wait_for(_call(app, got), DEADLINE_S))
        return got

    def close(self) -> None:
        try:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.run_until_complete(self.loop.shutdown_default_executor())
        finally:
            self.loop.close()


class FirstByte:
    """In-process time to first byte: the app runs on a loop in its own thread, as in a server.

    On one loop in the caller's thread the first byte could not be seen until the app yields to the
    loop (a producer that blocks would hide it); here the caller's thread waits on an event that the
    app's ``send`` sets, so what is timed is request start -> first body byte handed to ``send``.
    """

    def __init__(self) -> None:
        self.loop = LoopThread()

    def first_byte(self, app: Any) -> tuple[Received, concurrent.futures.Future]:
        """Start a request and return once its first body byte was sent (the timed part)."""
        arrived = threading.Event()
        got = Received(on_first=arrived.set)
        future = self.loop.submit(asyncio.wait_for(_call(app, got), DEADLINE_S))
        if not arrived.wait(DEADLINE_S):
            raise HarnessError(f"no first byte within {DEADLINE_S:g} s")
        return got, future

    def finish(self, future: concurrent.futures.Future) -> None:
        future.result(DEADLINE_S)

    def close(self) -> None:
        self.loop.stop()


def bench_in_process(benchmark, inproc: "InProcess", workload: str, key: str, source) -> None:
    """One in-process benchmark: check the app's output against the raw baseline's, time the app with
    pytest-benchmark, and record the raw app's fastest round (timed before and after) beside it."""
    from .apps import RAW, build_app
    from .results import describe

    app, raw = build_app(key, source), build_app(RAW, source)
    reference = inproc.request(raw, checked=True)
    inproc.request(app, checked=True).expect(key, source.total_bytes, source.chunks, reference.crc)
    before = fastest(lambda: timed(inproc.request, raw))
    got = benchmark(inproc.request, app)
    describe(benchmark, workload, "asgi", key, source.total_bytes, source.chunks,
             raw_min_s=min(before, fastest(lambda: timed(inproc.request, raw))))
    got.expect(key, source.total_bytes, source.chunks)
