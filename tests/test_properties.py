"""Property-based: any list of str or bytes chunks streams byte for byte and boundary for boundary.

Hypothesis generates chunk lists (str or bytes, 0..64 KiB each, 0..200 of them); each example is
a scenario run through two variants on the in-process engine. A failing example is shrunk and
shown by hypothesis with the check's detail.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from harness.checks import get_checks
from harness.engines import get_engine
from harness.outcomes import Outcome
from harness.runner import Case, Runner
from harness.scenarios import scenario

from .helpers import variant

pytestmark = pytest.mark.needs_feature

_sizes = dict(min_size=0, max_size=200)
chunk_lists = st.one_of(
    st.lists(st.binary(min_size=0, max_size=64 * 1024), **_sizes),
    st.lists(st.text(min_size=0, max_size=2048), **_sizes),  # code points: up to 4 bytes each in UTF-8
)
VARIANTS = ["def-noann-bytes-for-plain", "async-misann-str-for-subclass"]


@pytest.fixture(scope="module")
def runner():
    with Runner(get_engine("asgi"), get_checks(["chunk-order", "no-json-coercion"])) as r:
        yield r


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(chunks=chunk_lists)
def test_any_chunks_arrive_as_yielded(runner, chunks):
    sc = scenario("generated", chunks=chunks)
    for vid in VARIANTS:
        v = variant(vid)
        if sc.na_reason(v):
            continue
        runner._traces.clear()  # every example is a new scenario under the same name
        for result in runner.judge(Case(sc, v)):
            assert result.outcome is Outcome.PASS, f"{vid} {result.check}: {result.detail}"
