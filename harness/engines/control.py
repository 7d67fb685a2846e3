"""The side channel between the harness and a server process it started.

The generator and the scenario's resource live in the server process; so does the app-side half
of every trace. A thread in that process serves a line protocol (one JSON object per line) on
127.0.0.1, independent of the server's event loop, so it answers even while the loop is busy:

=============================  ===========================================================
``{"op": "ping"}``             ``{"ok": true, "pid": N}``
``{"op": "ack", "rid", "n"}``  the client has received ``n`` non-empty chunks (lock-step); no reply
``{"op": "gone", "rid"}``      the client left: release the producer; no reply
``{"op": "reaped", "rid", "timeout"}``  after the app failed: wait until the server let go of its
                               task (see ``server_app``); ``held`` false when there was nothing to wait for
``{"op": "wait", "rid", "kinds", "timeout"}``  block until an event of one of ``kinds`` is recorded
``{"op": "failed", "rid", "timeout"}``  block until the app's call raised (ok) or ``gone`` came (not ok)
``{"op": "settle", "rid"}``    run the request's event loop until it has nothing left to do
``{"op": "gc", "generation"}``  ``gc.collect(generation)`` in the server process (default 2: full)
``{"op": "events", "rid"}``    the app-side events recorded for request ``rid``
``{"op": "forget", "rid"}``    drop them
=============================  ===========================================================
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import json
import os
import socket
import socketserver
import threading
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterator

from ..probes import LockStep
from .loop_probe import lag_monitor
from .closure import collect, settle
from ..trace import Mark, Recorder, event_from_json, event_to_json

__all__ = ["ServerRecorder", "Probe", "ProbeRegistry", "ControlServer", "ControlConnection", "ControlClient"]


@dataclass
class ServerRecorder(Recorder):
    """The app-side recorder in a server process.

    ``sent`` counts non-empty body messages the app handed to the server (ASGI level): the producer's
    gate checks against it. ``acked`` counts non-empty chunks the client reported received (wire
    level): the probe's ``send`` waits for it (see ``serve.py``), which is what makes lock-step hold
    over a socket for ``async`` and ``def`` producers alike. ``on_change`` wakes that wait.
    """

    gone_on_app_loop: ClassVar[bool] = False  # "client gone" arrives on the side channel's thread
    sent: int = 0
    acked: int = 0
    failed: bool = False  # the app's call raised
    on_change: Any = None

    def progress(self) -> int:
        return self.sent

    def reached(self, count: int) -> bool:
        return self.sent >= count or self.gone

    def _changed(self) -> None:
        self._cond.notify_all()
        if self.on_change is not None:
            self.on_change()

    def note_sent(self) -> None:
        with self._cond:
            self.sent += 1
            self._cond.notify_all()

    def set_acked(self, n: int) -> None:
        with self._cond:
            self.acked = max(self.acked, n)
            self._changed()

    def set_gone(self) -> None:
        with self._cond:
            self.gone = True
            self._changed()

    def wait_kinds(self, kinds: set[str], timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: any(type(e).__name__ in kinds for e in self.events), timeout)

    def add(self, event: Any) -> None:
        if type(event).__name__ == "AppException":  # a flag, not a scan: every event wakes wait_failed
            self.failed = True
        super().add(event)

    def wait_failed(self, timeout: float) -> bool:
        """Block until the app's call raised (``True``) or the client released the request (``False``)."""
        with self._cond:
            self._cond.wait_for(lambda: self.gone or self.failed, timeout)
            return self.failed


@dataclass
class Probe:
    """Everything the server process keeps for one request."""

    recorder: ServerRecorder = field(default_factory=ServerRecorder)
    gate: LockStep | None = None
    loop: asyncio.AbstractEventLoop | None = None
    task_ref: Any = None  # weakref to the task running the request: a strong one would keep its
    # exception, traceback and frames (and so the generator) alive, which is the harness's doing
    failed_id: int | None = None  # id() of the exception the app raised, while a reaping server holds it
    reaped: threading.Event = field(default_factory=threading.Event)  # the server logged it: let go

    @property
    def task(self) -> asyncio.Task | None:
        return self.task_ref() if self.task_ref is not None else None


class ProbeRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._probes: dict[str, Probe] = {}
        self.loop: asyncio.AbstractEventLoop | None = None  # the app's loop, seen on the last request
        self.lag: tuple[asyncio.Event, Any, Recorder] | None = None  # a running lag monitor
        self.reaper_alive: Any = None  # () -> bool: a reaping server's periodic check still runs

    def get(self, rid: str) -> Probe:
        with self._lock:
            if rid not in self._probes:
                self._probes[rid] = Probe()
            return self._probes[rid]

    def items(self) -> list[tuple[str, Probe]]:
        with self._lock:
            return list(self._probes.items())

    def clear(self) -> None:
        with self._lock:
            self._probes.clear()

    def forget(self, rid: str) -> None:
        with self._lock:
            self._probes.pop(rid, None)


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        registry: ProbeRegistry = self.server.registry  # type: ignore[attr-defined]
        for line in self.rfile:
            try:
                msg = json.loads(line)
                reply = _dispatch(registry, msg)
            except Exception as exc:  # a bad request must not kill the channel
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            if reply is not None:
                self.wfile.write(json.dumps(reply).encode() + b"\n")
                self.wfile.flush()


def _dispatch(registry: ProbeRegistry, msg: dict[str, Any]) -> dict[str, Any] | None:
    op = msg.get("op")
    if op == "ping":
        return {"ok": True, "pid": os.getpid()}
    if op == "lag-start":  # a loop-lag monitor task on the app's loop (see latency.py)
        loop, recorder = registry.loop, Recorder()
        if loop is None or not loop.is_running():
            return {"error": "no request has reached the app's loop yet"}

        async def start() -> tuple:
            stop = asyncio.Event()
            return stop, asyncio.ensure_future(lag_monitor(recorder, stop))
        stop, task = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
        registry.lag = (stop, task, recorder)
        return {"ok": True}
    if op == "lag-stop":
        if registry.lag is None:
            return {"events": []}
        (stop, task, recorder), registry.lag = registry.lag, None

        async def finish() -> None:
            stop.set()
            await task
        asyncio.run_coroutine_threadsafe(finish(), registry.loop).result(10)
        return {"events": [event_to_json(e) for e in recorder.events]}
    if op == "forget-all":
        registry.clear()
        return {"ok": True}
    probe = registry.get(str(msg.get("rid"))) if msg.get("rid") else None
    if op == "gc":
        generation = int(msg.get("generation", 2))
        if probe is not None and probe.loop is not None and probe.loop.is_running():
            return {"collected": asyncio.run_coroutine_threadsafe(collect(generation), probe.loop).result(10)}
        return {"collected": gc.collect(generation)}
    if probe is None:
        return {"error": f"op {op!r} needs a request id"}
    if op == "ack":
        probe.recorder.set_acked(int(msg["n"]))
        return None
    if op == "gone":
        probe.recorder.set_gone()
        return None
    if op == "reaped":  # see server_app.ReapWatch: only a server that holds failed tasks is waited for
        if probe.failed_id is None:
            return {"held": False}
        def stopped() -> bool:
            return registry.reaper_alive is not None and not registry.reaper_alive()
        reaped = probe.reaped.is_set() or (not stopped() and probe.reaped.wait(float(msg.get("timeout", 2.0))))
        if not reaped and stopped():  # (it may stop during the wait, at another failed app)
            probe.recorder.add(Mark(probe.recorder.now(), "server-reaper-stopped"))  # it holds the task for good
        return {"held": True, "reaped": reaped}
    if op == "wait":
        return {"ok": probe.recorder.wait_kinds(set(msg["kinds"]), float(msg["timeout"]))}
    if op == "failed":
        return {"ok": probe.recorder.wait_failed(float(msg["timeout"]))}
    if op == "settle":
        if probe.loop is not None and probe.loop.is_running():
            try:
                tasks = [probe.task] if probe.task else []
                asyncio.run_coroutine_threadsafe(settle(wait_for=tasks), probe.loop).result(
                    float(msg.get("timeout", 1.0)) + 1.0)
            except concurrent.futures.TimeoutError:
                return {"ok": False}
        return {"ok": True}
    if op == "events":
        with probe.recorder._cond:
            events = list(probe.recorder.events)
        return {"events": [event_to_json(e) for e in events]}
    if op == "forget":
        registry.forget(str(msg.get("rid")))
        return {"ok": True}
    return {"error": f"unknown op {op!r}"}


class ControlServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    # a batch opens a connection per request at once (64); socketserver's default backlog of 5 drops
    # the others' SYNs, and the kernel retries them only after a second
    request_queue_size = 256

    def __init__(self, port: int, registry: ProbeRegistry) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.registry = registry

    def start(self) -> None:
        threading.Thread(target=self.serve_forever, name="harness-control", daemon=True).start()


class ControlConnection:
    """One connection of the side channel: its calls serialised by a lock, in the order they were made."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.sock.makefile("rb")
        self.lock = threading.Lock()

    def send(self, op: str, **kwargs: Any) -> None:
        with self.lock:
            self.sock.sendall(json.dumps({"op": op, **kwargs}).encode() + b"\n")

    def call(self, op: str, **kwargs: Any) -> dict[str, Any]:
        """Send ``op`` and wait for its reply (a little longer than any ``timeout`` it carries)."""
        with self.lock:
            self.sock.sendall(json.dumps({"op": op, **kwargs}).encode() + b"\n")
            return self._reply(float(kwargs.get("timeout", 0)))

    def reply(self, timeout: float = 0.0) -> dict[str, Any]:
        """The reply to an op sent with :meth:`send` that answers (``failed``), read later."""
        with self.lock:
            return self._reply(timeout)

    def _reply(self, timeout: float) -> dict[str, Any]:
        self.sock.settimeout(timeout + 10.0)
        line = self.rfile.readline()
        if not line:
            raise ConnectionError("the server process closed its control channel")
        return json.loads(line)

    def events(self, rid: str) -> list:
        return [event_from_json(e) for e in self.call("events", rid=rid)["events"]]

    def close(self) -> None:
        try:
            self.rfile.close()
            self.sock.close()
        except OSError:
            pass


class ControlClient:
    """The harness's end of the side channel: a pool of connections.

    A request leases one connection for its whole life (:meth:`lease`), so its own messages keep
    their order (acknowledgements, then ``gone``, then the waits), while requests at once (an
    ``error`` batch's 64 threads) never queue behind another request's blocking ``wait`` or
    ``settle``: each connection is served by a thread of its own in the server process. A lone
    :meth:`call` or :meth:`send` leases one for that message only."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.port, self.timeout = port, timeout
        self._lock = threading.Lock()
        self._idle: list[ControlConnection] = [ControlConnection(port, timeout)]  # the channel answers: ready
        self._all: list[ControlConnection] = list(self._idle)
        self._closed = False

    @contextlib.contextmanager
    def lease(self) -> Iterator[ControlConnection]:
        """A connection no other thread uses until the block ends."""
        with self._lock:
            if self._closed:
                raise ConnectionError("the control channel was closed")
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = ControlConnection(self.port, self.timeout)
            with self._lock:
                self._all.append(conn)
        broken = False
        try:
            yield conn
        except (OSError, ValueError):  # a half-read reply leaves the connection out of step: never reused
            broken = True
            raise
        finally:
            with self._lock:
                if broken or self._closed:
                    conn.close()
                else:
                    self._idle.append(conn)

    def send(self, op: str, **kwargs: Any) -> None:
        with self.lease() as conn:
            conn.send(op, **kwargs)

    def call(self, op: str, **kwargs: Any) -> dict[str, Any]:
        with self.lease() as conn:
            return conn.call(op, **kwargs)

    def events(self, rid: str) -> list:
        with self.lease() as conn:
            return conn.events(rid)

    @property
    def connections(self) -> int:
        """How many connections the pool opened (at most the requests that were ever at once)."""
        with self._lock:
            return len(self._all)

    def close(self) -> None:
        with self._lock:
            self._closed, conns, self._idle = True, list(self._all), []
        for conn in conns:
            conn.close()
