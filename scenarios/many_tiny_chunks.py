"""10 000 chunks of one byte each: every yield must still be one body message.

The default size: enough chunks that a framework merging or dropping small messages shows, at a
price the default run can pay (a `def` generator pays a threadpool round trip per chunk, about
0.1 ms in-process). `many-tiny-chunks-full` streams 100 000 under `--slow` (`pytest -m slow`).
In-process only: over a socket every chunk would also be a lock-step round trip."""

from harness import scenario

COUNT = 10_000


def tiny():
    for i in range(COUNT):
        yield b"0123456789"[i % 10: i % 10 + 1]


many_tiny_chunks = scenario(
    "many-tiny-chunks",
    description=f"{COUNT:,} chunks of 1 byte.",
    chunks=tiny,
    media_type="application/octet-stream",
    variants=["annotation=none", "response=plain", "loop=for"],
    engines=["asgi"],
    checks=["chunk-order", "no-json-coercion", "incremental-delivery", "closure-on-completion",
            "sync-async-parity"],
    deadline_s=60,
)
