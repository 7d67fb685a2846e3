"""100 000 chunks of one byte each: every yield must still be one body message.

Slow by nature, not by the harness: a `def` generator pays a threadpool round trip per chunk
(bare FastAPI 0.165 streams these 100 000 chunks from a `def` generator in ~12 s in-process, an
`async def` one in ~1 s), so it runs one `async` and one `def` variant, in-process only (over a
socket every chunk would also be a lock-step round trip), and is tagged `slow`: the CLI runs it,
the default `pytest` run leaves it out (`pytest -m slow` runs it)."""

from harness import scenario

COUNT = 100_000


def tiny():
    for i in range(COUNT):
        yield b"0123456789"[i % 10: i % 10 + 1]


many_tiny_chunks = scenario(
    "many-tiny-chunks",
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
