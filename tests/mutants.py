"""Deliberately broken apps. Each breaks one promise of the page the way a framework regression
could; the tests show that the check citing that promise reports each one as ``fail``.

A mutant is a route builder, the same signature as :func:`harness.routes.build_route`, usually
that function with one piece swapped (the response class, the endpoint, the route's options).
"""

from __future__ import annotations

import asyncio
import json
from functools import partial

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from harness.routes import PATH, Route, build_route


def _encode(chunk, charset: str) -> bytes:
    return chunk if isinstance(chunk, bytes) else chunk.encode(charset)


class MutantResponse(StreamingResponse):
    """A StreamingResponse whose ``stream_response`` is rewritten with one defect (class flags)."""

    buffer = False  # read every chunk before sending any
    merge = False  # send all chunks as one message
    reverse = False
    drop_last = False
    final = True  # send the final more_body=false message
    after_final = False  # send another message after the final one
    transform = staticmethod(lambda data: data)  # applied to each chunk's bytes

    async def stream_response(self, send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        body = lambda data, more=True: {"type": "http.response.body", "body": data, "more_body": more}  # noqa: E731
        if not (self.buffer or self.merge or self.reverse or self.drop_last):
            async for chunk in self.body_iterator:
                await send(body(self.transform(_encode(chunk, self.charset))))
        else:
            chunks = [self.transform(_encode(c, self.charset)) async for c in self.body_iterator]
            chunks = chunks[::-1] if self.reverse else chunks
            chunks = chunks[:-1] if self.drop_last else chunks
            for data in ([b"".join(chunks)] if self.merge else chunks):
                await send(body(data))
        if self.final:
            await send(body(b"", False))
        if self.after_final:
            await send(body(b"", False))


def with_response(**flags):
    """A builder whose response classes are MutantResponse with ``flags``."""
    return partial(build_route, response_base=type("Mutant", (MutantResponse,), flags))


buffers_then_sends_each = with_response(buffer=True)
merges_all_chunks = with_response(merge=True)
reorders_chunks = with_response(reverse=True)
drops_last_chunk = with_response(drop_last=True)
no_final_message = with_response(final=False)
sends_after_final = with_response(after_final=True)
json_encodes_chunks = with_response(transform=staticmethod(lambda d: json.dumps(d.decode("utf-8", "replace")).encode()))
reencodes_latin1 = with_response(transform=staticmethod(lambda d: d.decode("latin-1").encode("utf-8")))
plain_sends_json_type = partial(build_route, response_base=type("JsonByDefault", (StreamingResponse,),
                                                                 {"media_type": "application/json"}))


def subclass_sends_other_type(scenario, variant, open_source):
    """The subclass's media_type is ignored: the response goes out as application/json."""
    class Overriding(StreamingResponse):
        def __init__(self, content, status_code=200, headers=None, media_type=None, background=None):
            super().__init__(content, status_code, headers, media_type, background)
            self.raw_headers = [h for h in self.raw_headers if h[0] != b"content-type"]
            self.raw_headers.append((b"content-type", b"application/json"))
    return build_route(scenario, variant, open_source, response_base=Overriding)


def media_type_only_per_instance(scenario, variant, open_source):
    """The Content-Type is sent, but the class has no media_type, so OpenAPI documents nothing."""
    class PerInstance(StreamingResponse):
        def __init__(self, content, status_code=200, headers=None, media_type=None, background=None):
            super().__init__(content, status_code, headers, media_type or scenario.media_type, background)
    route = build_route(scenario, variant.replace(response="plain"), open_source, response_base=PerInstance)
    return route


def never_closes(scenario, variant, open_source):
    """The generator opens the resource without a ``with`` and keeps a reference: never closed."""
    leaked: list = []
    is_async = variant.axis["function"] == "async"
    response = StreamingResponse
    if variant.axis["response"] == "subclass":
        response = type("Sub", (StreamingResponse,), {"media_type": scenario.media_type})

    if is_async:
        async def stream():
            resource = open_source(variant.axis["chunk"])
            leaked.append(resource)
            for chunk in resource:
                yield chunk
    else:
        def stream():
            resource = open_source(variant.axis["chunk"])
            leaked.append(resource)
            yield from resource
    app = FastAPI()
    app.get(PATH, response_class=response)(stream)
    app.state.leaked = leaked
    return Route(app, PATH, opens_resource=True)


def _json_when_annotated(endpoint, variant):
    """A framework that serialises chunks as JSON when the function has a return annotation."""
    if variant.axis["annotation"] == "none":
        return endpoint
    if variant.axis["function"] == "async":
        async def wrapped():
            async for chunk in endpoint():
                yield json.dumps(chunk if isinstance(chunk, str) else chunk.decode("utf-8", "replace"))
    else:
        def wrapped():
            for chunk in endpoint():
                yield json.dumps(chunk if isinstance(chunk, str) else chunk.decode("utf-8", "replace"))
    wrapped.__annotations__ = dict(endpoint.__annotations__)
    return wrapped


annotation_changes_body = partial(build_route, endpoint_hook=_json_when_annotated)


def _header_when(axis: str, value: str, header: bytes):
    def builder(scenario, variant, open_source):
        base = StreamingResponse
        if variant.axis[axis] == value:
            class Marked(StreamingResponse):
                def __init__(self, content, status_code=200, headers=None, media_type=None, background=None):
                    super().__init__(content, status_code, headers, media_type, background)
                    self.raw_headers.append((header, b"1"))
            base = Marked
        return build_route(scenario, variant, open_source, response_base=base)
    return builder


def_adds_header = _header_when("function", "def", b"x-ran-in-thread")
yield_from_adds_header = _header_when("loop", "yield-from", b"x-yield-from")

undocumented_route = partial(build_route, route_kwargs={"include_in_schema": False})
plain_documents_json = partial(build_route, route_kwargs={
    "responses": {200: {"content": {"application/json": {"schema": {}}}}}})


def hangs(scenario, variant, open_source):
    """The generator never yields: the request must end at its deadline, not hang the harness."""
    async def stream():
        await asyncio.Event().wait()
        yield b""
    app = FastAPI()
    app.get(PATH, response_class=StreamingResponse)(stream)
    return Route(app, PATH, opens_resource=False)


def raises_midway(scenario, variant, open_source):
    """The generator raises after two chunks."""
    def stream():
        with open_source(variant.axis["chunk"]) as chunks:
            for i, chunk in enumerate(chunks):
                if i == 2:
                    raise RuntimeError("producer broke after 2 chunks")
                yield chunk
    app = FastAPI()
    app.get(PATH, response_class=StreamingResponse)(stream)
    return Route(app, PATH, opens_resource=True)


def cannot_declare(scenario, variant, open_source):
    """The installed framework refuses to declare the route at all."""
    raise TypeError("this FastAPI cannot declare a streaming route")


class ClosingResponse(StreamingResponse):
    """Not a mutant: a StreamingResponse that closes what it was given when the stream ends in any
    way. It shows that ``closure-on-disconnect`` can pass, and what a framework would have to do."""

    def __init__(self, content, status_code=200, headers=None, media_type=None, background=None):
        super().__init__(content, status_code, headers, media_type, background)
        self._given = content

    async def stream_response(self, send) -> None:
        import anyio

        try:
            await super().stream_response(send)
        finally:
            with anyio.CancelScope(shield=True):
                if hasattr(self._given, "aclose"):
                    await self._given.aclose()
                elif hasattr(self._given, "close"):
                    await anyio.to_thread.run_sync(self._given.close)


closes_on_disconnect = partial(build_route, response_base=ClosingResponse)


_KEPT: list = []


class KeepsAbandonedStreams(StreamingResponse):
    """A framework that keeps every stream it started (a registry for metrics, say): after a
    disconnect the generator is never closed, not even by a garbage collection."""

    def __init__(self, content, status_code=200, headers=None, media_type=None, background=None):
        super().__init__(content, status_code, headers, media_type, background)
        _KEPT.append((content, self.body_iterator))


keeps_abandoned_streams = partial(build_route, response_base=KeepsAbandonedStreams)


class _RaisesAfterTheStream:
    """Mixin: the response's call raises once the stream ended in any way (as FastAPI's SSE teardown does
    when the client leaves while the producer is ahead), so the app's call fails after a disconnect: on
    daphne the failed task, and through its traceback the generator, is held until daphne reaps it."""

    async def stream_response(self, send) -> None:
        try:
            await super().stream_response(send)
        finally:
            raise RuntimeError("the response failed as the stream ended")


class KeepsAbandonedStreamsAndRaises(_RaisesAfterTheStream, KeepsAbandonedStreams):
    """``KeepsAbandonedStreams`` whose call also fails after a disconnect: waiting for daphne to let go
    of the failed task must not turn a generator kept forever into one a GC closes."""


class ClosesAndRaises(_RaisesAfterTheStream, ClosingResponse):
    """Not a mutant: closes what it streamed, then its call fails: the passing side of the above."""


keeps_abandoned_streams_and_raises = partial(build_route, response_base=KeepsAbandonedStreamsAndRaises)
closes_and_raises = partial(build_route, response_base=ClosesAndRaises)


class DrainsAfterDisconnect(StreamingResponse):
    """A framework that, once the client left, runs the body to its end for nobody ("to release
    resources"): the generator keeps producing the whole payload after the disconnect."""

    async def stream_response(self, send) -> None:
        import anyio

        try:
            await super().stream_response(send)
        finally:
            with anyio.CancelScope(shield=True):
                async for _ in self.body_iterator:
                    pass


drains_after_disconnect = partial(build_route, response_base=DrainsAfterDisconnect)


class CompletesAfterError(StreamingResponse):
    """A framework that hides a producer failure: it ends the body normally, so the truncated
    response looks complete to the client."""

    async def stream_response(self, send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        try:
            async for chunk in self.body_iterator:
                await send({"type": "http.response.body", "body": _encode(chunk, self.charset), "more_body": True})
        except Exception:
            pass
        await send({"type": "http.response.body", "body": b"", "more_body": False})


completes_after_error = partial(build_route, response_base=CompletesAfterError)


def sends_content_length(scenario, variant, open_source):
    """A response that declares its length up front: the server frames it with Content-Length,
    not chunked transfer encoding (what a buffering framework does)."""
    length = str(len(b"".join(scenario.wire_chunks)))

    class Sized(StreamingResponse):
        def __init__(self, content, status_code=200, headers=None, media_type=None, background=None):
            super().__init__(content, status_code, {"content-length": length}, media_type, background)
    return build_route(scenario, variant, open_source, response_base=Sized)


def swallows_generator_exit(scenario, variant, open_source):
    """A generator that catches the GeneratorExit of its closing and runs its source to the end
    first (closed promptly here by ClosingResponse, so the drain happens at the disconnect)."""
    chunk_type = variant.axis["chunk"]
    if variant.axis["function"] == "async":
        async def stream():
            with open_source(chunk_type) as chunks:
                it = iter(chunks)
                try:
                    for chunk in it:
                        yield chunk
                except GeneratorExit:
                    for _ in it:
                        pass
                    raise
    else:
        def stream():
            with open_source(chunk_type) as chunks:
                it = iter(chunks)
                try:
                    for chunk in it:  # not `yield from`: it would close the file on the way out
                        yield chunk
                except GeneratorExit:
                    for _ in it:
                        pass
                    raise
    app = FastAPI()
    app.get(PATH, response_class=ClosingResponse)(stream)
    return Route(app, PATH, opens_resource=True)


class RunsDefOnTheLoop(StreamingResponse):
    """A framework that iterates a ``def`` generator on the event loop itself instead of on a
    threadpool worker: each blocking read then blocks the loop."""

    def __init__(self, content, status_code=200, headers=None, media_type=None, background=None):
        super().__init__(content, status_code, headers, media_type, background)
        if not hasattr(content, "__aiter__"):
            async def on_the_loop():
                for chunk in content:
                    yield chunk
            self.body_iterator = on_the_loop()


runs_def_on_the_loop = partial(build_route, response_base=RunsDefOnTheLoop)


def async_runs_as_def(scenario, variant, open_source):
    """A framework that quietly runs every ``async def`` generator as if it were ``def``: the
    negative control then blocks nothing, and the latency check must say it cannot measure."""
    return build_route(scenario, variant.replace(function="def") if variant.axis["loop"] == "for" else variant,
                       open_source)


class ReadsOneAhead(StreamingResponse):
    """A framework that fetches chunk k+1 before it sends chunk k (a one-chunk read-ahead)."""

    async def stream_response(self, send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        iterator = self.body_iterator.__aiter__()
        pending = None
        async for chunk in iterator:
            if pending is not None:
                await send({"type": "http.response.body", "body": pending, "more_body": True})
            pending = _encode(chunk, self.charset)
        if pending is not None:
            await send({"type": "http.response.body", "body": pending, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


reads_one_ahead = partial(build_route, response_base=ReadsOneAhead)


_UNOWNED: list = []  # the real file objects the mutant below took over; closed by the tests' teardown


def closes_file_object_only(scenario, variant, open_source):
    """The generator's ``with`` closes a file object that does not own its descriptor (as
    ``open(fd, closefd=False)`` makes): the object says closed, the operating system still has the
    file open. Only a probe that looks at the descriptor can tell."""
    def unowned(chunk_type):
        resource = open_source(chunk_type)
        _UNOWNED.append(resource._file)
        resource._file = open(resource.fd, "rb", buffering=0, closefd=False)
        return resource
    return build_route(scenario, variant, unowned)


def close_unowned_files() -> None:
    while _UNOWNED:
        _UNOWNED.pop().close()


# What surrounds the route (harness/surround.py): each mutant breaks one thing a context route relies on.

class IgnoresStatus(StreamingResponse):
    """A framework that sends every stream with 200, whatever the route declared or a dependency set
    (fastapi#15937's shape)."""

    def __init__(self, content, status_code=200, headers=None, media_type=None, background=None):
        super().__init__(content, 200, headers, media_type, background)


ignores_status_code = partial(build_route, response_base=IgnoresStatus)


class DropsDependencyHeaders(StreamingResponse):
    """A framework that adds the dependencies' headers to a copy: they never reach the client
    (fastapi#16105's shape)."""

    @property
    def headers(self):
        from starlette.datastructures import MutableHeaders

        return MutableHeaders(raw=list(self.raw_headers))


drops_dependency_headers = partial(build_route, response_base=DropsDependencyHeaders)


class BackgroundFirst(StreamingResponse):
    """A framework that runs the background tasks before it streams (and drops those added later)."""

    async def __call__(self, scope, receive, send) -> None:
        background, self.background = self.background, None
        if background is not None:
            await background()
        await super().__call__(scope, receive, send)


background_before_stream = partial(build_route, response_base=BackgroundFirst)


class BackgroundTwice(StreamingResponse):
    """A framework that runs the background tasks once more after the response (a retry, say)."""

    async def __call__(self, scope, receive, send) -> None:
        await super().__call__(scope, receive, send)
        if self.background is not None:
            await self.background()


background_twice = partial(build_route, response_base=BackgroundTwice)


def _swap_context(old: str, new: str):
    def builder(scenario, variant, open_source):
        return build_route(scenario, variant.with_context(new) if variant.context == old else variant, open_source)
    return builder


# Every dependency with yield closed right after the path operation function, before the response (what
# FastAPI 0.106.0 to 0.117.x did): the page's database session is closed under the stream.
closes_dependencies_early = _swap_context("teardown", "teardown-function")
# `Depends(scope="function")` ignored: the dependency stays open for the whole response.
ignores_function_scope = _swap_context("teardown-function", "teardown")


def _without_checkpoint(endpoint, variant, context: str = "never-awaits"):
    """The generator handed to the response as is, with no checkpoint between chunks (what FastAPI did
    not do before fastapi#14680, and what a user returning ``StreamingResponse(gen())`` still gets)."""
    if variant.context != context:
        return endpoint

    async def handler():
        return StreamingResponse(endpoint())
    return handler


no_checkpoint_between_chunks = partial(build_route, endpoint_hook=_without_checkpoint)
# The same on the shutdown twin only: nothing gives the server's loop a turn to act on SIGTERM.
no_checkpoint_on_shutdown = partial(build_route, endpoint_hook=partial(_without_checkpoint,
                                                                      context="never-awaits-until-stopped"))


class ShieldedStreamingResponse(StreamingResponse):
    """A response that streams inside a shielded cancel scope: a server's cancellation on shutdown never
    reaches the generator, which runs on for nobody (a framework "protecting" the stream, say)."""

    async def stream_response(self, send) -> None:
        import anyio

        with anyio.CancelScope(shield=True):
            await super().stream_response(send)


def _shielded_from_shutdown(endpoint, variant):
    """The never-awaiting generator of the shutdown twin, with FastAPI's checkpoint after each chunk, streamed
    by :class:`ShieldedStreamingResponse`; every other route as it is, so only the shutdown half can fail."""
    if variant.context != "never-awaits-until-stopped":
        return endpoint

    async def checkpointed():
        import anyio

        async for chunk in endpoint():
            yield chunk
            await anyio.sleep(0)

    async def handler():
        return ShieldedStreamingResponse(checkpointed())
    return handler


shielded_from_shutdown = partial(build_route, endpoint_hook=_shielded_from_shutdown)


def router_drops_response_class(scenario, variant, open_source):
    """A framework whose include_router() loses the route's response_class: declared through a router,
    the subclass's route goes out as a plain StreamingResponse (no media_type)."""
    if variant.axis["declaration"] != "app":
        variant = variant.replace(response="plain")
    return build_route(scenario, variant, open_source)

# --- JSON Lines and Server-Sent Events (the jsonl and sse forms) ------------------------------------------
# FastAPI encodes items in its routing layer, not in a response class, so these mutants either wrap the
# stock route in an ASGI middleware that changes what it sends (a proxy or a framework regression), or
# serve the items through a naive encoder of their own.

import dataclasses  # noqa: E402


def _wrapping(middleware):
    """A builder: the stock route of the variant, behind ``middleware(app) -> app``."""
    def builder(scenario, variant, open_source):
        route = build_route(scenario, variant, open_source)
        return dataclasses.replace(route, app=middleware(route.app))
    builder.__name__ = middleware.__name__
    return builder


def _rewrite_start(change):
    def middleware(app):
        async def wrapped(scope, receive, send):
            async def rewriting(message):
                if message["type"] == "http.response.start":
                    message = change(dict(message))
                await send(message)
            await app(scope, receive, rewriting)
        return wrapped
    return middleware


def _drop_header(name: bytes):
    return _rewrite_start(lambda m: {**m, "headers": [(k, v) for k, v in m["headers"] if k.lower() != name]})


def strips_accel_buffering(app):
    """A proxy or framework that drops ``X-Accel-Buffering: no``."""
    return _drop_header(b"x-accel-buffering")(app)


def sends_json_content_type(app):
    """The stream goes out as ``application/json``."""
    return _rewrite_start(lambda m: {**m, "headers": [(k, v) for k, v in m["headers"] if k.lower() != b"content-type"]
                                     + [(b"content-type", b"application/json")]})(app)


def sends_default_status(app):
    """The declared status_code is dropped: 200 goes out (fastapi#15937, FastAPI 0.134-0.135)."""
    return _rewrite_start(lambda m: {**m, "status": 200})(app)


def drops_keepalive(app):
    """No keep-alive reaches the client: the ``: ping`` comments are dropped."""
    async def wrapped(scope, receive, send):
        async def dropping(message):
            if message["type"] == "http.response.body" and message.get("body", b"").startswith(b":"):
                return
            await send(message)
        await app(scope, receive, dropping)
    return wrapped


def buffers_whole_body(app):
    """Every body message held until the last, then all sent as one (a buffering proxy)."""
    async def wrapped(scope, receive, send):
        held = []

        async def holding(message):
            if message["type"] != "http.response.body":
                return await send(message)
            held.append(message.get("body", b""))
            if not message.get("more_body"):
                await send({"type": "http.response.body", "body": b"".join(held), "more_body": False})
        await app(scope, receive, holding)
    return wrapped


def ends_normally_on_error(app):
    """A middleware that catches what the app raised mid-stream and ends the body normally."""
    async def wrapped(scope, receive, send):
        ended = False

        async def tracking(message):
            nonlocal ended
            if message["type"] == "http.response.body" and not message.get("more_body"):
                ended = True
            await send(message)
        try:
            await app(scope, receive, tracking)
        except Exception:
            if not ended:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
    return wrapped


strips_accel_buffering_route = _wrapping(strips_accel_buffering)
sends_json_content_type_route = _wrapping(sends_json_content_type)
sends_default_status_route = _wrapping(sends_default_status)
drops_keepalive_route = _wrapping(drops_keepalive)
buffers_whole_body_route = _wrapping(buffers_whole_body)
ends_normally_on_error_route = _wrapping(ends_normally_on_error)


def _naive_items_app(scenario, variant, open_source, encode, media_type):
    """A framework of its own: each item from the variant's source through ``encode``."""
    from fastapi.responses import StreamingResponse as Streaming

    kind = f"{variant.form}:{variant.axis.get('item', 'data')}"

    def body():
        with open_source(kind) as items:
            for item in items:
                yield encode(item)
    app = FastAPI()
    app.get(PATH)(lambda: Streaming(body(), media_type=media_type))
    return Route(app, PATH, opens_resource=True)


def jsonl_pretty_printed(scenario, variant, open_source):
    """JSON Lines written with ``indent``: a value spans several lines."""
    return _naive_items_app(scenario, variant, open_source,
                            lambda item: json.dumps(item, indent=1) + "\n", "application/jsonl")


def sse_data_not_split(scenario, variant, open_source):
    """SSE whose encoder puts multi-line data after one ``data:`` (the next lines become junk fields)."""
    def encode(item):
        data = item.raw_data if hasattr(item, "raw_data") and item.raw_data is not None else json.dumps(
            getattr(item, "data", item))
        return f"data: {data}\n\n"
    return _naive_items_app(scenario, variant, open_source, encode, "text/event-stream")
