"""Measuring an event loop while streams run: loop lag sampled inside the loop, probe latency
seen from outside, and per-stream summaries. Engines call these; checks read the samples.

The lag monitor is a task that asks to sleep ``LAG_INTERVAL_S`` and records how late it woke. The
probe is a trivial request (answered on the same loop without touching the streams) made one
after another from a thread of the harness, so it also counts the time a blocked loop kept it queued.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any, Awaitable, Callable

from ..trace import LagSample, ProbeSample, Recorder

__all__ = ["LAG_INTERVAL_S", "PROBE_GAP_S", "lag_monitor", "median", "p99", "ping_app", "probe_loop"]

LAG_INTERVAL_S = 0.005
PROBE_GAP_S = 0.005


async def lag_monitor(recorder: Recorder, stop: asyncio.Event, interval_s: float = LAG_INTERVAL_S) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        t0 = loop.time()
        await asyncio.sleep(interval_s)
        recorder.add(LagSample(recorder.now(), max(0.0, loop.time() - t0 - interval_s)))


async def ping_app(scope: dict, receive: Callable[[], Awaitable[dict]], send: Callable[[dict], Awaitable[None]]) -> None:
    """The trivial route the probe requests: answered at once, on the app's loop."""
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"pong", "more_body": False})


def probe_loop(recorder: Recorder, request: Callable[[], Any], done: Callable[[], bool],
               gap_s: float = PROBE_GAP_S) -> None:
    """From a harness thread: request the ping route one after another until ``done()``."""
    while not done():
        t0 = time.monotonic()
        request()
        recorder.add(ProbeSample(recorder.now(), time.monotonic() - t0))
        time.sleep(gap_s)  # spacing between probes, not a verdict: the loop is measured, not this thread


def p99(values: list[float]) -> float:
    """The 99th percentile (nearest rank): the max for fewer than 100 samples."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


def median(values: list[float]) -> float:
    """The 50th percentile (nearest rank)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]
