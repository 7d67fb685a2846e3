"""The OpenAPI document a streaming route produces."""

from __future__ import annotations

from . import Failure, check


@check("openapi", claim="#a-custom-pngstreamingresponse", side_requests=("openapi",))
def openapi(trace, scenario, variant):
    """A subclass's ``media_type`` is documented as the 200 response's content; a plain
    ``StreamingResponse`` documents no content (it has no media type to document)."""
    op = trace.openapi_operation
    if not isinstance(op, dict):
        raise Failure("No OpenAPI operation for the route", expected=f"GET {trace.path} in /openapi.json",
                      seen="missing", detail=trace.failure_cause or "")
    response = (op.get("responses") or {}).get("200")
    if not isinstance(response, dict):
        raise Failure("No documented 200 response", expected="responses['200']", seen=sorted(op.get("responses") or {}))
    content = response.get("content") or {}
    if variant.axis["response"] == "plain":
        if content:
            raise Failure("A plain StreamingResponse documents content", expected="no content",
                          seen=sorted(content))
        return "200 response without content"
    if scenario.media_type not in content:
        raise Failure("The subclass's media_type is not documented", expected=[scenario.media_type],
                      seen=sorted(content))
    return f"200 response documents {scenario.media_type}"
