"""A producer whose every read blocks (the page's "files and async" section): 20 ms before each of
10 chunks. A `def` path operation runs it on a threadpool worker, so the event loop stays free;
an `async def` one runs it on the loop itself and blocks it (the anti-pattern the page warns of).
Measured by the latency checks only: every other check already runs on the other scenarios."""

from harness import scenario

blocking_read = scenario(
    "blocking-read",
    description="10 chunks, each read blocking for 20 ms (time.sleep standing for a blocking file read).",
    chunks=[f"block {i:02d}\n".encode() for i in range(10)],
    block_s=0.02,
    media_type="application/octet-stream",
    checks=["loop-not-blocked", "threadpool-saturation"],
    # where the route is declared does not change which thread runs the generator: measured on the app only
    variants=["declaration=app"],
)
