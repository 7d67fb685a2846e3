"""Per-chunk overhead: 1000 chunks of 16 bytes from memory, every variant, in-process."""

from __future__ import annotations

import pytest

from harness.bench.apps import RAW, all_keys, build_app
from harness.bench.drive import fastest, timed
from harness.bench.results import describe
from harness.bench.sources import MemoryChunks

SOURCE = MemoryChunks()


@pytest.mark.parametrize("key", all_keys())
def test_chunk_overhead(benchmark, inproc, key):
    app, raw = build_app(key, SOURCE), build_app(RAW, SOURCE)
    reference = inproc.request(raw, checked=True)
    inproc.request(app, checked=True).expect(key, SOURCE.total_bytes, SOURCE.chunks, reference.crc)
    before = fastest(lambda: timed(inproc.request, raw))
    got = benchmark(inproc.request, app)
    describe(benchmark, "chunk-overhead", "asgi", key, SOURCE.total_bytes, SOURCE.chunks,
             raw_min_s=min(before, fastest(lambda: timed(inproc.request, raw))))
    got.expect(key, SOURCE.total_bytes, SOURCE.chunks)
