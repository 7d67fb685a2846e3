"""HTTP/1.1 framing, seen only over a socket."""

from __future__ import annotations

from . import Failure, NonStrict, NotApplicable, check, first_difference, show


@check("framing", claim="#a-streamingresponse-with-yield")
def framing(trace, scenario, variant):
    """Over HTTP/1.1 the response is chunked (``Transfer-Encoding: chunked``, no Content-Length) and
    each yielded non-empty chunk is its own HTTP chunk (merged chunks: ``non-strict``)."""
    if not trace.on_wire:
        raise NotApplicable("in-process there is no HTTP framing; run a server engine")
    if trace.status is None:
        raise Failure("No response", expected="a status line", seen="nothing", detail=trace.failure_cause or "")
    te = [v.decode("latin-1").lower() for v in trace.header_values("transfer-encoding")]
    cl = trace.header_values("content-length")
    if cl or te != ["chunked"]:
        raise Failure("The stream is not sent with chunked transfer encoding",
                      expected="transfer-encoding: chunked and no content-length",
                      seen=f"transfer-encoding: {te or 'none'}, content-length: {[v.decode() for v in cl] or 'none'}")
    seen = [m.data for m in trace.body_messages if m.data]
    if variant.form != "raw":  # one HTTP chunk per item (line, event)
        from ..forms.expected import expected_messages
        from .item_forms import match_message

        items = expected_messages(scenario, variant)
        if len(seen) == len(items) and not any(match_message(e, d, variant.form) for e, d in zip(items, seen)):
            return f"chunked, {len(seen)} HTTP chunks, one per item"
        raise NonStrict("HTTP chunks are not one per item", expected=f"{len(items)} HTTP chunks",
                        seen=f"{len(seen)} HTTP chunks", detail="chunk-order and the form's check judge the content")
    expected = [c for c in scenario.wire_chunks if c]
    if seen != expected:
        i = first_difference(seen, expected)
        if b"".join(seen) == b"".join(expected):
            raise NonStrict("Chunk boundaries differ on the wire", expected=f"{len(expected)} HTTP chunks",
                            seen=f"{len(seen)} HTTP chunks", detail=f"first difference at chunk {i}: "
                            f"{show(seen[i]) if i < len(seen) else '(none)'}")
        raise Failure("The HTTP chunks are not the yielded chunks", expected=expected[i] if i < len(expected) else None,
                      seen=seen[i] if i < len(seen) else None, detail=trace.failure_cause or "")
    return f"chunked, {len(seen)} HTTP chunks, one per yielded chunk"
