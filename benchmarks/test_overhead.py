"""Per-chunk overhead: 1000 chunks of 16 bytes from memory, every variant, in-process."""

from __future__ import annotations

import pytest

from harness.bench.apps import all_keys
from harness.bench.drive import bench_in_process
from harness.bench.sources import MemoryChunks

SOURCE = MemoryChunks()


@pytest.mark.parametrize("key", all_keys())
def test_chunk_overhead(benchmark, inproc, key):
    bench_in_process(benchmark, inproc, "chunk-overhead", key, SOURCE)
