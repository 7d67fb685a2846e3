"""Shared fixtures of the benchmark suites (run by ``tox -e bench``; never by the default ``pytest``).

Every benchmark records what it measured in ``extra_info`` (workload, engine, app key, bytes, chunks),
and the JSON gets the versions it ran with, so ``stream-harness bench-report`` needs nothing else.
"""

from __future__ import annotations

import pytest

from harness.bench.apps import core_keys
from harness.bench.drive import InProcess
from harness.bench.server import UVICORN, BenchServer
from harness.bench.sources import THROUGHPUT_BYTES, write_payload_file
from harness.installed import versions


def pytest_benchmark_update_json(config, benchmarks, output_json):
    """Stamp the run with what it measured: the report groups runs by FastAPI version."""
    output_json["stream_harness"] = {"format_version": 1, "versions": versions()}


@pytest.fixture(scope="module")
def inproc():
    driver = InProcess()
    yield driver
    driver.close()


@pytest.fixture(scope="session")
def payload_file(tmp_path_factory):
    """A real 16 MiB file on disk (ASCII, so its str and bytes forms stream the same bytes)."""
    return write_payload_file(tmp_path_factory.mktemp("bench") / "payload.bin", THROUGHPUT_BYTES)


@pytest.fixture(scope="session")
def uvicorn_port(payload_file):
    missing = UVICORN.missing()
    if missing:
        pytest.skip(missing)
    server = BenchServer(UVICORN, {"file": str(payload_file), "keys": core_keys()}).start()
    try:
        yield server.port
    finally:
        server.stop()
