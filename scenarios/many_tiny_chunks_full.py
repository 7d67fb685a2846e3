"""100 000 chunks of one byte each: `many-tiny-chunks` at full size.

Slow by nature, not by the harness: a `def` generator pays a threadpool round trip per chunk
(bare FastAPI 0.165 streams these 100 000 chunks from a `def` generator in ~8 s in-process, an
`async def` one in ~1 s), so it is tagged `slow`: `stream-harness run --slow` and `pytest -m slow`
run it, the default runs leave it out (they run the 10 000-chunk `many-tiny-chunks`)."""

from harness import scenario

COUNT = 100_000


def tiny():
    for i in range(COUNT):
        yield b"0123456789"[i % 10: i % 10 + 1]


many_tiny_chunks_full = scenario(
    "many-tiny-chunks-full",
    description=f"{COUNT:,} chunks of 1 byte.",
    chunks=tiny,
    media_type="application/octet-stream",
    variants=["annotation=none", "response=plain", "loop=for"],
    tags=["slow"],
    engines=["asgi"],
    checks=["chunk-order", "no-json-coercion", "incremental-delivery", "closure-on-completion",
            "sync-async-parity"],
    deadline_s=120,
)
