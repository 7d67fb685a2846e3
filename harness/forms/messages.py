"""What one body message of a form must be, from the pages' text (never from FastAPI's code): the
JSON a declared item type produces, an SSE event in the WHATWG format and as a parser gives it back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .event_stream import SseEvent, encode_event, split_lines

__all__ = ["Expected", "filtered", "nan_to_null", "json_text", "sse_message"]


@dataclass(frozen=True)
class Expected:
    """One body message: ``value`` is the JSON value (jsonl) or ``event`` the event (sse); ``wire`` the
    canonical bytes; ``json_data`` whether the event's data is JSON to compare as a value."""

    wire: bytes
    value: Any = None
    event: SseEvent | None = None
    json_data: bool = False


def filtered(item: dict, annotation: str) -> Any:
    """The value a client must see for ``item`` under ``annotation`` (JSON has no NaN: null)."""
    value = {k: item.get(k) for k in ("name", "description")} if annotation == "model" else item
    return nan_to_null(value)


def nan_to_null(value: Any) -> Any:
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: nan_to_null(v) for k, v in value.items()}
    if isinstance(value, list):
        return [nan_to_null(v) for v in value]
    return value


def json_text(value: Any, annotation: str) -> str:
    """Pydantic's JSON (compact, UTF-8) for a declared type, ``json.dumps`` for none."""
    if annotation in ("model", "plain"):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return json.dumps(value)


def sse_message(event: SseEvent, value: Any = None) -> Expected:
    """One SSE event: its canonical bytes from our own encoder; ``value`` the JSON its data carries."""
    wire = encode_event(data=event.data, event=event.event, id=event.id, retry=event.retry,
                        comment="\n".join(event.comments) if event.comments else None)
    return Expected(wire, value=value, event=_data_joined(event), json_data=value is not None)


def _data_joined(event: SseEvent) -> SseEvent:
    """The event as a WHATWG parser gives it back: data lines split on CR/LF and joined with LF."""
    data = None if event.data is None else "\n".join(split_lines(event.data))
    return SseEvent(comments=event.comments, event=event.event, data=data, id=event.id, retry=event.retry)
