"""The sibling pages' samples, exactly as the pages write them: the reference variants of jsonl and sse.

Only the data a sample iterates is injected: its module-level ``items`` (iterated through the
instrumented source, which hands out the page's ``Item`` instances), and the local list of the logs
and chat samples (``logs``, ``prompt.text.split()``), opened in a ``with`` around the page's loop.
Everything else inside the route functions is the page's text; the models are the page's.
"""

import json
from collections.abc import AsyncIterable, Iterable
from typing import Annotated, Any, Callable

from .event_stream import SseEvent, encode_event
from .messages import Expected, json_text, sse_message

__all__ = ["page_app", "page_expected", "PAGE_REQUESTS"]

# What the harness sends to the samples that read the request: the resume sample gets the id of the
# first event as Last-Event-ID (the browser's reconnection), the POST sample its JSON body.
RESUME_FROM = "0"
CHAT_PROMPT = "Tell me a story about a plumbus"
PAGE_REQUESTS: dict[str, dict[str, Any]] = {
    "/items/stream-resume": {"headers": (("last-event-id", RESUME_FROM),)},
    "/chat/stream": {"body": json.dumps({"text": CHAT_PROMPT}).encode(), "headers": (("content-type", "application/json"),)},
}


class _TracedItems:
    """The sample's module-level ``items``: each ``for item in items`` opens the instrumented source."""

    def __init__(self, open_source: Callable[[str], Any], make: Callable[[dict], Any], form: str = "sse") -> None:
        self.open_source, self.make, self.form = open_source, make, form

    def __iter__(self):
        with self.open_source(self.form + ":data") as source:
            for item in source:
                yield self.make(item)


def _jsonl_items_app(open_source):
    """docs_src/stream_json_lines/tutorial001_py310.py, the routes as written."""
    from fastapi import FastAPI
    from pydantic import BaseModel

    app = FastAPI()

    class Item(BaseModel):
        name: str
        description: str | None

    items = _TracedItems(open_source, lambda d: Item(**d), "jsonl")

    @app.get("/items/stream")
    async def stream_items() -> AsyncIterable[Item]:
        for item in items:
            yield item

    @app.get("/items/stream-no-async")
    def stream_items_no_async() -> Iterable[Item]:
        for item in items:
            yield item

    @app.get("/items/stream-no-annotation")
    async def stream_items_no_annotation():
        for item in items:
            yield item

    @app.get("/items/stream-no-async-no-annotation")
    def stream_items_no_async_no_annotation():
        for item in items:
            yield item

    return app


def _sse_items_app(open_source):
    """docs_src/server_sent_events/tutorial001_py310.py, the routes as written."""
    from fastapi import FastAPI
    from fastapi.sse import EventSourceResponse
    from pydantic import BaseModel

    app = FastAPI()

    class Item(BaseModel):
        name: str
        description: str | None

    items = _TracedItems(open_source, lambda d: Item(**d))

    @app.get("/items/stream", response_class=EventSourceResponse)
    async def sse_items() -> AsyncIterable[Item]:
        for item in items:
            yield item

    @app.get("/items/stream-no-async", response_class=EventSourceResponse)
    def sse_items_no_async() -> Iterable[Item]:
        for item in items:
            yield item

    @app.get("/items/stream-no-annotation", response_class=EventSourceResponse)
    async def sse_items_no_annotation():
        for item in items:
            yield item

    @app.get("/items/stream-no-async-no-annotation", response_class=EventSourceResponse)
    def sse_items_no_async_no_annotation():
        for item in items:
            yield item

    return app


def _sse_events_app(open_source):
    """docs_src/server_sent_events/tutorial002_py310.py (at /items/stream-events) and tutorial004_py310.py
    (at /items/stream-resume): both serve /items/stream on the page, here side by side."""
    from fastapi import FastAPI, Header
    from fastapi.sse import EventSourceResponse, ServerSentEvent
    from pydantic import BaseModel

    app = FastAPI()

    class Item(BaseModel):
        name: str
        price: float

    items = _TracedItems(open_source, lambda d: Item(**d))

    @app.get("/items/stream-events", response_class=EventSourceResponse)
    async def stream_items() -> AsyncIterable[ServerSentEvent]:
        yield ServerSentEvent(comment="stream of item updates")
        for i, item in enumerate(items):
            yield ServerSentEvent(data=item, event="item_update", id=str(i + 1), retry=5000)

    @app.get("/items/stream-resume", response_class=EventSourceResponse)
    async def stream_items_resume(
        last_event_id: Annotated[int | None, Header()] = None,
    ) -> AsyncIterable[ServerSentEvent]:
        start = last_event_id + 1 if last_event_id is not None else 0
        for i, item in enumerate(items):
            if i < start:
                continue
            yield ServerSentEvent(data=item, id=str(i))

    return app


def _sse_logs_app(open_source):
    """docs_src/server_sent_events/tutorial003_py310.py; its local ``logs`` list is the scenario's."""
    from fastapi import FastAPI
    from fastapi.sse import EventSourceResponse, ServerSentEvent

    app = FastAPI()

    @app.get("/logs/stream", response_class=EventSourceResponse)
    async def stream_logs() -> AsyncIterable[ServerSentEvent]:
        with open_source("sse:data") as logs:
            for log_line in logs:
                yield ServerSentEvent(raw_data=log_line)

    return app


def _sse_chat_app(open_source):
    """docs_src/server_sent_events/tutorial005_py310.py; ``prompt.text.split()`` is the scenario's words."""
    from fastapi import FastAPI
    from fastapi.sse import EventSourceResponse, ServerSentEvent
    from pydantic import BaseModel

    app = FastAPI()

    class Prompt(BaseModel):
        text: str

    @app.post("/chat/stream", response_class=EventSourceResponse)
    async def stream_chat(prompt: Prompt) -> AsyncIterable[ServerSentEvent]:
        with open_source("sse:data") as words:  # the page: words = prompt.text.split()
            for word in words:
                yield ServerSentEvent(data=word, event="token")
        yield ServerSentEvent(raw_data="[DONE]", event="done")

    return app


_APPS = {"items": {"jsonl": _jsonl_items_app, "sse": _sse_items_app}, "priced-items": {"sse": _sse_events_app},
         "logs": {"sse": _sse_logs_app}, "chat": {"sse": _sse_chat_app}}


def page_app(scenario, variant, open_source):
    """The page's sample app for ``variant`` of ``scenario`` (served at ``variant.page_path``)."""
    return _APPS[scenario.page_sample][variant.form](open_source)


def page_expected(scenario, variant) -> list[Expected]:
    """What each sample must send, from the page's text: tutorial001 as the generated variants of its
    annotation; tutorial002 a comment, then item_update events with id and retry; tutorial003 raw log
    lines; tutorial004 the events after Last-Event-ID; tutorial005 a "token" event per word, then
    ``[DONE]``."""
    items = list(scenario.chunks)
    path = variant.page_path
    if scenario.page_sample == "items":
        annotation = variant.axis["annotation"]
        out = []
        for item in items:
            text = json_text(item, annotation)
            out.append(Expected((text + "\n").encode(), value=item) if variant.form == "jsonl"
                       else sse_message(SseEvent(data=text), value=item))
        return out
    if path == "/items/stream-events":
        head = Expected(encode_event(comment="stream of item updates"),
                        event=SseEvent(comments=("stream of item updates",)))
        return [head] + [sse_message(SseEvent(event="item_update", data=json_text(item, "model"), id=str(i + 1),
                                       retry=5000), value=item) for i, item in enumerate(items)]
    if path == "/items/stream-resume":
        start = int(RESUME_FROM) + 1
        return [sse_message(SseEvent(data=json_text(item, "model"), id=str(i)), value=item)
                for i, item in enumerate(items) if i >= start]
    if path == "/logs/stream":
        return [sse_message(SseEvent(data=line)) for line in items]
    if path == "/chat/stream":
        return ([sse_message(SseEvent(event="token", data=json.dumps(word)), value=word) for word in items]
                + [sse_message(SseEvent(event="done", data="[DONE]"))])
    raise ValueError(f"no expectation for {variant.id}")
