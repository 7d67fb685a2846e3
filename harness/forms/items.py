"""What a form variant's producer yields, instrumented: the scenario's items as the variant's item
kind makes them, and the idle producer of the keep-alive scenario (coordinated, not slept)."""

from __future__ import annotations

from typing import Any

from ..probes import TracedChunks
from ..trace import ProducerIdle

__all__ = ["producer_items", "event_fields", "raw_text", "open_items", "SSE_READ_AHEAD", "IDLE_AT", "IDLE_WAIT_S"]


def producer_items(scenario, kind: str) -> list[Any]:
    """The scenario's items as a variant of item kind ``kind`` yields them: ``data`` the dicts,
    ``event`` a ``ServerSentEvent`` with every field around each, ``raw`` its name as ``raw_data``."""
    items = list(scenario.chunks)
    if kind == "data":
        return items
    from fastapi.sse import ServerSentEvent

    if kind == "event":
        return [ServerSentEvent(**event_fields(i, item)) for i, item in enumerate(items)]
    if kind == "raw":
        return [ServerSentEvent(raw_data=raw_text(item)) for item in items]
    raise ValueError(f"unknown item kind {kind!r}")


def event_fields(i: int, item: dict) -> dict[str, Any]:
    """Every field of an event, from the item: a comment (its name: newlines make several comment lines),
    a type, an id, a retry on the first."""
    return {"data": item, "event": "item", "id": str(i + 1), "retry": 5000 if i == 0 else None,
            "comment": f"item {i + 1}: {item.get('name')}"}


def raw_text(item: dict) -> str:
    return str(item.get("name"))


# FastAPI's SSE pulls items in a task of its own, through two one-item buffers (the producer's and the
# keep-alive's) with the keep-alive task holding one more between them: while the response waits for the
# client to take item k, items k+1 .. k+3 may already be made, by design; beyond, it buffers. (In-process
# the client takes each item at once, so only a server's socket shows the third.)
SSE_READ_AHEAD = 3
IDLE_AT = 1  # the idle scenario's producer waits for a keep-alive before this item
IDLE_WAIT_S = 2.0  # ... at most this long (40 intervals): no comment by then is a fail


def open_items(scenario, kind: str, recorder, gate):
    """The instrumented source of a scenario's items; the ``keepalive`` scenario's producer goes idle
    before item :data:`IDLE_AT` until the client has received one message more than it produced (the
    keep-alive comment), by coordination, not by a sleep."""
    form, _, kind = kind.rpartition(":")
    if form == "sse":
        gate.slack = max(gate.slack, SSE_READ_AHEAD)
    if "keepalive" in scenario.tags:
        return IdleItems(producer_items(scenario, kind), recorder, gate)
    return TracedChunks(producer_items(scenario, kind), recorder, gate, scenario.block_s)


class IdleItems(TracedChunks):
    """Items whose producer waits, before item :data:`IDLE_AT`, until the client has one message more
    than was produced (the keep-alive comment), at most :data:`IDLE_WAIT_S`."""

    def __iter__(self):
        for i, item in enumerate(super().__iter__()):
            if i == IDLE_AT:
                rec = self._recorder
                t0 = rec.now()
                got = rec.wait_reached(IDLE_AT + 1, IDLE_WAIT_S)
                rec.add(ProducerIdle(rec.now(), IDLE_AT, rec.now() - t0, got))
            yield item
