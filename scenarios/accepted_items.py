"""Routes that declare ``status_code=202``: the stream must go out with it (fastapi#15937)."""

from harness import scenario

accepted_items = scenario(
    "accepted-items",
    items=[{"name": "queued", "description": "accepted for processing"}],
    status_code=202,
    checks=["status-code"],
    variants=["jsonl-*-for", "sse-*-data-for-get"],
    description="a declared status_code of 202",
)
