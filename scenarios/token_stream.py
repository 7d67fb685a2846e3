"""LLM-like output: a few hundred short text tokens, produced one at a time with a delay (the
page's first use case). What matters is that each token is sent as soon as it exists: the first
chunk must reach the client while the producer is still producing (`time-to-first-chunk`)."""

from harness import scenario

WORDS = ("The", " stream", "ing", " response", " sends", " each", " token", " as", " soon", " as", " it",
         " is", " ready", ",", " caf\u00e9", " \u2014", " \u6f22\u5b57", " \U0001f680", ".", "\n")
TOKENS = 300


def tokens():
    """The tokens, produced on the fly like a model's output (never a list in the route)."""
    for i in range(TOKENS):
        yield WORDS[i % len(WORDS)]


token_stream = scenario(
    "token-stream",
    description=f"{TOKENS} short str tokens (ASCII, accents, CJK, emoji), 1 ms apart, from a generator.",
    chunks=tokens,
    source="generator",
    block_s=0.001,
    media_type="text/event-stream",
    variants=["annotation=none", "response=plain", "chunk=str"],
    checks=["chunk-order", "no-json-coercion", "incremental-delivery", "time-to-first-chunk",
            "closure-on-completion", "closure-on-disconnect", "generator-stops-on-disconnect"],
    deadline_s=30,
)
