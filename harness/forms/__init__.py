"""The form axis: how a route's yielded items become bytes, and what the client must then receive.

``raw`` is Stream Data (``routes.py``): chunks go out as they are. ``jsonl`` (the "Stream JSON Lines"
page, FastAPI >= 0.134.0) and ``sse`` (the "Server-Sent Events" page, >= 0.135.0) yield *items*: a
scenario for them declares ``items=`` (JSON-able dicts) instead of ``chunks=``. One module a job:

``__init__``    when a form exists (the version gate), its media type, the page's ``Item`` model
``items``       what a variant's producer yields (the dict, a ``ServerSentEvent`` around it, its ``raw_data``)
``messages``    what one body message must be, computed from the pages, independently of FastAPI
``expected``    every message a variant must send, in order (generated variants and the pages' samples)
``endpoints``   the source of a generated variant's path operation and the small app serving it
``samples``     the sibling pages' samples, exactly as the pages write them
``keepalive``   FastAPI's SSE keep-alive interval, shortened around a request
``event_stream`` the WHATWG event-stream and JSON Lines formats: an encoder and a parser of our own

What a declared item type does, per the pages: a Pydantic model validates, filters (fields it does
not declare are dropped) and serializes through Pydantic (compact JSON, UTF-8 kept); a plain type
(``dict``) validates and serializes through Pydantic; no annotation goes through
``jsonable_encoder`` and ``json.dumps`` (its default spacing, non-ASCII escaped). ``ServerSentEvent``
items are not validated against the annotation; their ``data`` is JSON-encoded (a model through its
own ``model_dump_json``), their ``raw_data`` sent as is.
"""

from __future__ import annotations

from ..installed import parse_version, versions
from ..variants import Variant

__all__ = ["FORM_SINCE", "MEDIA_TYPES", "PATH", "form_missing_reason", "item_model"]

FORM_SINCE = {"raw": (0, 134, 0), "jsonl": (0, 134, 0), "sse": (0, 135, 0)}
MEDIA_TYPES = {"jsonl": "application/jsonl", "sse": "text/event-stream"}
PATH = "/stream"  # where a generated form variant is served


def form_missing_reason(variant: Variant, fastapi_version: str | None = None) -> str | None:
    """Why the installed FastAPI has no such form (``None`` when it has it)."""
    version = fastapi_version or versions()["fastapi"]
    parsed = parse_version(version)
    since = FORM_SINCE[variant.form]
    if parsed and parsed < since and variant.form == "sse":
        return (f"FastAPI {version} predates Server-Sent Events (added in 0.135.0): it has no fastapi.sse, so "
                "EventSourceResponse cannot be imported; the same generator without response_class streams "
                "JSON Lines there")
    return None


def item_model():
    """The page's ``Item`` (name, description): the model the generated ``model`` variants declare."""
    from pydantic import BaseModel

    global _ITEM
    if _ITEM is None:
        class Item(BaseModel):
            name: str
            description: str | None = None
        _ITEM = Item
    return _ITEM


_ITEM = None
