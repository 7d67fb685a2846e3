"""starlette-compress's ``CompressMiddleware``: zstd, br or gzip, whichever the client offers first by its order.

Check it with::

    stream-harness run --app examples.apps.with_starlette_compress:app
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette_compress import CompressMiddleware

app = FastAPI()
app.add_middleware(CompressMiddleware, minimum_size=0)


@app.get("/health")
async def health() -> dict:
    return {"ok": True}
