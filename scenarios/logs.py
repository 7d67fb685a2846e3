"""The SSE page's log lines sent as ``raw_data`` (tutorial003)."""

from harness import scenario

logs = scenario(
    "logs",
    items=[
        "2025-01-01 INFO  Application started",
        "2025-01-01 DEBUG Connected to database",
        "2025-01-01 WARN  High memory usage detected",
    ],
    forms=["sse"],
    page_sample="logs",
    variants=["page:*"],
    description="the SSE page's raw_data sample",
)
