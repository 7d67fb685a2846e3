"""``--engine all`` runs the server engines at once (issue 14): each serves from processes of its own,
so the results must be exactly those of a run one engine after another, in the same order."""

from __future__ import annotations

import threading
import time

import pytest

from harness.engines import engine_unavailable
from harness.engines.quiet import Quiet
from harness.options import GateOptions, Selection
from harness.session import open_session

ENGINES = ["asgi", "uvicorn", "hypercorn"]


def _run(jobs: int) -> tuple[list, dict]:
    selection = Selection(scenarios=["png", "long-stream"], checks=["chunk-order", "framing", "incremental-delivery",
                                                                    "closure-on-disconnect"],
                          variants=["annotation=none", "loop=for", "response=plain"], engines=ENGINES,
                          include_page=False)
    session = open_session(selection, GateOptions(no_expectations=True))
    session.engine_jobs = jobs
    results, times = session.run()
    return [(r.engine, r.app, r.scenario, r.variant, r.check, r.outcome) for r in results], times


def test_server_engines_at_once_give_the_results_of_one_after_another_in_the_same_order():
    missing = [e for e in ENGINES if engine_unavailable(e)]
    if missing:
        pytest.skip(f"engines not installed here: {', '.join(missing)}")
    sequential, _ = _run(jobs=1)
    concurrent, times = _run(jobs=2)
    assert concurrent == sequential
    assert [e for e, *_ in concurrent] == sorted((e for e, *_ in concurrent), key=ENGINES.index)
    assert set(times) == set(ENGINES)


def test_a_measurement_runs_alone_and_goes_before_requests_that_came_after_it():
    """``Quiet``: a loop-latency measurement waits for the requests in flight on other engines, and
    requests arriving while it waits queue behind it (lock-step by the lock's own state, no sleeps)."""
    quiet, order = Quiet(), []
    held, release_first = threading.Event(), threading.Event()

    def first_request() -> None:
        with quiet.shared():
            order.append("request in flight")
            held.set()
            release_first.wait(10)
        order.append("request done")

    def measurement() -> None:
        with quiet.alone():
            order.append("measurement")

    def later_request() -> None:
        with quiet.shared():
            order.append("later request")

    threads = [threading.Thread(target=first_request)]
    threads[0].start()
    assert held.wait(10)
    threads.append(threading.Thread(target=measurement))
    threads[1].start()
    _until(lambda: quiet._queued == 1)
    threads.append(threading.Thread(target=later_request))
    threads[2].start()
    _until(lambda: threads[2].is_alive() and quiet._queued == 1 and quiet._sharing == 1)
    assert order == ["request in flight"]  # neither the measurement nor the later request got in
    release_first.set()
    for t in threads:
        t.join(10)
    assert order == ["request in flight", "request done", "measurement", "later request"]


def _until(condition, deadline_s: float = 10.0) -> None:
    end = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < end, "the threads never reached the expected state"
        time.sleep(0.001)


def test_a_case_that_measures_lends_its_share_and_waits_for_the_other_engines_cases():
    """A lane judging a case holds a share; when that case measures (``alone``) it lends its share back,
    waits for the other lane's case to end, and holds its share again afterwards."""
    quiet, order = Quiet(), []
    other_in, other_release = threading.Event(), threading.Event()

    def other_case() -> None:
        with quiet.shared():
            other_in.set()
            other_release.wait(10)
            order.append("other case done")

    def measuring_case() -> None:
        with quiet.shared():
            with quiet.shared():  # re-entrant: a request inside the case
                pass
            with quiet.alone():
                order.append("measurement")
            order.append(f"case goes on holding {quiet._held()}")

    first = threading.Thread(target=other_case)
    first.start()
    assert other_in.wait(10)
    second = threading.Thread(target=measuring_case)
    second.start()
    _until(lambda: quiet._queued == 1 and quiet._sharing == 1)  # lent back, waiting for the other case
    assert order == []
    other_release.set()
    first.join(10)
    second.join(10)
    assert order == ["other case done", "measurement", "case goes on holding 1"]
    assert quiet._sharing == 0


def test_a_batch_lends_its_cases_share_so_a_measurement_waits_only_for_requests_in_flight():
    """A case performing a batch (hundreds of requests) lends its case's share back and each request
    takes one: a measurement queued meanwhile runs after the request in flight, before the batch's
    next request, not after the whole batch."""
    quiet, order = Quiet(), []
    in_flight, release = threading.Event(), threading.Event()

    def batch_case() -> None:
        with quiet.shared():
            with quiet.lent():
                for n in (1, 2):
                    with quiet.shared():
                        order.append(f"request {n}")
                        if n == 1:
                            in_flight.set()
                            release.wait(10)
            order.append(f"batch done, case holds {quiet._held()} again")
        order.append(f"case done, holds {quiet._held()}")

    def measurement() -> None:
        with quiet.alone():
            order.append("measurement")

    batch = threading.Thread(target=batch_case)
    batch.start()
    assert in_flight.wait(10)
    measuring = threading.Thread(target=measurement)
    measuring.start()
    _until(lambda: quiet._queued == 1 and quiet._sharing == 1)  # only the request in flight holds one
    release.set()
    batch.join(10)
    measuring.join(10)
    assert order == ["request 1", "measurement", "request 2", "batch done, case holds 1 again",
                     "case done, holds 0"]
    assert quiet._sharing == 0


def test_the_longest_engines_start_first_and_their_results_come_back_in_the_engines_order():
    """Engines at once start by :attr:`Engine.effort`, longest first, so that the one left running
    alone at the end is a short one; the results keep the order of the engines asked for."""
    from harness.engines import engine_effort

    session = open_session(Selection(scenarios=["png"], engines=["asgi"], include_page=False),
                           GateOptions(no_expectations=True))
    session.engines, session.engine_jobs = ["asgi", "uvicorn", "daphne"], 2
    assert engine_effort("daphne") > engine_effort("uvicorn") > engine_effort("asgi")
    started: list[str] = []
    both_running = threading.Barrier(2, timeout=10)

    def one_engine(name: str) -> list[str]:
        started.append(name)
        if name != "asgi":  # the two longest hold both workers until both have started
            both_running.wait()
        return [name]

    by_engine = session._run_engines(one_engine)
    assert sorted(started[:2]) == ["daphne", "uvicorn"] and started[2] == "asgi"
    assert list(by_engine) == ["asgi", "uvicorn", "daphne"]
    assert by_engine == {"asgi": ["asgi"], "uvicorn": ["uvicorn"], "daphne": ["daphne"]}
