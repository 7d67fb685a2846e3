"""An item the page's ``Item`` rejects (its name is None) after two good ones: a declared model
validates each item as it is produced, so what does the client see mid-stream?"""

from harness import scenario

invalid_item = scenario(
    "invalid-item",
    items=[
        {"name": "Plumbus", "description": "valid"},
        {"name": "Portal Gun", "description": "valid"},
        {"name": None, "description": "invalid: the model's name is a str"},
        {"name": "Meeseeks Box", "description": "never sent when validated"},
    ],
    tags=["invalid-item"],
    checks=["item-validation"],
    description="a third item that fails the declared model's validation",
)
