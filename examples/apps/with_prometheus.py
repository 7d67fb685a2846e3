"""prometheus-fastapi-instrumentator: ``Instrumentator().instrument(app).expose(app)`` adds its pure ASGI
``PrometheusInstrumentatorMiddleware`` and a ``/metrics`` route. Its own registry, so a second import
in one process registers nothing twice. Check it with::

    stream-harness run --app examples.apps.with_prometheus:app
"""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from prometheus_fastapi_instrumentator import Instrumentator

app = FastAPI()
Instrumentator(registry=CollectorRegistry()).instrument(app).expose(app)


@app.get("/health")
async def health() -> dict:
    return {"ok": True}
