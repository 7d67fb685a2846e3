"""Bounded memory: 256 MiB from a real file through the `def` variant grows the process by < 32 MiB.

A memory bound, not a timing: it is asserted. The negative control (the same variant over a source
that reads the whole file into one chunk) must grow by at least 200 MiB, or the probe cannot see
buffering and the bound would prove nothing.
"""

from __future__ import annotations

import pytest

from harness.bench.peak_memory import measure
from harness.bench.results import describe
from harness.bench.sources import FILE_CHUNK, write_payload_file

SIZE = 256 * 1024 * 1024
BOUND_MIB = 32
CONTROL_MIN_MIB = 200
VARIANT = "def-noann-bytes-for-plain"


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    return write_payload_file(tmp_path_factory.mktemp("memory") / "256mib.bin", SIZE)


def test_def_variant_memory_is_bounded(benchmark, big_file):
    growth = benchmark.pedantic(measure, args=(VARIANT, big_file), rounds=1)
    describe(benchmark, "memory", "asgi", VARIANT, SIZE, SIZE // FILE_CHUNK,
             peak_growth_mib=round(growth.growth_mib, 2), bound_mib=BOUND_MIB)
    assert growth.streamed_bytes == SIZE
    assert growth.growth_mib < BOUND_MIB, f"{VARIANT} grew the process by {growth.growth_mib:.1f} MiB"


def test_memory_probe_sees_buffering(big_file):
    control = measure(VARIANT, big_file, "whole")
    assert control.streamed_bytes == SIZE
    assert control.growth_mib >= CONTROL_MIN_MIB, (
        f"the buffering control grew only {control.growth_mib:.1f} MiB: the probe cannot see memory")
