"""Checks on one trace: what the client received and what the app-side probe saw."""

from __future__ import annotations

import json
from typing import Callable

from ..trace import AppReturned, AppSent, GeneratorStep, LockStepViolation, lifecycle_violations
from . import Failure, NonStrict, NotApplicable, check, first_difference, show


def _cause(trace) -> str:
    cause = trace.failure_cause
    return f" ({cause})" if cause else ""


def _require_response(trace) -> None:
    if trace.status is None:
        raise Failure("No response was started", expected="http.response.start with status 200",
                      seen="nothing", detail=trace.failure_cause or "")
    if trace.status != 200:
        raise Failure("Unexpected status", expected=200, seen=trace.status, detail=trace.failure_cause or "")


def _item_order(trace, scenario, variant):
    """JSON Lines and SSE: each yielded item is one body message (one line, one event), in order."""
    from ..forms.expected import expected_messages
    from .item_forms import _require, match_message

    _require(trace, scenario)
    expected = expected_messages(scenario, variant)
    seen = [m.data for m in trace.body_messages if m.data]
    problems = lifecycle_violations(trace.events)
    for i, want in enumerate(expected):
        why = match_message(want, seen[i], variant.form) if i < len(seen) else "no more messages"
        if why:
            raise Failure(f"Message {i} is not item {i}", expected=want.wire, seen=seen[i] if i < len(seen) else None,
                          detail=f"{why}; {len(seen)} non-empty messages seen, {len(expected)} items"
                                 + "".join(f"; {p}" for p in problems) + _cause(trace))
    if len(seen) != len(expected) or problems:
        raise Failure("The response messages are not one per item, then the end", expected=len(expected),
                      seen=len(seen), detail="; ".join(problems) + _cause(trace))
    return f"{len(expected)} items, one message each, in order, then the final message"


@check("chunk-order", claim="#a-streamingresponse-with-yield")
def chunk_order(trace, scenario, variant):
    """Each yielded chunk is one body message, in order, boundary for boundary (str sent as UTF-8),
    then exactly one final message with ``more_body`` false and nothing after it. JSON Lines and SSE:
    each item is one message (one line, one event) in order."""
    if variant.form != "raw":
        return _item_order(trace, scenario, variant)
    _require_response(trace)
    expected = [c for c in scenario.wire_chunks if c]
    seen = [m.data for m in trace.body_messages if m.data]
    problems = lifecycle_violations(trace.events)
    if seen != expected:
        i = first_difference(seen, expected)
        same_bytes = b"".join(seen) == b"".join(expected)
        app_sent = [e.size for e in trace.of(AppSent)]
        server_merged = app_sent == [len(c) for c in expected]  # the app sent them one by one
        if same_bytes and trace.on_wire and server_merged and not problems:
            raise NonStrict("The server merged or split chunks: the bytes are equal, only the chunk boundaries "
                            "differ", expected=f"{len(expected)} HTTP chunks", seen=f"{len(seen)} HTTP chunks",
                            detail=f"first boundary difference at chunk {i}: expected {show(expected[i])}, seen "
                                   f"{show(seen[i]) if i < len(seen) else '(none)'}")
        detail = (f"first difference at chunk {i}; {len(seen)} non-empty messages seen, {len(expected)} expected"
                  + ("; the app itself sent them merged" if trace.on_wire and app_sent and not server_merged
                     else "")
                  + ("; the bytes are equal, only the chunk boundaries differ" if same_bytes else "")
                  + "".join(f"; {p}" for p in problems) + _cause(trace))
        raise Failure("Body chunks differ from the yielded chunks",
                      expected=expected[i] if i < len(expected) else "(no more chunks)",
                      seen=seen[i] if i < len(seen) else "(no more messages)", detail=detail)
    if problems:
        raise Failure("The response messages break the ASGI lifecycle",
                      expected="start, body messages with more_body true, one final message with more_body false",
                      seen=problems[0], detail="; ".join(problems[1:]) + _cause(trace))
    return f"{len(expected)} chunks in order, then the final message"


@check("content-type", claim="#a-custom-pngstreamingresponse")
def content_type(trace, scenario, variant):
    """A plain ``StreamingResponse`` sends no Content-Type at all; a subclass sends exactly its
    ``media_type``. JSON Lines: ``application/jsonl``; SSE: ``text/event-stream``."""
    if variant.form != "raw":
        from .item_forms import content_type_of_form

        return content_type_of_form(trace, scenario, variant)
    _require_response(trace)
    values = [v.decode("latin-1") for v in trace.header_values("content-type")]
    if variant.axis["response"] == "plain":
        if values:
            raise Failure("A plain StreamingResponse sent a Content-Type header",
                          expected="no content-type header", seen=values)
        return "no Content-Type header"
    if values != [scenario.media_type]:
        hint = ""
        if len(values) == 1 and values[0].split(";")[0].strip() == scenario.media_type.split(";")[0].strip():
            hint = "the type matches but its parameters (e.g. charset) differ"
        raise Failure("The subclass's media_type was not sent exactly", expected=[scenario.media_type],
                      seen=values, detail=hint)
    return f"Content-Type: {values[0]}"


def _transformation_hint(expected: bytes, seen: bytes, chunks: list[bytes]) -> str:
    """Name the transformation when it is a known one: JSON encoding, repr, a text re-encoding.

    Each candidate is computed whole only when the body starts and ends as it would (its first and
    last chunks transformed, or the opening quote or bracket): a 64 MiB body is not JSON-encoded five ways to
    find out that a framework merely dropped its last chunk."""
    Candidate = tuple[Callable[[list[bytes]], bytes], bool]  # (transformation, applied chunk by chunk)
    candidates: dict[str, Candidate] = {}
    try:
        texts = [c.decode("utf-8") for c in chunks]
        candidates["each chunk JSON-encoded"] = (lambda cs: b"".join(json.dumps(c.decode()).encode() for c in cs), True)
        candidates["each chunk JSON-encoded (non-ASCII kept)"] = (lambda cs: b"".join(
            json.dumps(c.decode(), ensure_ascii=False).encode() for c in cs), True)
        candidates["the whole body JSON-encoded as a list"] = (lambda cs: json.dumps(texts).encode(), False)
        candidates["the whole body JSON-encoded as one string"] = (lambda cs: json.dumps("".join(texts)).encode(), False)
        candidates["re-encoded from latin-1 to UTF-8"] = (lambda cs: b"".join(cs).decode("latin-1").encode("utf-8"), True)
    except UnicodeDecodeError:
        candidates["decoded as UTF-8 with replacement and re-encoded"] = (
            lambda cs: b"".join(cs).decode("utf-8", "replace").encode("utf-8"), True)
    candidates["each chunk rendered with repr()"] = (lambda cs: b"".join(repr(c).encode() for c in cs), True)
    openers = {"the whole body JSON-encoded as a list": b"[", "the whole body JSON-encoded as one string": b'"'}
    for name, (transform, per_chunk) in candidates.items():
        plausible = (seen.startswith(transform(chunks[:1])) and seen.endswith(transform(chunks[-1:])) if per_chunk
                     else seen.startswith(openers[name]))
        if plausible and transform(chunks) == seen:
            return f"the body is exactly the chunks {name}"
    return ""


@check("no-json-coercion", claim="#a-streamingresponse-with-yield", forms=("raw",))
def no_json_coercion(trace, scenario, variant):
    """Chunks arrive byte for byte: nothing quoted, escaped, JSON-encoded or re-encoded, whatever
    they contain (JSON look-alikes, quotes, backslashes, newlines, non-ASCII, NUL, invalid UTF-8)."""
    _require_response(trace)
    chunks = scenario.wire_chunks
    expected, seen = b"".join(chunks), trace.body
    if seen != expected:
        i = first_difference(seen, expected)
        hint = _transformation_hint(expected, seen, chunks)
        raise Failure("The body bytes are not the yielded bytes", expected=expected[max(0, i - 8):i + 24],
                      seen=seen[max(0, i - 8):i + 24],
                      detail=f"first differing byte at offset {i} (excerpts start at {max(0, i - 8)}); "
                             f"{len(seen)} bytes seen, {len(expected)} expected"
                             + (f"; {hint}" if hint else "") + _cause(trace))
    return f"{len(expected)} bytes byte-for-byte"


@check("incremental-delivery", claim="#a-streamingresponse-with-yield")
def incremental_delivery(trace, scenario, variant):
    """Lock-step: the producer is never asked for chunk k+1 before chunk k reached the client, so a
    framework that buffers (or reads ahead on the event loop) cannot pass."""
    if len(scenario.chunks) < 2:
        raise NotApplicable("a single chunk cannot show incremental delivery")
    violations = trace.of(LockStepViolation)
    if violations:
        v = violations[0]
        where = ("on the event loop (an async generator), where the producer cannot wait"
                 if v.on_event_loop else f"on a worker thread, after waiting {v.waited_s:.2f} s for it"
                 if v.waited_s else "on a worker thread, without a wait: bare in-process, a chunk is recorded "
                 "as sent before the framework can ask for the next one")
        raise Failure(f"Chunk {v.index} was requested before chunk {v.index - 1} reached the client",
                      expected=f"{v.index} chunks delivered before chunk {v.index} is produced",
                      seen=f"{v.delivered} delivered", detail=f"checked {where}; something between the "
                      "producer and the client (the framework, or a middleware) buffered or read ahead"
                      + _cause(trace))
    steps = trace.of(GeneratorStep)
    if len(steps) != len(scenario.chunks):
        raise Failure("The producer was not asked for every chunk", expected=len(scenario.chunks),
                      seen=len(steps), detail=trace.failure_cause or "")
    return f"{len(steps)} chunks delivered in lock-step"


_DESCRIPTOR_NOTE = ("a real file counts as closed only when its descriptor is closed for the operating "
                    "system, whatever a Python file object says")


@check("closure-on-completion", claim="#simulate-a-file")
def closure_on_completion(trace, scenario, variant):
    """The file-like object the generator opens in a ``with`` block is closed once the generator is
    done, by the time the response is complete, for sync and async variants alike."""
    if variant.is_page and variant.page_path.startswith("/story/"):
        raise NotApplicable("the page's story routes iterate a str's lines: they open no resource")
    opened, closed = trace.resource_events()
    if not opened:
        raise Failure("The resource was never opened", expected="opened by the generator", seen="never opened",
                      detail=trace.failure_cause or "")
    returned = trace.of(AppReturned)
    if not returned:
        raise Failure("The response did not complete", expected="the app returns",
                      seen=trace.failure_cause or "the app's call had not returned when the harness stopped waiting")
    if not closed:
        raise Failure("The resource was still open when the response completed",
                      expected=f"{opened[0].resource} closed", seen="still open (no close, and no GC was asked)",
                      detail=_DESCRIPTOR_NOTE if opened[0].resource.startswith("file(") else "")
    if trace.position(closed[0]) > trace.position(returned[0]):  # recorded order, under one lock
        raise Failure("The resource was closed only after the response completed",
                      expected="closed before the ASGI app returns",
                      seen=f"closed {(closed[0].t - returned[0].t) * 1000:.1f} ms after it returned")
    return f"{closed[0].resource} closed {(returned[0].t - closed[0].t) * 1000:.2f} ms before the response completed"


def _slow_producer_only(scenario, variant) -> str | None:
    if not scenario.block_s:
        return f"scenario {scenario.name!r} has no slow producer (block_s)"
    return None


@check("time-to-first-chunk", claim="#use-cases", applies=_slow_producer_only)
def time_to_first_chunk(trace, scenario, variant):
    """With a slow producer (LLM tokens), the first chunk reaches the client while the producer is
    still producing the rest: decided by the recorded order of arrival and steps, not by a clock.
    The time to the first chunk is reported beside the producer's own pace."""
    _require_response(trace)
    first = next((m for m in trace.body_messages if m.data), None)
    steps = trace.of(GeneratorStep)
    if first is None or len(steps) < 2:
        raise Failure("Nothing arrived while the producer ran", expected="a first chunk",
                      seen=f"{len(steps)} producer steps, {'a' if first else 'no'} body chunk",
                      detail=trace.failure_cause or "")
    pace = f"{scenario.block_s * 1000:g} ms per chunk, {len(steps)} chunks"
    if trace.position(first) > trace.position(steps[-1]):
        raise Failure("The first chunk arrived only after the producer had produced every chunk",
                      expected="the first chunk before the last is produced",
                      seen=f"the first chunk arrived {(first.t - steps[-1].t) * 1000:.1f} ms after the last "
                           "was produced",
                      detail=f"a slow producer ({pace}) was buffered whole" + _cause(trace))
    began = steps[0].t - scenario.block_s  # the producer's first chunk took block_s to make
    since = lambda event: (event.t - began) * 1000  # noqa: E731 - ms since the producer began
    return (f"first chunk at the client {since(first):.1f} ms after the producer began, before chunk "
            f"{sum(1 for s in steps if trace.position(s) < trace.position(first))} of {len(steps)} was produced "
            f"(producer: {pace}; last chunk at {since(trace.body_messages[-1]):.1f} ms)")


__all__ = ["chunk_order", "content_type", "no_json_coercion", "incremental_delivery", "closure_on_completion",
           "time_to_first_chunk"]
