"""Checks of the sibling pages: Stream JSON Lines and Server-Sent Events (the ``jsonl`` and ``sse`` forms).

What they share with Stream Data (order, lock-step, closure, the loop) is judged by the same checks
(``stream.py``, ``cut.py``, ``loop_lag.py``) against what :func:`harness.forms.expected.expected_messages`
says each message must be; here are the promises only these pages make.
"""

from __future__ import annotations

from ..forms.event_stream import KEEPALIVE, SseEvent, jsonl_lines, parse_events, strict_json
from ..forms import MEDIA_TYPES
from ..forms.expected import expected_messages
from ..forms.keepalive import PING_INTERVAL_S, ping_interval_attribute
from ..forms.messages import Expected
from ..trace import ProducerIdle, lifecycle_violations
from . import Failure, NonStrict, check, first_difference, show

__all__ = ["match_message", "jsonl_lines_check", "sse_events", "sse_headers", "sse_keepalive", "item_status_code", "declares_status",
           "item_validation", "content_type_of_form"]


def _event_equal(seen: SseEvent, expected: Expected) -> bool:
    """Fields as a client reads them; JSON data compared as a value (spacing is not the pages' promise)."""
    want = expected.event
    if (seen.comments, seen.event, seen.id, seen.retry) != (want.comments, want.event, want.id, want.retry):
        return False
    if expected.json_data and seen.data is not None:
        try:
            return strict_json(seen.data) == expected.value
        except ValueError:
            return False
    return seen.data == want.data


def match_message(expected: Expected, data: bytes, form: str) -> str | None:
    """Why one body message is not the expected item (``None`` when it is): exactly one JSON line
    with the item's value (jsonl), exactly one event with its fields (sse)."""
    if form == "jsonl":
        lines, rest = jsonl_lines(data)
        if rest or len(lines) != 1:
            return f"{len(lines)} complete line(s){' and an unterminated one' if rest else ''} in one message"
        try:
            value = strict_json(lines[0])
        except ValueError as exc:
            return f"the line is not one JSON value ({exc})"
        return None if value == expected.value else f"value {show(value, 200)}"
    events, rest = parse_events(data)
    if rest or len(events) != 1:
        return f"{len(events)} event(s){' and an unterminated one' if rest else ''} in one message"
    return None if _event_equal(events[0], expected) else f"event {events[0].describe()}"


def _require(trace, scenario) -> None:
    want = scenario.status_code
    if trace.status is None:
        raise Failure("No response was started", expected=f"a response with status {want}", seen="nothing",
                      detail=trace.failure_cause or "")
    if trace.status != want:
        raise Failure("Unexpected status", expected=want, seen=trace.status, detail=trace.failure_cause or "")


def content_type_of_form(trace, scenario, variant) -> str:
    """``application/jsonl`` exactly; ``text/event-stream`` (a charset parameter is allowed: Starlette
    adds ``charset=utf-8`` to every text type)."""
    _require(trace, scenario)
    values = [v.decode("latin-1") for v in trace.header_values("content-type")]
    want = MEDIA_TYPES[variant.form]
    ok = values == [want] if variant.form == "jsonl" else (
        len(values) == 1 and values[0].split(";")[0].strip().lower() == want
        and all(p.strip().lower() in ("charset=utf-8", "") for p in values[0].split(";")[1:]))
    if not ok:
        raise Failure(f"The {variant.form} response does not say {want}", expected=[want], seen=values)
    return f"Content-Type: {values[0]}"


@check("jsonl-lines", claim="stream-json-lines#json-lines", forms=("jsonl",))
def jsonl_lines_check(trace, scenario, variant):
    """The body is JSON Lines: one JSON value per line, every line ended by ``\\n``, a newline inside a
    value only as the escape ``\\n``; line i is item i as the declared type makes it (validated,
    filtered, serialized)."""
    _require(trace, scenario)
    expected = expected_messages(scenario, variant)
    lines, rest = jsonl_lines(trace.body)
    if rest:
        raise Failure("The body does not end with a newline", expected="every line ended by \\n",
                      seen=f"{show(rest[-60:])} after the last newline", detail=trace.failure_cause or "")
    values = []
    for n, line in enumerate(lines):
        try:
            values.append(strict_json(line))
        except ValueError as exc:
            raise Failure(f"Line {n} is not one JSON value", expected="a JSON value on one line",
                          seen=show(line, 200), detail=f"{exc}; a raw newline inside a value splits it, "
                          "the page says newlines are escaped" if not line.strip() or "\\n" not in line
                          else str(exc)) from None
    want = [e.value for e in expected]
    if values != want:
        i = first_difference(values, want)
        raise Failure("The lines are not the items as declared", expected=want[i] if i < len(want) else "(no line)",
                      seen=values[i] if i < len(values) else "(no line)",
                      detail=f"first difference at line {i}; {len(values)} lines, {len(want)} items "
                             f"(annotation {variant.axis['annotation']})" + _cause(trace))
    return f"{len(values)} lines, one JSON value each"


def _cause(trace) -> str:
    return f"; {trace.failure_cause}" if trace.failure_cause else ""


@check("sse-events", claim="server-sent-events#what-are-server-sent-events", forms=("sse",))
def sse_events(trace, scenario, variant):
    """The body is a text/event-stream: parsed as the WHATWG parser reads it, event i carries item i
    (comment lines, ``event``, multi-line data split into ``data:`` lines, ``id``, ``retry``, a blank
    line after each); and byte for byte what an independent encoder writes (only the bytes differing,
    the same events: ``non-strict``)."""
    _require(trace, scenario)
    expected = expected_messages(scenario, variant)
    events, rest = parse_events(trace.body)
    if rest:
        raise Failure("The stream ends inside an event", expected="a blank line after every event",
                      seen=show(rest[-80:]), detail=trace.failure_cause or "")
    events = [e for e in events if not (e.comments == (KEEPALIVE[2:],) and e.data is None and e.event is None)]
    for i, want in enumerate(expected):
        if i >= len(events) or not _event_equal(events[i], want):
            raise Failure(f"Event {i} is not the item as the page encodes it", expected=want.event.describe(),
                          seen=events[i].describe() if i < len(events) else "(no event)",
                          detail=f"{len(events)} events, {len(expected)} expected" + _cause(trace))
    if len(events) != len(expected):
        raise Failure("More events than items", expected=len(expected), seen=len(events),
                      detail=f"the first extra: {events[len(expected)].describe()}")
    wire = b"".join(e.wire for e in expected)
    if trace.body != wire:
        i = first_difference(trace.body, wire)
        raise NonStrict("The same events, written differently", expected=wire[max(0, i - 16):i + 32],
                        seen=trace.body[max(0, i - 16):i + 32], detail=f"first differing byte at offset {i}")
    return f"{len(events)} events, byte for byte"


@check("sse-headers", claim="server-sent-events#technical-details", forms=("sse",))
def sse_headers(trace, scenario, variant):
    """``Cache-Control: no-cache`` (no caching of the stream) and ``X-Accel-Buffering: no`` (no
    buffering in proxies such as Nginx), out of the box."""
    _require(trace, scenario)
    seen = {name: [v.decode("latin-1") for v in trace.header_values(name)] for name in ("cache-control",
                                                                                      "x-accel-buffering")}
    want = {"cache-control": ["no-cache"], "x-accel-buffering": ["no"]}
    wrong = {k: v for k, v in seen.items() if [x.lower() for x in v] != want[k]}
    if wrong:
        raise Failure("The SSE headers are not the page's", expected=want, seen=seen)
    return "Cache-Control: no-cache, X-Accel-Buffering: no"


def _idle_scenario(scenario, variant) -> str | None:
    if "keepalive" not in scenario.tags:
        return f"measured on the scenario whose producer goes idle (tag 'keepalive'), not {scenario.name!r}"
    if ping_interval_attribute() is None:
        return ("this FastAPI has no fastapi.routing._PING_INTERVAL to shorten: the 15 s wait runs only in "
                "tests/test_forms.py under pytest -m slow")
    return None


@check("sse-keepalive", claim="server-sent-events#technical-details", forms=("sse",), applies=_idle_scenario)
def sse_keepalive(trace, scenario, variant):
    """While the producer is idle, a ``: ping`` comment reaches the client (every 15 s in FastAPI; the
    harness sets fastapi.routing._PING_INTERVAL to 0.05 s for this scenario). The producer waits for
    that message by coordination (at most 2 s), then goes on; no ping in that time is a fail."""
    _require(trace, scenario)
    idle = trace.of(ProducerIdle)
    if not idle:
        raise Failure("The producer never went idle", expected="idle before item 1", seen="no idle step",
                      detail=trace.failure_cause or "")
    messages = [m for m in trace.body_messages if m.data]
    pings = [m for m in messages if parse_events(m.data)[0] and parse_events(m.data)[0][0].comments == ("ping",)
             and parse_events(m.data)[0][0].data is None]
    if not idle[0].woken or not pings:
        raise Failure("No keep-alive comment while the producer was idle",
                      expected=f"': ping' within {PING_INTERVAL_S:g} s intervals",
                      seen=f"nothing in {idle[0].idle_s:.2f} s idle",
                      detail=f"{len(messages)} messages: {show([m.data for m in messages], 200)}")
    if any(m.data != b": ping\n\n" for m in pings):
        raise Failure("The keep-alive is not the page's ping comment", expected=b": ping\n\n",
                      seen=[m.data for m in pings][:2])
    return (f"': ping' after {idle[0].idle_s * 1000:.0f} ms idle (interval set to {PING_INTERVAL_S:g} s; "
            f"{len(pings)} ping(s))")


def declares_status(scenario, variant) -> str | None:
    """Where an item form's declared status can be judged: a scenario declaring another than 200."""
    if scenario.status_code == 200:
        return f"scenario {scenario.name!r} declares the default status; 'accepted-items' declares another"
    return None


def item_status_code(trace, scenario, variant):
    """The ``status-code`` check on the item forms (registered in ``surround.py``, one check for every
    form): a path operation's declared ``status_code`` is the status the stream is sent with
    (fastapi#15937: it was dropped), as for any other path operation; and it is the one OpenAPI
    documents."""
    if trace.status != scenario.status_code:
        raise Failure("The declared status_code was not sent", expected=scenario.status_code, seen=trace.status,
                      detail=f"the route declares status_code={scenario.status_code}" + _cause(trace))
    documented = sorted(((trace.openapi_operation or {}).get("responses") or {}))
    if str(scenario.status_code) not in documented:
        raise Failure("The declared status_code is not documented", expected=str(scenario.status_code),
                      seen=documented)
    return f"status {trace.status}, as declared and documented"


def _invalid_items(scenario, variant) -> str | None:
    if "invalid-item" not in scenario.tags:
        return "measured on scenarios with an item the declared model rejects (tag 'invalid-item')"
    return None


@check("item-validation", claim="stream-json-lines#stream-json-lines-with-fastapi", forms=("jsonl", "sse"),
       applies=_invalid_items)
def item_validation(trace, scenario, variant):
    """The declared item type validates each item as it is produced: the items before an invalid one
    reach the client, the invalid one never does, and the response is visibly broken (no final
    message / no terminating chunk) with a ResponseValidationError; undeclared (or ServerSentEvent)
    items are not validated and all go out."""
    from ..forms import item_model

    expected = expected_messages(scenario, variant)
    model = item_model()
    validated = variant.axis["annotation"] == "model" and variant.axis.get("item", "data") == "data"
    bad = next((i for i, item in enumerate(scenario.chunks) if not _valid(model, item)), None)
    seen = [m.data for m in trace.body_messages if m.data]
    if not validated or bad is None:
        if lifecycle_violations(trace.events) or len(seen) != len(expected):
            raise Failure("An item that is not validated did not go out", expected=f"{len(expected)} messages",
                          seen=f"{len(seen)} messages" + _cause(trace))
        return f"not validated (annotation {variant.axis['annotation']}): all {len(seen)} items sent"
    if len(seen) > bad or any(match_message(e, d, variant.form) for e, d in zip(expected, seen)):
        raise Failure("The invalid item, or something else than the valid items before it, reached the client",
                      expected=f"at most the {bad} valid items, then nothing",
                      seen=f"{len(seen)} messages: {show(seen, 200)}", detail=_cause(trace))
    problems = lifecycle_violations(trace.events)
    if not problems:
        raise Failure("The response ended normally after an invalid item",
                      expected="a visibly broken response (no final message)", seen="a complete response",
                      detail="a client cannot tell the truncated stream from a whole one")
    how = f"the stream broke ({problems[-1]}; {trace.failure_cause})"
    if len(seen) < bad:
        raise NonStrict("Valid items produced before the invalid one were lost", expected=f"{bad} valid items",
                        seen=f"{len(seen)}", detail=f"then {how}: the framework (or a middleware) had read ahead of the client, "
                        "and the validation error dropped what it held")
    return f"{bad} items, then {how}"


def _valid(model, item) -> bool:
    try:
        model.model_validate(item)
    except Exception:
        return False
    return True
