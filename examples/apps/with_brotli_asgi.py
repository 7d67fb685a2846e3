"""brotli-asgi's ``BrotliMiddleware``: answers ``br`` to a browser, gzip to a client that offers only gzip.

A pure ASGI middleware that compresses each body message as it passes and flushes it, so a stream
stays a stream; the harness offers what a browser offers and decodes each br message. Check it with::

    stream-harness run --app examples.apps.with_brotli_asgi:app
"""

from __future__ import annotations

from brotli_asgi import BrotliMiddleware
from fastapi import FastAPI

app = FastAPI()
app.add_middleware(BrotliMiddleware, minimum_size=0)


@app.get("/health")
async def health() -> dict:
    return {"ok": True}
