"""A stack with a response-body logger that buffers: the classic way a stream stops streaming.

The logger is a ``BaseHTTPMiddleware`` that reads ``response.body_iterator`` to the end to log the
body, then returns a new ``Response`` with those bytes. Every stream through it becomes one
buffered blob: the client gets nothing until the generator has finished. The harness reports
``incremental-delivery`` (and chunk-order) failing here and holding on bare FastAPI: the fault is
in this stack, in ``BodyLoggingMiddleware``. Check it with::

    stream-harness run --app examples.apps.buffering:app
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import Response

log = logging.getLogger("examples.buffering")


class BodyLoggingMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next):
        response = await call_next(request)
        body = b"".join([chunk async for chunk in response.body_iterator])  # the mistake: reads it all
        log.info("%s %s -> %d, %d bytes", request.method, request.url.path, response.status_code, len(body))
        return Response(content=body, status_code=response.status_code, headers=dict(response.headers),
                        media_type=response.media_type)


app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=["*"])
app.add_middleware(BodyLoggingMiddleware)


@app.get("/health")
async def health() -> dict:
    return {"ok": True}
