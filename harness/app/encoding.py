"""What the client says about encodings, and undoing a content encoding before checks compare bytes.

Every request carries the headers a browser's ``fetch`` sends that middleware acts on
(:data:`CLIENT_HEADERS`): ``Accept-Encoding: gzip``, so a compression middleware compresses as it
does in production, and an ``Origin``, so a CORS middleware adds its headers. A bare FastAPI route
ignores both.

A response with ``Content-Encoding: gzip`` (or ``deflate``) is decoded message by message with one
streaming decompressor, as a client decodes it: each body message becomes the bytes it carries once
decoded, so chunk boundaries, order and bytes are compared on what the app yielded. The trace keeps
the headers as sent (``content-encoding`` and ``content-type`` are never hidden) and says in
``Trace.decoded`` what was decoded, which the runner adds to every result's detail.
"""

from __future__ import annotations

import dataclasses
import zlib

from ..trace import BodyChunk, Trace

__all__ = ["CLIENT_HEADERS", "decode_trace"]

CLIENT_HEADERS: tuple[tuple[str, str], ...] = (("accept-encoding", "gzip"), ("origin", "http://client.harness.invalid"))
_DECODERS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def decode_trace(trace: Trace) -> Trace:
    """``trace`` with its body messages decoded, or ``trace`` itself when nothing is encoded."""
    values = [v.decode("latin-1").strip().lower() for v in trace.header_values("content-encoding")]
    codings = [c.strip() for v in values for c in v.split(",") if c.strip() and c.strip() != "identity"]
    if not codings:
        return trace
    if len(codings) != 1 or codings[0] not in _DECODERS:
        return dataclasses.replace(trace, decoded=f"Content-Encoding {', '.join(codings)} is not one the harness "
                                                  "decodes (it asks for gzip only): the bytes are compared as sent")
    decoder = zlib.decompressobj(_DECODERS[codings[0]])
    events, wire, plain = [], 0, 0
    try:
        for event in trace.events:
            if isinstance(event, BodyChunk):
                data = decoder.decompress(event.data)
                if not event.more_body:
                    data += decoder.flush()
                wire, plain = wire + len(event.data), plain + len(data)
                event = BodyChunk(event.t, data, event.more_body)
            events.append(event)
    except zlib.error as exc:
        return dataclasses.replace(trace, decoded=f"Content-Encoding {codings[0]} could not be decoded ({exc}): "
                                                  "the bytes are compared as sent")
    note = (f"the body was decoded from Content-Encoding {codings[0]} before comparing bytes "
            f"({wire} bytes sent, {plain} decoded)")
    return dataclasses.replace(trace, events=tuple(events), decoded=note)
