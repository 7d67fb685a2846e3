"""The OpenAPI document a streaming route produces."""

from __future__ import annotations

from . import Failure, check


@check("openapi", claim="#a-custom-pngstreamingresponse", side_requests=("openapi",))
def openapi(trace, scenario, variant):
    """A subclass's ``media_type`` is documented as the 200 response's content; a plain
    ``StreamingResponse`` documents no content (it has no media type to document). JSON Lines and
    SSE: the declared status's response documents ``application/jsonl`` / ``text/event-stream``
    with an ``itemSchema``; a declared model is the item's schema (SSE: the ``data``'s contentSchema)."""
    if variant.form != "raw":
        return _item_schema(trace, scenario, variant)
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


def _item_schema(trace, scenario, variant):
    from ..forms import MEDIA_TYPES

    op = trace.openapi_operation
    if not isinstance(op, dict):
        raise Failure("No OpenAPI operation for the route", expected=f"{trace.path} in /openapi.json",
                      seen="missing", detail=trace.failure_cause or "")
    status = str(scenario.status_code)
    content = (((op.get("responses") or {}).get(status)) or {}).get("content") or {}
    media = MEDIA_TYPES[variant.form]
    if media not in content or "itemSchema" not in content[media]:
        raise Failure(f"The {variant.form} item schema is not documented",
                      expected=f"responses[{status!r}].content[{media!r}].itemSchema",
                      seen={k: sorted(v) for k, v in content.items()} or sorted(op.get("responses") or {}))
    schema = content[media]["itemSchema"]
    declared = variant.axis["annotation"] == "model" and variant.axis.get("item", "data") == "data"
    if not declared:
        return f"{media} itemSchema documented"
    if variant.form == "sse":
        schema = ((schema.get("properties") or {}).get("data") or {}).get("contentSchema") or {}
    ref = schema.get("$ref", "")
    if not ref.endswith("/Item"):
        raise Failure("The declared item model is not the documented item schema",
                      expected="a $ref to the Item schema" + (" as the data's contentSchema" if variant.form == "sse"
                                                               else ""), seen=schema)
    return f"{media} itemSchema {ref}"
