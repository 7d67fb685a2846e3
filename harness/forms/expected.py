"""Every body message a form variant must send, in order: one per item (generated variants), or what
the page's text says its sample sends (``samples.page_expected``)."""

from __future__ import annotations

import json

from ..variants import Variant
from .event_stream import SseEvent, split_lines
from .items import event_fields, raw_text
from .messages import Expected, filtered, json_text, nan_to_null, sse_message
from .samples import page_expected

__all__ = ["expected_messages"]


def expected_messages(scenario, variant: Variant) -> list[Expected]:
    """Every non-empty body message the client must receive, in order (one per item)."""
    if variant.is_page:
        return page_expected(scenario, variant)
    annotation = variant.axis["annotation"]
    items = list(scenario.chunks)
    if variant.form == "jsonl":
        out = []
        for item in items:
            value = filtered(item, annotation)
            out.append(Expected((json_text(value, annotation) + "\n").encode("utf-8"), value=value))
        return out
    kind = variant.axis["item"]
    out = []
    for i, item in enumerate(items):
        if kind == "data":
            value = filtered(item, annotation)
            text = json_text(value, annotation)
            out.append(sse_message(SseEvent(data=text), value=value))
        elif kind == "event":
            f = event_fields(i, item)
            value = nan_to_null(item)
            event = SseEvent(comments=tuple(split_lines(f["comment"])), event=f["event"], data=json.dumps(value),
                             id=f["id"], retry=f["retry"])
            out.append(sse_message(event, value=value))
        else:
            out.append(sse_message(SseEvent(data=raw_text(item))))
    return out
