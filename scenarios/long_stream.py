"""A long text stream: enough chunks left after a cut to tell a generator that stops from one that
runs on to the end (generator-stops-on-disconnect needs more than its bound left)."""

from harness import scenario

long_stream = scenario(
    "long-stream",
    description="64 numbered text lines, one chunk each.",
    chunks=[f"line {i:04d}: the quick brown fox jumps over the lazy dog\n" for i in range(64)],
    media_type="text/plain; charset=utf-8",
)
