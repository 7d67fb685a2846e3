"""Throughput: a real 16 MiB file read in 64 KiB chunks, in-process and over uvicorn (MB/s in the report)."""

from __future__ import annotations

import pytest

from harness.bench.apps import RAW, core_keys
from harness.bench.client import fetch
from harness.bench.drive import bench_in_process, fastest, timed
from harness.bench.results import describe
from harness.bench.served_app import bench_path
from harness.bench.sources import FileChunks


@pytest.mark.parametrize("key", core_keys())
def test_throughput_asgi(benchmark, inproc, payload_file, key):
    bench_in_process(benchmark, inproc, "throughput", key, FileChunks(str(payload_file)))


@pytest.mark.parametrize("key", core_keys())
def test_throughput_uvicorn(benchmark, uvicorn_port, payload_file, key):
    source = FileChunks(str(payload_file))
    path, raw_path = bench_path("throughput", key), bench_path("throughput", RAW)
    reference = fetch(uvicorn_port, raw_path, checked=True)
    fetch(uvicorn_port, path, checked=True).expect(key, source.total_bytes, source.chunks, reference.crc)
    before = fastest(lambda: timed(fetch, uvicorn_port, raw_path), rounds=8)
    got = benchmark(fetch, uvicorn_port, path)
    describe(benchmark, "throughput", "uvicorn", key, source.total_bytes, source.chunks,
             raw_min_s=min(before, fastest(lambda: timed(fetch, uvicorn_port, raw_path), rounds=8)))
    got.expect(key, source.total_bytes, source.chunks)
