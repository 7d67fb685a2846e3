"""The SSE page's chat over POST (tutorial005): one "token" event per word, then ``[DONE]``."""

from harness import scenario

chat = scenario(
    "chat",
    items="Tell me a story about a plumbus".split(),
    forms=["sse"],
    page_sample="chat",
    variants=["page:*"],
    description="the SSE page's SSE with POST sample",
)
