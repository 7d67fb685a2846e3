"""Time to first byte for a slow producer (20 chunks, 1 ms each), in-process and over uvicorn.

Only request start -> first body byte is timed (pytest-benchmark's pedantic teardown drains the rest);
a framework that buffered would show the whole 20 ms here. In-process the app runs on a loop in its
own thread, as in a server (``drive.FirstByte``); over uvicorn the connection is made before the clock.
"""

from __future__ import annotations

import pytest

from harness.bench.apps import build_app, core_keys
from harness.bench.client import Exchange
from harness.bench.drive import FirstByte
from harness.bench.results import describe
from harness.bench.serve import bench_path
from harness.bench.sources import SlowChunks

SOURCE = SlowChunks()
ROUNDS = 40


@pytest.fixture(scope="module")
def first_byte():
    driver = FirstByte()
    yield driver
    driver.close()


@pytest.mark.parametrize("key", core_keys())
def test_ttfb_asgi(benchmark, inproc, first_byte, key):
    app = build_app(key, SOURCE)
    inproc.request(app).expect(key, SOURCE.total_bytes, SOURCE.chunks)
    describe(benchmark, "ttfb", "asgi", key, SOURCE.total_bytes, SOURCE.chunks, producer_delay_s=SOURCE.delay_s)
    results = []

    def teardown(started):
        got, future = started.pop()
        first_byte.finish(future)
        results.append(got)

    benchmark.pedantic(lambda started: started.append(first_byte.first_byte(app)), setup=lambda: (([],), {}),
                       teardown=teardown, rounds=ROUNDS, warmup_rounds=2)
    for got in results:
        got.expect(key, SOURCE.total_bytes, SOURCE.chunks)


@pytest.mark.parametrize("key", core_keys())
def test_ttfb_uvicorn(benchmark, uvicorn_port, key):
    path = bench_path("ttfb", key)
    describe(benchmark, "ttfb", "uvicorn", key, SOURCE.total_bytes, SOURCE.chunks, producer_delay_s=SOURCE.delay_s)
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
    for got in results:
        got.expect(key, SOURCE.total_bytes, SOURCE.chunks)
