"""The page's 13 routes, exactly as the page writes them: the reference variants.

Only the module-level names the samples read are injected: ``message`` (a ``str`` whose
``splitlines()`` hands out the instrumented chunks) and ``read_image`` (returns the instrumented
``BytesIO``). Everything inside the route functions is the page's text.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable
from typing import Callable
from io import BytesIO


def story_app(message: str):
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse

    app = FastAPI()

    @app.get("/story/stream", response_class=StreamingResponse)
    async def stream_story() -> AsyncIterable[str]:
        for line in message.splitlines():
            yield line

    @app.get("/story/stream-no-async", response_class=StreamingResponse)
    def stream_story_no_async() -> Iterable[str]:
        for line in message.splitlines():
            yield line

    @app.get("/story/stream-no-annotation", response_class=StreamingResponse)
    async def stream_story_no_annotation():
        for line in message.splitlines():
            yield line

    @app.get("/story/stream-no-async-no-annotation", response_class=StreamingResponse)
    def stream_story_no_async_no_annotation():
        for line in message.splitlines():
            yield line

    @app.get("/story/stream-bytes", response_class=StreamingResponse)
    async def stream_story_bytes() -> AsyncIterable[bytes]:
        for line in message.splitlines():
            yield line.encode("utf-8")

    @app.get("/story/stream-no-async-bytes", response_class=StreamingResponse)
    def stream_story_no_async_bytes() -> Iterable[bytes]:
        for line in message.splitlines():
            yield line.encode("utf-8")

    @app.get("/story/stream-no-annotation-bytes", response_class=StreamingResponse)
    async def stream_story_no_annotation_bytes():
        for line in message.splitlines():
            yield line.encode("utf-8")

    @app.get("/story/stream-no-async-no-annotation-bytes", response_class=StreamingResponse)
    def stream_story_no_async_no_annotation_bytes():
        for line in message.splitlines():
            yield line.encode("utf-8")

    return app


def image_app(read_image: Callable[[], BytesIO]):
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse

    app = FastAPI()

    class PNGStreamingResponse(StreamingResponse):
        media_type = "image/png"

    @app.get("/image/stream", response_class=PNGStreamingResponse)
    async def stream_image() -> AsyncIterable[bytes]:
        with read_image() as image_file:
            for chunk in image_file:
                yield chunk

    @app.get("/image/stream-no-async", response_class=PNGStreamingResponse)
    def stream_image_no_async() -> Iterable[bytes]:
        with read_image() as image_file:
            for chunk in image_file:
                yield chunk

    @app.get("/image/stream-no-async-yield-from", response_class=PNGStreamingResponse)
    def stream_image_no_async_yield_from() -> Iterable[bytes]:
        with read_image() as image_file:
            yield from image_file

    @app.get("/image/stream-no-annotation", response_class=PNGStreamingResponse)
    async def stream_image_no_annotation():
        with read_image() as image_file:
            for chunk in image_file:
                yield chunk

    @app.get("/image/stream-no-async-no-annotation", response_class=PNGStreamingResponse)
    def stream_image_no_async_no_annotation():
        with read_image() as image_file:
            for chunk in image_file:
                yield chunk

    return app
