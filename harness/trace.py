"""What one request recorded, as frozen events in arrival order.

Theory of operation: a :class:`Recorder` is handed to both sides of a request. The app side (the
scenario's instrumented source, see ``probes.py``) records generator steps and resource open/close;
the client side (an engine's driver) records what it received. Both stamp events with
``time.monotonic()`` under one lock, so the order of events in the trace is the order in which
they happened. ``Recorder.freeze()`` turns that into an immutable :class:`Trace` that checks read.

The response half of an HTTP exchange follows a small state machine; :data:`LIFECYCLE` writes it
down as data so that a check can name the exact illegal step (a body before the start, anything
after the final body message).
"""

from __future__ import annotations

import base64
import dataclasses
import threading
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable

__all__ = [
    "TraceEvent", "ResponseStart", "BodyChunk", "AppSent", "LagSample", "ProbeSample", "StreamSummary",
    "GeneratorStep", "ProducerIdle", "ResourceOpened", "ResourceClosed",
    "LockStepViolation", "AppException", "AppReturned", "DeadlineExceeded", "ClientDisconnected",
    "ConnectionClosed", "GcRequested", "GcDone", "ServerSignalled", "ServerExited", "Mark", "FinalSent",
    "Trace", "Recorder",
    "LIFECYCLE", "lifecycle_violations", "event_to_json", "event_from_json",
]


@dataclass(frozen=True, slots=True)
class TraceEvent:
    t: float  # time.monotonic() when it happened


@dataclass(frozen=True, slots=True)
class ResponseStart(TraceEvent):
    status: int
    headers: tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True, slots=True)
class BodyChunk(TraceEvent):
    """One body message (in-process) or one HTTP chunk (over a socket)."""

    data: bytes
    more_body: bool


@dataclass(frozen=True, slots=True)
class AppSent(TraceEvent):
    """Server side: the app handed a non-empty body message of ``size`` bytes to the server."""

    size: int


@dataclass(frozen=True, slots=True)
class FinalSent(TraceEvent):
    """Server side: the app handed its final body message (``more_body`` false) to the server."""


@dataclass(frozen=True, slots=True)
class Mark(TraceEvent):
    """Something the route's surroundings did, named (``dependency-exit``, ``background:route`` ...):
    recorded by the app-side code of a context route (``surround.py``), in order with the rest."""

    name: str


@dataclass(frozen=True, slots=True)
class LagSample(TraceEvent):
    """The app's event loop woke ``lag_s`` later than asked (a loop-lag monitor task's sleep)."""

    lag_s: float


@dataclass(frozen=True, slots=True)
class ProbeSample(TraceEvent):
    """A trivial request on the same server took ``latency_s`` while the streams ran."""

    latency_s: float


@dataclass(frozen=True, slots=True)
class MemorySample(TraceEvent):
    """The server process's resident size when the request started and its peak until it ended."""

    baseline: int
    peak: int


@dataclass(frozen=True, slots=True)
class StreamSummary(TraceEvent):
    """One of several concurrent streams, as the client saw it."""

    index: int
    chunks: int
    size: int
    duration_s: float
    group: int = 0  # how many streams ran concurrently


@dataclass(frozen=True, slots=True)
class GeneratorStep(TraceEvent):
    """The scenario's producer handed out chunk ``index`` while ``delivered`` chunks had arrived."""

    index: int
    delivered: int


@dataclass(frozen=True, slots=True)
class ProducerIdle(TraceEvent):
    """The producer stood idle before item ``index`` for ``idle_s`` (SSE keep-alive); ``woken``: the
    client received a message meanwhile (else it gave up at its deadline)."""

    index: int
    idle_s: float
    woken: bool


@dataclass(frozen=True, slots=True)
class ResourceOpened(TraceEvent):
    resource: str


@dataclass(frozen=True, slots=True)
class ResourceClosed(TraceEvent):
    resource: str


@dataclass(frozen=True, slots=True)
class LockStepViolation(TraceEvent):
    """Chunk ``index`` was asked for before chunk ``index - 1`` reached the client."""

    index: int
    delivered: int
    waited_s: float
    on_event_loop: bool


@dataclass(frozen=True, slots=True)
class AppException(TraceEvent):
    type: str
    message: str


@dataclass(frozen=True, slots=True)
class AppReturned(TraceEvent):
    """The ASGI app call returned: the response is complete from the app's side."""


@dataclass(frozen=True, slots=True)
class DeadlineExceeded(TraceEvent):
    deadline_s: float


@dataclass(frozen=True, slots=True)
class ClientDisconnected(TraceEvent):
    """The client went away after receiving ``after_chunks`` non-empty chunks."""

    after_chunks: int
    style: str


@dataclass(frozen=True, slots=True)
class ConnectionClosed(TraceEvent):
    """The server closed the connection before the response was complete."""

    detail: str


@dataclass(frozen=True, slots=True)
class GcRequested(TraceEvent):
    """The harness asked the app's process for a garbage collection (the resource was still open)."""


@dataclass(frozen=True, slots=True)
class GcDone(TraceEvent):
    """That collection returned: a close recorded between the two was the collection's doing."""


@dataclass(frozen=True, slots=True)
class ServerSignalled(TraceEvent):
    signal: str
    graceful_s: float = 0.0  # the graceful-shutdown deadline the server was configured with


@dataclass(frozen=True, slots=True)
class ServerExited(TraceEvent):
    returncode: int | None  # None: still running at the deadline
    waited_s: float
    log_tail: str = ""  # the server's last log lines, as evidence of what it did


def event_to_json(event: TraceEvent) -> dict[str, Any]:
    """A JSON-safe record of an event (bytes as base64), for the side channel of server engines."""
    data: dict[str, Any] = {"kind": type(event).__name__}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if isinstance(value, bytes):
            value = {"b64": base64.b64encode(value).decode("ascii")}
        elif isinstance(value, tuple):
            value = [[base64.b64encode(x).decode("ascii") for x in pair] for pair in value]
        data[f.name] = value
    return data


def event_from_json(data: dict[str, Any]) -> TraceEvent:
    cls = _EVENT_TYPES.get(data.get("kind", ""))
    if cls is None:
        raise ValueError(f"unknown trace event kind {data.get('kind')!r}")
    kwargs = {}
    for f in dataclasses.fields(cls):
        value = data[f.name]
        if isinstance(value, dict) and "b64" in value:
            value = base64.b64decode(value["b64"])
        elif isinstance(value, list):
            value = tuple(tuple(base64.b64decode(x) for x in pair) for pair in value)
        kwargs[f.name] = value
    return cls(**kwargs)


# The response lifecycle: state -> event kind -> next state. A missing entry is a protocol error.
LIFECYCLE: dict[str, dict[str, str]] = {
    "idle": {"start": "started"},
    "started": {"body": "started", "final": "ended"},
    "ended": {},
}


_EVENT_TYPES: dict[str, type] = {}


def _kind(event: TraceEvent) -> str | None:
    if isinstance(event, ResponseStart):
        return "start"
    if isinstance(event, BodyChunk):
        return "body" if event.more_body else "final"
    return None


def lifecycle_violations(events: Iterable[TraceEvent]) -> list[str]:
    """Every illegal step of the response messages, named by state and event."""
    state, problems = "idle", []
    for n, event in enumerate(e for e in events if _kind(e)):
        kind = _kind(event)
        nxt = LIFECYCLE[state].get(kind)
        if nxt is None:
            problems.append(f"message {n}: {kind!r} received in state {state!r}")
        else:
            state = nxt
    if state != "ended":
        problems.append(f"the response ended in state {state!r}, not 'ended' (no final message with more_body false)")
    return problems


@dataclass(frozen=True)
class Trace:
    """Everything one request recorded. Engines produce it; checks read it; nobody mutates it."""

    engine: str
    path: str
    events: tuple[TraceEvent, ...]
    started: float
    openapi_operation: dict | None = None
    notes: tuple[str, ...] = ()
    mode: str = "normal"
    transport: str = "asgi"  # "asgi" (body messages) or "http/1.1" (chunks as framed on the wire)
    decoded: str = ""  # what the harness decoded (a Content-Encoding) before checks read the body

    @property
    def on_wire(self) -> bool:
        return self.transport != "asgi"

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    @property
    def start(self) -> ResponseStart | None:
        found = self.of(ResponseStart)
        return found[0] if found else None

    @property
    def status(self) -> int | None:
        return self.start.status if self.start else None

    @property
    def headers(self) -> tuple[tuple[bytes, bytes], ...]:
        return self.start.headers if self.start else ()

    def header_values(self, name: str) -> list[bytes]:
        name_b = name.lower().encode("latin-1")
        return [v for k, v in self.headers if k.lower() == name_b]

    @property
    def body_messages(self) -> list[BodyChunk]:
        return self.of(BodyChunk)

    @property
    def body(self) -> bytes:
        return b"".join(m.data for m in self.body_messages)

    @property
    def failure_cause(self) -> str | None:
        """Why the request did not complete normally, if it did not."""
        for e in self.events:
            if isinstance(e, DeadlineExceeded):
                return f"the request did not complete within its {e.deadline_s:g} s deadline"
            if isinstance(e, AppException):
                return f"the app raised {e.type}: {e.message}"
            if isinstance(e, ConnectionClosed):
                return f"the connection closed early: {e.detail}"
        return None

    def resource_events(self) -> tuple[list[ResourceOpened], list[ResourceClosed]]:
        return self.of(ResourceOpened), self.of(ResourceClosed)

    def position(self, event: TraceEvent) -> int:
        """Where ``event`` stands in the recorded order (identity, not equality)."""
        return next(i for i, e in enumerate(self.events) if e is event)

    def after(self, event: TraceEvent, kind: type) -> list:
        """Events of ``kind`` recorded after ``event``."""
        return [e for e in self.events[self.position(event) + 1:] if isinstance(e, kind)]


@dataclass
class Recorder:
    """A thread-safe event sink shared by the app-side probe and the client-side driver."""

    events: list[TraceEvent] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    delivered: int = 0  # non-empty body messages with more_body true seen by the client so far
    gone: bool = False  # the client left: nobody will receive more, so nobody waits for it
    # in-process the client's leaving is recorded by ``send`` on the app's own event loop: a wait that
    # blocks that loop can never see it happen (a server's recorder hears it from another thread)
    gone_on_app_loop: ClassVar[bool] = True
    _cond: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def add(self, event: TraceEvent) -> None:
        with self._cond:
            self.events.append(event)
            if isinstance(event, BodyChunk) and event.more_body and event.data:
                self.delivered += 1  # non-empty only: lock-step's `need` never counts empty chunks
            self._cond.notify_all()

    def now(self) -> float:
        return time.monotonic()

    def progress(self) -> int:
        """How many chunks have reached the client, as lock-step counts them."""
        return self.delivered

    def reached(self, count: int) -> bool:
        """Have ``count`` chunks reached the client (or has it left)? Never blocks."""
        return self.delivered >= count or self.gone

    def wait_reached(self, count: int, timeout: float) -> bool:
        """Block (a worker thread only) until ``count`` chunks reached the client or it left."""
        with self._cond:
            return self._cond.wait_for(lambda: self.reached(count), timeout)

    def mark_gone(self, event: "ClientDisconnected") -> None:
        with self._cond:
            self.events.append(event)
            self.gone = True
            self._cond.notify_all()

    def of_kind(self, kind: type) -> list:
        with self._cond:
            return [e for e in self.events if isinstance(e, kind)]

    def freeze(self, engine: str, path: str, openapi_operation: dict | None = None,
               notes: Iterable[str] = (), mode: str = "normal", transport: str = "asgi",
               by_time: bool = False) -> Trace:
        """The immutable trace. ``by_time`` orders events from two processes by their monotonic time
        (one system-wide clock on Linux); otherwise they keep the order they were recorded in."""
        with self._cond:
            events = tuple(sorted(self.events, key=lambda e: e.t) if by_time else self.events)
        return Trace(engine=engine, path=path, events=events, started=self.started,
                     openapi_operation=openapi_operation, notes=tuple(notes), mode=mode, transport=transport)


_EVENT_TYPES.update({cls.__name__: cls for cls in (
    ResponseStart, BodyChunk, AppSent, LagSample, ProbeSample, MemorySample, StreamSummary, GeneratorStep,
    ProducerIdle, ResourceOpened, ResourceClosed, LockStepViolation, AppException,
    AppReturned, DeadlineExceeded, ClientDisconnected, ConnectionClosed, GcRequested, GcDone, ServerSignalled,
    ServerExited, FinalSent, Mark)})
