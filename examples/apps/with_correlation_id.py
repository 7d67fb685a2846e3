"""asgi-correlation-id's ``CorrelationIdMiddleware`` (pure ASGI): adds an ``X-Request-ID`` to every response.

Check it with::

    stream-harness run --app examples.apps.with_correlation_id:app
"""

from __future__ import annotations

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI

app = FastAPI()
app.add_middleware(CorrelationIdMiddleware)


@app.get("/health")
async def health() -> dict:
    return {"ok": True}
