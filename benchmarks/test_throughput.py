"""Throughput: a real 16 MiB file read in 64 KiB chunks, in-process and over uvicorn (MB/s in the report)."""

from __future__ import annotations

import pytest

from harness.bench.apps import build_app, core_keys
from harness.bench.client import fetch
from harness.bench.results import describe
from harness.bench.serve import bench_path
from harness.bench.sources import FileChunks


@pytest.mark.parametrize("key", core_keys())
def test_throughput_asgi(benchmark, inproc, payload_file, key):
    source = FileChunks(str(payload_file))
    app = build_app(key, source)
    reference = inproc.request(build_app("raw", source), checked=True)
    inproc.request(app, checked=True).expect(key, source.total_bytes, source.chunks, reference.crc)
    describe(benchmark, "throughput", "asgi", key, source.total_bytes, source.chunks)
    benchmark(inproc.request, app).expect(key, source.total_bytes, source.chunks)


@pytest.mark.parametrize("key", core_keys())
def test_throughput_uvicorn(benchmark, uvicorn_port, payload_file, key):
    source = FileChunks(str(payload_file))
    path = bench_path("throughput", key)
    reference = fetch(uvicorn_port, bench_path("throughput", "raw"), checked=True)
    fetch(uvicorn_port, path, checked=True).expect(key, source.total_bytes, source.chunks, reference.crc)
    describe(benchmark, "throughput", "uvicorn", key, source.total_bytes, source.chunks)
    benchmark(fetch, uvicorn_port, path).expect(key, source.total_bytes, source.chunks)
