"""The harness itself, on a fixed selection (issue 14): a slower harness is caught by ``bench-check``
like a slower FastAPI.

Workload ``harness`` [asgi]: ``raw`` performs the selection's normal requests alone (a runner with no
check: routes built, requests made, traces recorded), ``run`` is the whole session on the same cases
(every check of the selection, its twins and its own request kinds, confirmation, judging). The ratio
run / raw is what the harness adds over the requests it needs; ``extra_info.cases_per_s`` gives the
plain rate beside it.
"""

from __future__ import annotations

import time

from harness.bench.apps import RAW
from harness.bench.drive import fastest
from harness.bench.results import describe
from harness.engines import get_engine
from harness.options import GateOptions, Selection
from harness.runner import Runner
from harness.session import open_session

SELECTION = Selection(scenarios=["png", "utf8-split", "story"],
                      checks=["chunk-order", "content-type", "framing", "no-json-coercion", "incremental-delivery",
                              "annotation-neutral", "closure-on-completion", "status-code"], include_page=False)


def _session():
    return open_session(SELECTION, GateOptions(no_expectations=True))


def _requests_only() -> float:
    session = _session()
    t0 = time.perf_counter()
    with Runner(get_engine("asgi"), [], plan=session.cases) as runner:
        for case in session.cases:
            runner.trace(case.scenario, case.variant)
    return time.perf_counter() - t0


def test_harness_asgi_raw(benchmark):
    cases = len(_session().cases)
    benchmark.pedantic(_requests_only, rounds=5, warmup_rounds=1)
    describe(benchmark, "harness", "asgi", RAW, 0, cases, raw_min_s=fastest(_requests_only, rounds=3))


def test_harness_asgi_run(benchmark):
    cases = len(_session().cases)

    def run() -> None:
        results, _ = _session().run()
        assert results

    benchmark.pedantic(run, rounds=5, warmup_rounds=1)
    describe(benchmark, "harness", "asgi", "run", 0, cases, raw_min_s=fastest(_requests_only, rounds=3),
             cases_per_s=round(cases / benchmark.stats.stats.min, 1))
