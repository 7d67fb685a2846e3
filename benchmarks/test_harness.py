"""The harness itself, on a fixed selection (issue 14): a slower harness is caught by ``bench-check``
like a slower FastAPI.

Workload ``harness`` [asgi]: ``raw`` performs the selection's normal requests alone (a runner with no
check: routes built, requests made, traces recorded), ``run`` is the whole session on the same cases
(every check of the selection, its twins and its own request kinds, confirmation, judging). The ratio
run / raw is what the harness adds over the requests it needs; ``extra_info.cases_per_s`` gives the
plain rate beside it.

Workload ``red-run`` [asgi] (issue 14: a red run no slower than 1.5x a green one): ``raw`` is the
whole session on a fixed selection against stock FastAPI (green), each other key the same session
against one of the repository's mutant frameworks (``tests/mutants.py``: buffering, read-ahead,
dropped and merged chunks), so the ratio is red time / green time measured in the same run.
``bench-check`` flags it past its ceiling (``regress.CEILINGS``) even without a baseline change.
"""

from __future__ import annotations

import time

import pytest

from harness.bench.apps import RAW
from harness.bench.drive import fastest
from harness.bench.results import describe
from harness.engines import get_engine
from harness.options import GateOptions, Selection
from harness.runner import Runner
from harness.outcomes import Outcome
from harness.routes import build_route
from harness.session import open_session
from tests import mutants

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


RED_SELECTION = Selection(scenarios=["story", "png", "long-stream", "utf8-split"], include_page=False)
RED_MUTANTS = ["buffers_then_sends_each", "reads_one_ahead", "drops_last_chunk", "merges_all_chunks"]


def _red_run(builder) -> int:
    """The whole session on RED_SELECTION with ``builder`` building the routes; how many results failed."""
    session = open_session(RED_SELECTION, GateOptions(no_expectations=True))
    session.builder = builder
    results, _ = session.run()
    return sum(r.outcome is Outcome.FAIL for r in results)


def _green_s() -> float:
    t0 = time.perf_counter()
    _red_run(build_route)
    return time.perf_counter() - t0


@pytest.mark.parametrize("key", [RAW] + RED_MUTANTS)
def test_red_run_asgi(benchmark, key):
    builder = build_route if key == RAW else getattr(mutants, key)
    fails = _red_run(builder)
    assert (fails == 0) if key == RAW else (fails > 0), f"{key}: {fails} failed results"  # green is green, red is red
    benchmark.pedantic(_red_run, args=(builder,), rounds=5, warmup_rounds=0)  # the call above warmed it
    cases = len(open_session(RED_SELECTION, GateOptions(no_expectations=True)).cases)
    describe(benchmark, "red-run", "asgi", key, 0, cases, fails=fails,
             raw_min_s=None if key == RAW else fastest(_green_s, rounds=2))
