"""The sibling pages' three items (Stream JSON Lines and Server-Sent Events, tutorial001): every
JSON Lines and SSE variant, and the pages' own routes as reference variants."""

from harness import scenario

items = scenario(
    "items",
    items=[
        {"name": "Plumbus", "description": "A multi-purpose household device."},
        {"name": "Portal Gun", "description": "A portal opening device."},
        {"name": "Meeseeks Box", "description": "A box that summons a Meeseeks."},
    ],
    page_sample="items",
    description="the pages' Item list, as JSON Lines and as Server-Sent Events",
)
