"""Per-chunk overhead: 1000 chunks of 16 bytes from memory, every variant, in-process."""

from __future__ import annotations

import pytest

from harness.bench.apps import all_keys, build_app
from harness.bench.results import describe
from harness.bench.sources import MemoryChunks

SOURCE = MemoryChunks()


@pytest.mark.parametrize("key", all_keys())
def test_chunk_overhead(benchmark, inproc, key):
    app = build_app(key, SOURCE)
    reference = inproc.request(build_app("raw", SOURCE), checked=True)
    inproc.request(app, checked=True).expect(key, SOURCE.total_bytes, SOURCE.chunks, reference.crc)
    describe(benchmark, "chunk-overhead", "asgi", key, SOURCE.total_bytes, SOURCE.chunks)
    got = benchmark(inproc.request, app)
    got.expect(key, SOURCE.total_bytes, SOURCE.chunks)
