"""Time to first byte for a slow producer (20 chunks, 1 ms each), in-process and over uvicorn.

Only request start -> first body byte is timed (pytest-benchmark's pedantic teardown drains the rest);
a framework that buffered would show the whole 20 ms here. In-process the app runs on a loop in its
own thread, as in a server (``drive.FirstByte``); over uvicorn the connection is made before the clock.
"""

from __future__ import annotations

import time

import pytest

from harness.bench.apps import RAW, build_app, core_keys
from harness.bench.client import Exchange
from harness.bench.drive import FirstByte, fastest
from harness.bench.results import describe
from harness.bench.served_app import bench_path
from harness.bench.sources import SlowChunks

SOURCE = SlowChunks()
ROUNDS = 40


@pytest.fixture(scope="module")
def first_byte():
    driver = FirstByte()
    yield driver
    driver.close()


def _asgi_first_byte(driver: FirstByte, app) -> float:
    t0 = time.perf_counter()
    got, future = driver.first_byte(app)
    elapsed = time.perf_counter() - t0
    driver.finish(future)
    return elapsed


def _uvicorn_first_byte(port: int, path: str) -> float:
    exchange = Exchange(port, path)
    try:
        t0 = time.perf_counter()
        exchange.send().read(until_first_byte=True)
        elapsed = time.perf_counter() - t0
        exchange.read()
    finally:
        exchange.close()
    return elapsed


@pytest.mark.parametrize("key", core_keys())
def test_ttfb_asgi(benchmark, inproc, first_byte, key):
    app, raw = build_app(key, SOURCE), build_app(RAW, SOURCE)
    inproc.request(app).expect(key, SOURCE.total_bytes, SOURCE.chunks)
    before = fastest(lambda: _asgi_first_byte(first_byte, raw), rounds=8)
    results = []

    def teardown(started):
        got, future = started.pop()
        first_byte.finish(future)
        results.append(got)

    benchmark.pedantic(lambda started: started.append(first_byte.first_byte(app)), setup=lambda: (([],), {}),
                       teardown=teardown, rounds=ROUNDS, warmup_rounds=2)
    describe(benchmark, "ttfb", "asgi", key, SOURCE.total_bytes, SOURCE.chunks, producer_delay_s=SOURCE.delay_s,
             raw_min_s=min(before, fastest(lambda: _asgi_first_byte(first_byte, raw), rounds=8)))
    for got in results:
        got.expect(key, SOURCE.total_bytes, SOURCE.chunks)


@pytest.mark.parametrize("key", core_keys())
def test_ttfb_uvicorn(benchmark, uvicorn_port, key):
    path, raw_path = bench_path("ttfb", key), bench_path("ttfb", RAW)
    before = fastest(lambda: _uvicorn_first_byte(uvicorn_port, raw_path), rounds=8)
    results = []

    def setup():  # the connection is made before the clock starts: TTFB is request sent -> first byte
        return (Exchange(uvicorn_port, path),), {}

    def teardown(exchange):
        try:
            results.append(exchange.read())
        finally:
            exchange.close()

    benchmark.pedantic(lambda exchange: exchange.send().read(until_first_byte=True), setup=setup,
                       teardown=teardown, rounds=ROUNDS, warmup_rounds=2)
    describe(benchmark, "ttfb", "uvicorn", key, SOURCE.total_bytes, SOURCE.chunks, producer_delay_s=SOURCE.delay_s,
             raw_min_s=min(before, fastest(lambda: _uvicorn_first_byte(uvicorn_port, raw_path), rounds=8)))
    for got in results:
        got.expect(key, SOURCE.total_bytes, SOURCE.chunks)
