"""The two wire formats of the sibling pages, written from their specifications, not from FastAPI.

JSON Lines: one JSON value per line, each line ended by ``\\n``; a newline inside a value can only be
the escape ``\\n`` (JSON strings have no raw control characters).

Server-Sent Events (WHATWG HTML, "9.2 Server-sent events", the ``text/event-stream`` format and
"interpreting an event stream"): a stream is lines ended by CRLF, LF or CR; a line starting with
``:`` is a comment; ``field: value`` (one space after the colon is dropped); ``data`` lines are
joined with ``\\n``; a blank line dispatches the event. :func:`encode_event` writes the canonical
form the page's "What are Server-Sent Events?" section shows (``field: value``, LF, a blank line
after each event); :func:`parse_events` reads any valid stream, so a check can tell "written
differently" from "means something else".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SseEvent", "encode_event", "parse_events", "split_lines", "jsonl_lines", "strict_json",
           "KEEPALIVE"]

KEEPALIVE = ": ping"  # the comment the SSE page's "Technical Details" promises when the producer is idle
_LINE_END = re.compile(r"\r\n|\n|\r")


def split_lines(text: str) -> list[str]:
    """Lines as the event-stream grammar ends them: CRLF, LF or CR only (never U+2028, VT, FF ...)."""
    return _LINE_END.split(text)


@dataclass(frozen=True)
class SseEvent:
    """One event block as written: its comments and fields in the order they came."""

    comments: tuple[str, ...] = ()
    event: str | None = None
    data: str | None = None  # the data lines joined with "\n", as a client dispatches it
    id: str | None = None
    retry: int | None = None
    fields: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def describe(self) -> str:
        parts = [f"{k}={v!r}" for k, v in (("comments", self.comments), ("event", self.event), ("data", self.data),
                                            ("id", self.id), ("retry", self.retry)) if v not in (None, ())]
        return "{" + ", ".join(parts) + "}"


def encode_event(*, data: str | None = None, event: str | None = None, id: str | None = None,
                 retry: int | None = None, comment: str | None = None) -> bytes:
    """One event in the canonical text/event-stream form: comment lines, ``event``, one ``data`` line
    per line of the data, ``id``, ``retry``, then the blank line that ends it. UTF-8."""
    lines = [f": {line}" for line in split_lines(comment)] if comment is not None else []
    if event is not None:
        lines.append(f"event: {event}")
    if data is not None:
        lines += [f"data: {line}" for line in split_lines(data)]
    if id is not None:
        lines.append(f"id: {id}")
    if retry is not None:
        lines.append(f"retry: {retry}")
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def parse_events(body: bytes) -> tuple[list[SseEvent], str]:
    """Blocks of a stream, as the WHATWG parser reads them, and what is left after the last blank line
    (a partial event a client would drop). A block of comments only is kept (the keep-alive)."""
    text = body.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = split_lines(text)
    rest = lines.pop()  # after the last line end: an unterminated line
    blocks: list[SseEvent] = []
    current: list[tuple[str, str]] = []
    for line in lines:
        if line == "":
            if current:
                blocks.append(_block(current))
            current = []
            continue
        if line.startswith(":"):
            current.append(("", line[1:][1:] if line[1:2] == " " else line[1:]))
            continue
        name, colon, value = line.partition(":")
        current.append((name, value[1:] if colon and value.startswith(" ") else value))
    leftover = "\n".join(f"{k}: {v}" if k else f": {v}" for k, v in current) + rest
    return blocks, leftover


def _block(fields: list[tuple[str, str]]) -> SseEvent:
    data = [v for k, v in fields if k == "data"]
    retry = [v for k, v in fields if k == "retry" and v.isascii() and v.isdigit()]
    ids = [v for k, v in fields if k == "id" and "\0" not in v]
    events = [v for k, v in fields if k == "event"]
    return SseEvent(comments=tuple(v for k, v in fields if k == ""), event=events[-1] if events else None,
                    data="\n".join(data) if data else None, id=ids[-1] if ids else None,
                    retry=int(retry[-1]) if retry else None, fields=tuple(fields))


def jsonl_lines(body: bytes) -> tuple[list[str], str]:
    """The lines of a JSON Lines body and what follows the last ``\\n`` (empty for a well-ended body)."""
    text = body.decode("utf-8", "replace")
    *lines, rest = text.split("\n")
    return lines, rest


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259 has no NaN or Infinity)")


def strict_json(text: str) -> Any:
    """Parse one JSON text, refusing what Python's parser lets through and JSON does not have."""
    return json.loads(text, parse_constant=_no_constant)
