"""OpenTelemetry's FastAPI instrumentation: ``FastAPIInstrumentor.instrument_app`` replaces the app's
``build_middleware_stack``, so its ``OpenTelemetryMiddleware`` (pure ASGI) is in the stack as built
although ``app.user_middleware`` never lists it. Spans go to an in-memory exporter. Check it with::

    stream-harness run --app examples.apps.with_opentelemetry:app
"""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))

app = FastAPI()
FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)


@app.get("/health")
async def health() -> dict:
    return {"ok": True}
