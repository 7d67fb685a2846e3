"""The form axis: how a route's yielded items become bytes, and what the client must then receive.

``raw`` is Stream Data (``routes.py``): chunks go out as they are. ``jsonl`` (the "Stream JSON Lines"
page, FastAPI >= 0.134.0) and ``sse`` (the "Server-Sent Events" page, >= 0.135.0) yield *items*: a
scenario for them declares ``items=`` (JSON-able dicts) instead of ``chunks=``. This module builds
their routes (real source compiled per variant, as for raw), says what the producer yields for a
variant (the dict, a ``ServerSentEvent`` around it, or its ``raw_data``) and what each body message
must be, computed independently of FastAPI from the pages (``event_stream.py`` for the formats).

What a declared item type does, per the pages: a Pydantic model validates, filters (fields it does
not declare are dropped) and serializes through Pydantic (compact JSON, UTF-8 kept); a plain type
(``dict``) validates and serializes through Pydantic; no annotation goes through
``jsonable_encoder`` and ``json.dumps`` (its default spacing, non-ASCII escaped). ``ServerSentEvent``
items are not validated against the annotation; their ``data`` is JSON-encoded (a model through its
own ``model_dump_json``), their ``raw_data`` sent as is.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass
from typing import Any, Callable

from .event_stream import SseEvent, encode_event
from .variants import Variant
from .installed import parse_version, versions

__all__ = ["FORM_SINCE", "form_missing_reason", "build_form_route", "producer_items", "expected_messages",
           "Expected", "fast_keepalive", "PING_INTERVAL_S", "item_model"]

FORM_SINCE = {"raw": (0, 134, 0), "jsonl": (0, 134, 0), "sse": (0, 135, 0)}
MEDIA_TYPES = {"jsonl": "application/jsonl", "sse": "text/event-stream"}
PATH = "/stream"
PING_INTERVAL_S = 0.05  # the keep-alive interval the harness sets for the idle scenario (FastAPI's is 15 s)


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


# --- what the producer yields ------------------------------------------------------------------------


def producer_items(scenario, kind: str) -> list[Any]:
    """The scenario's items as a variant of item kind ``kind`` yields them: ``data`` the dicts,
    ``event`` a ``ServerSentEvent`` with every field around each, ``raw`` its name as ``raw_data``."""
    items = list(scenario.chunks)
    if kind == "data":
        return items
    from fastapi.sse import ServerSentEvent

    if kind == "event":
        return [ServerSentEvent(**_event_fields(i, item)) for i, item in enumerate(items)]
    if kind == "raw":
        return [ServerSentEvent(raw_data=_raw_text(item)) for item in items]
    raise ValueError(f"unknown item kind {kind!r}")


def _event_fields(i: int, item: dict) -> dict[str, Any]:
    """Every field of an event, from the item: a comment (its name: newlines make several comment lines),
    a type, an id, a retry on the first."""
    return {"data": item, "event": "item", "id": str(i + 1), "retry": 5000 if i == 0 else None,
            "comment": f"item {i + 1}: {item.get('name')}"}


def _raw_text(item: dict) -> str:
    return str(item.get("name"))


# FastAPI's SSE pulls items in a task of its own, through two one-item buffers (the producer's and the
# keep-alive's) with the keep-alive task holding one more between them: while the response waits for the
# client to take item k, items k+1 .. k+3 may already be made, by design; beyond, it buffers. (In-process
# the client takes each item at once, so only a server's socket shows the third.)
SSE_READ_AHEAD = 3
IDLE_AT = 1  # the idle scenario's producer waits for a keep-alive before this item
IDLE_WAIT_S = 2.0  # ... at most this long (40 intervals): no comment by then is a fail


def open_items(scenario, kind: str, recorder, gate):
    """The instrumented source of a scenario's items; the ``keepalive`` scenario's producer goes idle
    before item :data:`IDLE_AT` until the client has received one message more than it produced (the
    keep-alive comment), by coordination, not by a sleep."""
    from .probes import TracedChunks

    form, _, kind = kind.rpartition(":")
    if form == "sse":
        gate.slack = max(gate.slack, SSE_READ_AHEAD)
    if "keepalive" in scenario.tags:
        return _IdleItems(producer_items(scenario, kind), recorder, gate)
    return TracedChunks(producer_items(scenario, kind), recorder, gate, scenario.block_s)


def _idle_items_class():
    from .probes import TracedChunks
    from .trace import ProducerIdle

    class IdleItems(TracedChunks):
        def __iter__(self):
            for i, item in enumerate(super().__iter__()):
                if i == IDLE_AT:
                    rec = self._recorder
                    t0 = rec.now()
                    got = rec.wait_reached(IDLE_AT + 1, IDLE_WAIT_S)
                    rec.add(ProducerIdle(rec.now(), IDLE_AT, rec.now() - t0, got))
                yield item
    return IdleItems


def _IdleItems(items, recorder, gate):  # noqa: N802 - a class made on first use (probes imports scenarios)
    return _idle_items_class()(items, recorder, gate)


# --- what each message must be -----------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """One body message: ``value`` is the JSON value (jsonl) or ``event`` the event (sse); ``wire`` the
    canonical bytes; ``json_data`` whether the event's data is JSON to compare as a value."""

    wire: bytes
    value: Any = None
    event: SseEvent | None = None
    json_data: bool = False


def _filtered(item: dict, annotation: str) -> Any:
    """The value a client must see for ``item`` under ``annotation`` (JSON has no NaN: null)."""
    value = {k: item.get(k) for k in ("name", "description")} if annotation == "model" else item
    return _nan_to_null(value)


def _nan_to_null(value: Any) -> Any:
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _nan_to_null(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_to_null(v) for v in value]
    return value


def _json_text(value: Any, annotation: str) -> str:
    """Pydantic's JSON (compact, UTF-8) for a declared type, ``json.dumps`` for none."""
    if annotation in ("model", "plain"):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return json.dumps(value)


def expected_messages(scenario, variant: Variant) -> list[Expected]:
    """Every non-empty body message the client must receive, in order (one per item)."""
    from .form_pages import page_expected

    if variant.is_page:
        return page_expected(scenario, variant)
    annotation = variant.axis["annotation"]
    items = list(scenario.chunks)
    if variant.form == "jsonl":
        out = []
        for item in items:
            value = _filtered(item, annotation)
            out.append(Expected((_json_text(value, annotation) + "\n").encode("utf-8"), value=value))
        return out
    kind = variant.axis["item"]
    out = []
    for i, item in enumerate(items):
        if kind == "data":
            value = _filtered(item, annotation)
            text = _json_text(value, annotation)
            out.append(_sse(SseEvent(data=text), value=value))
        elif kind == "event":
            f = _event_fields(i, item)
            value = _nan_to_null(item)
            out.append(_sse(SseEvent(comments=tuple(_lines(f["comment"])), event=f["event"],
                                     data=json.dumps(value), id=f["id"], retry=f["retry"]), value=value))
        else:
            out.append(_sse(SseEvent(data=_raw_text(item))))
    return out


def _lines(text: str) -> list[str]:
    from .event_stream import split_lines
    return split_lines(text)


def _sse(event: SseEvent, value: Any = None) -> Expected:
    wire = encode_event(data=event.data, event=event.event, id=event.id, retry=event.retry,
                        comment="\n".join(event.comments) if event.comments else None)
    return Expected(wire, value=value, event=_data_joined(event), json_data=value is not None)


def _data_joined(event: SseEvent) -> SseEvent:
    """The event as a WHATWG parser gives it back: data lines split on CR/LF and joined with LF."""
    from .event_stream import split_lines
    data = None if event.data is None else "\n".join(split_lines(event.data))
    return SseEvent(comments=event.comments, event=event.event, data=data, id=event.id, retry=event.retry)


# --- the routes --------------------------------------------------------------------------------------


def endpoint_source(variant: Variant) -> str:
    """The Python source of a form variant's path operation function."""
    a = variant.axis
    is_async = a["function"] == "async"
    kind = a.get("item", "data")
    annotation = ""
    if a["annotation"] != "none":
        item = {"model": "ServerSentEvent" if kind != "data" else "Item", "plain": "dict"}[a["annotation"]]
        annotation = f" -> {'AsyncIterable' if is_async else 'Iterable'}[{item}]"
    body = ("yield from items" if a["loop"] == "yield-from" else "for item in items:\n            yield item")
    return (f"{'async def' if is_async else 'def'} stream(){annotation}:\n"
            f"    with open_source({variant.form + ':' + kind!r}) as items:\n"
            f"        {body}\n")


def build_form_route(scenario, variant: Variant, open_source: Callable[[str], Any], *,
                     response_base: type | None = None,
                     endpoint_hook: Callable[[Callable[..., Any], Variant], Callable[..., Any]] | None = None,
                     route_kwargs: dict[str, Any] | None = None):
    """The small FastAPI app serving a jsonl or sse variant of ``scenario`` at ``/stream``."""
    from fastapi import FastAPI

    from .routes import Route

    if variant.is_page:
        from .form_pages import page_route
        return page_route(scenario, variant, open_source)
    namespace: dict[str, Any] = {"open_source": open_source, "AsyncIterable": AsyncIterable, "Iterable": Iterable,
                                 "Item": item_model()}
    kwargs: dict[str, Any] = {}
    if variant.form == "sse":
        from fastapi.sse import EventSourceResponse, ServerSentEvent  # ImportError before 0.135.0: the gate says so

        namespace["ServerSentEvent"] = ServerSentEvent
        kwargs["response_class"] = response_base or EventSourceResponse
    elif response_base is not None:
        kwargs["response_class"] = response_base
    if scenario.status_code != 200:
        kwargs["status_code"] = scenario.status_code
    code = compile(endpoint_source(variant), f"<variant {variant.id}>", "exec")
    exec(code, namespace)  # noqa: S102 - our own template, no outside input
    endpoint = namespace["stream"]
    if endpoint_hook is not None:
        endpoint = endpoint_hook(endpoint, variant)
    app = FastAPI()
    method = variant.axis.get("method", "get")
    getattr(app, method)(PATH, **kwargs, **(route_kwargs or {}))(endpoint)
    asgi = fast_keepalive(app) if "keepalive" in scenario.tags else app
    return Route(asgi, PATH, opens_resource=True, method=method.upper())


# --- the keep-alive interval --------------------------------------------------------------------------

_PATCH_LOCK = threading.Lock()
_PATCHED = [0, None]  # requests inside, the interval to restore


def ping_interval_attribute() -> tuple[Any, str] | None:
    """Where FastAPI reads the keep-alive interval: ``fastapi.routing._PING_INTERVAL``, a module global
    read at each wait (``fastapi.sse._PING_INTERVAL`` is only the default it was imported from:
    patching that one changes nothing). ``None`` when this FastAPI has no such name."""
    try:
        import fastapi.routing as routing
    except ImportError:
        return None
    return (routing, "_PING_INTERVAL") if hasattr(routing, "_PING_INTERVAL") else None


@contextlib.contextmanager
def _short_interval():
    where = ping_interval_attribute()
    if where is None:
        yield
        return
    module, name = where
    with _PATCH_LOCK:
        if _PATCHED[0] == 0:
            _PATCHED[1] = getattr(module, name)
            setattr(module, name, PING_INTERVAL_S)
        _PATCHED[0] += 1
    try:
        yield
    finally:
        with _PATCH_LOCK:
            _PATCHED[0] -= 1
            if _PATCHED[0] == 0:
                setattr(module, name, _PATCHED[1])


def fast_keepalive(app):
    """``app`` with FastAPI's keep-alive interval at :data:`PING_INTERVAL_S` while its requests run
    (counted, so overlapping requests restore the real value only when the last one ends)."""
    async def short_interval_app(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        with _short_interval():
            await app(scope, receive, send)
    short_interval_app.inner = app
    return short_interval_app
