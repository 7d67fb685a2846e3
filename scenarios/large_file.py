"""A 64 MiB binary file on disk, streamed in 64 KiB blocks (the page's "large binary files"
use case). The route opens a real file and reads it through its own descriptor; closure is
decided on that descriptor (closed for the operating system), not on a Python object's flag.

Heavy, so it runs the variants that differ in how the file is read (async/def, for/yield from)
with a plain StreamingResponse and no annotation: the annotation and response axes are the same
code path for every payload and are covered by the lighter scenarios."""

import random

from harness import scenario

BLOCK = 64 * 1024
BLOCKS = 1024  # 64 MiB


def blocks():
    """Incompressible, numbered blocks: a block sent twice, dropped or reordered shows at its index."""
    rng = random.Random(64)
    for i in range(BLOCKS):
        yield i.to_bytes(4, "big") + rng.randbytes(BLOCK - 4)


large_file = scenario(
    "large-file",
    description="64 MiB on disk read in 64 KiB blocks through a real file descriptor.",
    chunks=blocks,
    source="file",
    media_type="application/octet-stream",
    variants=["annotation=none", "response=plain"],
    checks=["chunk-order", "no-json-coercion", "incremental-delivery", "closure-on-completion",
            "closure-on-disconnect", "generator-stops-on-disconnect", "closure-on-error",
            "closure-on-shutdown", "framing", "bounded-memory", "sync-async-parity", "yield-from-parity"],
    deadline_s=60,
)
