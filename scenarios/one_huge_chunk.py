"""One 16 MiB chunk: a single yield must arrive as one body message (one HTTP chunk), whole.
The cut checks do not apply (there is no second chunk to cut before)."""

from harness import scenario

SIZE = 16 * 1024 * 1024


def one_chunk():
    yield (bytes(range(256)) * (SIZE // 256))


one_huge_chunk = scenario(
    "one-huge-chunk",
    description="A single 16 MiB bytes chunk.",
    chunks=one_chunk,
    media_type="application/octet-stream",
    variants=["annotation=none", "response=plain"],
    checks=["chunk-order", "no-json-coercion", "closure-on-completion", "framing", "sync-async-parity",
            "yield-from-parity"],
    deadline_s=60,
)
