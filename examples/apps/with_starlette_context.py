"""starlette-context's ``ContextMiddleware`` (a ``BaseHTTPMiddleware``) with its request-id plugin.

Check it with::

    stream-harness run --app examples.apps.with_starlette_context:app
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette_context import plugins
from starlette_context.middleware import ContextMiddleware

app = FastAPI()
app.add_middleware(ContextMiddleware, plugins=(plugins.RequestIdPlugin(),))


@app.get("/health")
async def health() -> dict:
    return {"ok": True}
