"""Parity checks: twins that differ on one axis must give the same response.

Compared: status, every header, every body message (bytes and ``more_body``), how the request
ended, and the OpenAPI operation. The page promises these axes change nothing the client sees.
"""

from __future__ import annotations

from ..trace import Trace
from . import Failure, NotApplicable, check, first_difference


# Headers stamped per request, by a server (the date) or by a team's middleware (request and trace
# ids, timings): twins differ in them by the request, not by the variant. Their presence is compared,
# their values are not.
VOLATILE_HEADERS = {b"date", b"x-request-id", b"request-id", b"x-correlation-id", b"x-trace-id", b"traceparent",
                    b"tracestate", b"baggage", b"sentry-trace", b"x-amzn-trace-id", b"server-timing",
                    b"x-process-time", b"x-response-time", b"x-runtime"}


def signature(trace: Trace) -> dict[str, object]:
    """What a client and a reader of /openapi.json can observe of a response (but the clock)."""
    return {  # the most telling difference first: how the request ended
        "ending": trace.failure_cause or "completed",
        "status": trace.status,
        "headers": [(k, b"(per request)" if k.lower() in VOLATILE_HEADERS else v) for k, v in trace.headers],
        "body messages": [(m.data, m.more_body) for m in trace.body_messages],
        "openapi operation": trace.openapi_operation,
    }


def _compare(trace, variant, twins, axis: str) -> str:
    if variant.is_page:
        raise NotApplicable("the page's reference routes are compared through the generated variants")
    comparable = [(v, t) for v, t in twins if t is not None]
    if not comparable:
        raise NotApplicable(f"no twin along {axis!r} exists for this variant (" +
                            "; ".join(v.na_reason or "n/a" for v, _ in twins) + ")")
    mine = signature(trace)
    for twin, twin_trace in comparable:
        theirs = signature(twin_trace)
        for part in mine:
            if mine[part] != theirs[part]:
                a, b = mine[part], theirs[part]
                where = ""
                if isinstance(a, list) and isinstance(b, list):
                    i = first_difference(a, b)
                    where = f" at item {i}"
                    a = a[i] if i < len(a) else "(nothing)"
                    b = b[i] if i < len(b) else "(nothing)"
                raise Failure(f"{part} differ from twin {twin.id} ({axis}={twin.axis[axis]})",
                              expected=b, seen=a,
                              detail=f"{variant.id} ({axis}={variant.axis[axis]}) vs {twin.id}{where}; "
                                     f"the page says {axis} changes nothing")
    return "identical to " + ", ".join(v.id for v, _ in comparable)


@check("annotation-neutral", claim="#no-annotation", twins="annotation", side_requests=("openapi",), forms=("raw",))
def annotation_neutral(trace, scenario, variant, twins):
    """Matching, missing and mismatched return annotations give identical responses and OpenAPI:
    FastAPI does not use the annotation of a streaming path operation."""
    return _compare(trace, variant, twins, "annotation")


@check("sync-async-parity", claim="#non-async-path-operation-functions", twins="function", side_requests=("openapi",))
def sync_async_parity(trace, scenario, variant, twins):
    """A plain ``def`` generator streams exactly like its ``async def`` twin."""
    return _compare(trace, variant, twins, "function")


@check("yield-from-parity", claim="#yield-from", twins="loop", side_requests=("openapi",))
def yield_from_parity(trace, scenario, variant, twins):
    """``yield from`` over an iterable streams exactly like the ``for ... yield`` loop."""
    return _compare(trace, variant, twins, "loop")


__all__ = ["annotation_neutral", "sync_async_parity", "yield_from_parity", "signature"]
