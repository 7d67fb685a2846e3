"""64 items: enough left after a cut to tell a producer that stops from one that runs on to the end
(the disconnect checks), for the JSON Lines and SSE forms."""

from harness import scenario

long_items = scenario(
    "long-items",
    items=[{"name": f"item {i}", "description": f"the {i}th of 64"} for i in range(64)],
    variants=["annotation=model"],
    description="64 small items, for the cut checks",
)
