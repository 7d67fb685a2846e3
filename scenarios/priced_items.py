"""The SSE page's priced items (tutorial002: ServerSentEvent with a comment, event, id and retry;
tutorial004: resuming after Last-Event-ID)."""

from harness import scenario

priced_items = scenario(
    "priced-items",
    items=[
        {"name": "Plumbus", "price": 32.99},
        {"name": "Portal Gun", "price": 999.99},
        {"name": "Meeseeks Box", "price": 49.99},
    ],
    forms=["sse"],
    page_sample="priced-items",
    variants=["page:*"],
    description="the SSE page's ServerSentEvent and Last-Event-ID samples",
)
