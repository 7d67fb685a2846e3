"""The runner: lock-step between producer and client, cut requests, and an engine that breaks."""

from __future__ import annotations

import pytest

from harness.checks import get_checks
from harness.engines.asgi import AsgiEngine
from harness.outcomes import Outcome
from harness.runner import Case, Runner
from harness.scenarios import scenario

from . import mutants
from .helpers import judge, variant

pytestmark = pytest.mark.needs_feature


@pytest.mark.parametrize("vid", ["def-ann-str-for-plain", "async-noann-str-for-plain"])
def test_a_one_chunk_read_ahead_is_caught_even_between_empty_chunks(vid):
    result = judge("incremental-delivery", "empty-chunks", vid, mutants.reads_one_ahead)
    assert result.outcome is Outcome.FAIL, result.detail
    assert judge("incremental-delivery", "empty-chunks", vid).outcome is Outcome.PASS


@pytest.mark.parametrize("chunks", [[b"only"], [b"one", b"two"]])
def test_payloads_too_short_to_cut_are_na_not_fail(chunks):
    short = scenario("short", chunks=chunks)
    checks = get_checks(["closure-on-error", "closure-on-disconnect", "generator-stops-on-disconnect"])
    with Runner(AsgiEngine(), checks) as runner:
        results = runner.judge(Case(short, variant("def-ann-bytes-for-plain")))
    outcomes = {r.check: r.outcome for r in results}
    assert outcomes["closure-on-error"] is Outcome.NA
    if len(chunks) < 2:
        assert outcomes["closure-on-disconnect"] is Outcome.NA


def test_an_engine_that_breaks_gives_error_results_and_the_run_goes_on():
    class Broken(AsgiEngine):
        def perform(self, route, recorder, deadline_s, mode=None):
            raise BrokenPipeError("the server's side channel went away")

    with Runner(Broken(), get_checks(["chunk-order", "annotation-neutral"])) as runner:
        results = runner.run([Case(scenario("two", chunks=[b"a", b"b"]), variant("def-ann-bytes-for-plain"))])
    assert {r.outcome for r in results} == {Outcome.ERROR}
    assert all("BrokenPipeError" in r.detail for r in results)


def test_a_server_stopping_batch_takes_every_planned_cases_twins_at_once():
    """cancellable's shutdown twin (``~never-awaits-until-stopped``) of each planned case joins the one
    batch: a server is started and stopped once for all of them, not once per case."""
    from harness.modes import DISCONNECT_STYLES, Kind, modes_for

    batches: list[tuple[str, list[str]]] = []

    class Stopping(AsgiEngine):  # performs the shutdown kind in batches, as a server engine does
        batched_kinds = frozenset({Kind.SHUTDOWN})

        def modes(self, kind):
            return modes_for(kind, DISCONNECT_STYLES, servers=True)

        def perform_batch(self, items, deadline_s, mode):
            if mode.kind is not Kind.SHUTDOWN:
                return super().perform_batch(items, deadline_s, mode)
            batches.append((mode.kind.value, [route.variant for route, _ in items]))
            return [recorder.freeze(self.name, route.path, mode=mode.key) for route, recorder in items]

    from .helpers import SCENARIOS

    vids = [f"async-ann-bytes-for-{r}{d}" for r in ("plain", "subclass") for d in ("", "-router", "-nested")]
    with Runner(Stopping(), get_checks(["cancellable"])) as runner:
        results = runner.run([Case(SCENARIOS["long-stream"], variant(v)) for v in vids])
    assert len(batches) == 1, batches
    twins = [v for v in batches[0][1] if v.endswith("~never-awaits-until-stopped")]
    assert sorted(twins) == sorted(f"{v}~never-awaits-until-stopped" for v in vids)
    assert all(r.outcome is Outcome.FAIL and "[shutdown]" in r.detail for r in results), results


def test_a_server_stopping_batch_among_checks_that_compare_nothing():
    """Every selected check is asked for its twins when a batch stops its server; one with no twins
    (``chunk-order``, ``closure-on-shutdown``) has none to add, and the run goes on."""
    from harness.modes import DISCONNECT_STYLES, Kind, modes_for

    kinds: list[Kind] = []

    class Stopping(AsgiEngine):
        batched_kinds = frozenset({Kind.SHUTDOWN})

        def modes(self, kind):
            return modes_for(kind, DISCONNECT_STYLES, servers=True)

        def perform_batch(self, items, deadline_s, mode):
            kinds.append(mode.kind)
            if mode.kind is not Kind.SHUTDOWN:
                return super().perform_batch(items, deadline_s, mode)
            return [recorder.freeze(self.name, route.path, mode=mode.key) for route, recorder in items]

    from .helpers import SCENARIOS

    checks = get_checks(["chunk-order", "closure-on-shutdown", "cancellable"])
    with Runner(Stopping(), checks) as runner:
        results = runner.run([Case(SCENARIOS["long-stream"], variant("async-ann-bytes-for-plain"))])
    assert kinds.count(Kind.SHUTDOWN) == 1, kinds
    assert {r.check for r in results} == {"chunk-order", "closure-on-shutdown", "cancellable"}
    assert next(r for r in results if r.check == "chunk-order").outcome is Outcome.PASS


def test_a_case_a_process_wide_measurement_reads_is_never_batched():
    """bounded-memory reads the server's peak resident memory during one request (``alone=True``):
    on an engine that batches normal requests, large-file's cases are each performed by themselves,
    and the other checks' cases of a scenario go in one batch."""
    from harness.modes import Kind

    batches: list[list[str]] = []

    class Batching(AsgiEngine):
        batched_kinds = frozenset({Kind.NORMAL})

        def perform_batch(self, items, deadline_s, mode):
            batches.append([route.scenario for route, _ in items])
            return super().perform_batch(items, deadline_s, mode)

    from .helpers import SCENARIOS

    vids = ["def-noann-bytes-for-plain", "async-noann-bytes-for-plain"]  # large-file runs these
    cases = [Case(SCENARIOS[s], variant(v)) for s in ("large-file", "png") for v in vids]
    with Runner(Batching(), get_checks(["bounded-memory", "chunk-order"])) as runner:
        results = runner.run(cases)
    assert batches == [["png", "png"]], batches
    outcomes = {(r.scenario, r.check): r.outcome for r in results}
    assert outcomes[("large-file", "chunk-order")] is outcomes[("png", "chunk-order")] is Outcome.PASS
    assert outcomes[("large-file", "bounded-memory")] is Outcome.NA  # in-process: the harness holds the bytes


def test_a_finished_scenarios_recorders_are_let_go_of_though_fastapi_keeps_its_endpoints(monkeypatch):
    """FastAPI keeps the endpoints it classified alive (lru caches), and an endpoint's namespace holds
    its route's source: once a scenario is done, nothing the runner made for its requests (recorder,
    lock-step gate, events) may stay reachable through it, or a run holds every request to its end."""
    import gc
    import weakref

    made: list[tuple[str, weakref.ref]] = []
    build = Runner._build

    def recording(self, sc, v, mode, recorder):
        made.append((sc.name, weakref.ref(recorder)))
        return build(self, sc, v, mode, recorder)

    monkeypatch.setattr(Runner, "_build", recording)
    alive_when_second_done: list[str] = []

    def progress(case, n, total, got):
        if case.scenario.name == "second":
            gc.collect()
            alive_when_second_done.extend(name for name, ref in made if ref() is not None)

    first, second = scenario("first", chunks=[b"a", b"b", b"c"]), scenario("second", chunks=[b"d", b"e", b"f"])
    with Runner(AsgiEngine(), get_checks(["chunk-order", "closure-on-disconnect"])) as runner:
        results = runner.run([Case(first, variant("def-ann-bytes-for-plain")),
                              Case(second, variant("async-ann-bytes-for-plain"))], progress=progress)
    assert results and not any(r.outcome is Outcome.ERROR for r in results), results
    assert [n for n, _ in made].count("first") >= 2  # its normal and its cut request
    assert "first" not in alive_when_second_done
    assert "second" in alive_when_second_done  # still its scenario: kept, as twins may read it


def test_a_route_asking_for_its_source_after_its_scenario_ended_is_told_so():
    from harness.probes import LockStep
    from harness.runner import _Source
    from harness.trace import Recorder

    recorder = Recorder()
    source = _Source(scenario("gone", chunks=[b"a"]), recorder, LockStep(recorder, 0.0))
    source.release()
    with pytest.raises(RuntimeError, match="scenario has ended"):
        source("bytes")
