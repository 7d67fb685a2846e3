"""A team's own app (``--app``): load it, mount the variants into it, run its lifespan, decode
what its middleware encodes, and attribute each difference from bare FastAPI."""
