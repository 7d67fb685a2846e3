"""An SSE producer that goes idle after its first item, until the client has received a keep-alive
comment (the SSE page's "Technical Details"). FastAPI pings after 15 s; for this scenario the harness
sets that interval (``fastapi.routing._PING_INTERVAL``) to 0.05 s while its requests run. ``def``
variants only: an ``async def`` producer waiting would hold the very loop that sends the ping (the
ping comes from FastAPI's own task, the same for both)."""

from harness import scenario

idle_items = scenario(
    "idle-items",
    items=[{"name": "before the pause", "description": None}, {"name": "after the ping", "description": None}],
    forms=["sse"],
    tags=["keepalive"],
    variants=["sse-def-*-data-*-get"],
    checks=["sse-keepalive"],
    description="an idle producer: a ': ping' comment must reach the client",
)
