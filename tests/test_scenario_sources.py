"""The chunk sources a scenario can declare (list, in-memory file, real file on disk, generator,
slow producer), the per-scenario limits (variants, engines) and the scenario's own expectations."""

from __future__ import annotations

import os

import pytest

from harness import expect, scenario
from harness.checks import get_checks
from harness.engines import get_engine
from harness.errors import ScenarioError, UsageError
from harness.options import Selection
from harness.outcomes import Outcome, Result
from harness.runner import Case, Runner
from harness.scenarios import load_scenarios

from .helpers import SCENARIOS, judge, variant


def _judge(sc, vid: str, checks: list[str], engine: str = "asgi") -> dict[str, Result]:
    with Runner(get_engine(engine), get_checks(checks)) as runner:
        return {r.check: r for r in runner.judge(Case(sc, variant(vid)))}


def _counted_factory(log: list[str]):
    def produce():
        log.append("opened")
        try:
            for i in range(6):
                yield f"part {i}\n".encode()
        finally:
            log.append("closed")
    return produce


@pytest.mark.needs_feature
@pytest.mark.parametrize("vid", ["async-noann-bytes-for-plain", "def-ann-bytes-yieldfrom-subclass"])
def test_a_generator_source_is_produced_on_the_fly_and_closed_with_the_resource(vid):
    log: list[str] = []
    sc = scenario("on-the-fly", chunks=_counted_factory(log), source="generator")
    log.clear()  # the declaration opened it twice to prove it can be opened again
    results = _judge(sc, vid, ["chunk-order", "closure-on-completion", "closure-on-disconnect"])
    assert {r.outcome for c, r in results.items() if c != "closure-on-disconnect"} == {Outcome.PASS}, results
    # one open per request (normal + both disconnect styles), and every one of them closed again
    assert log.count("opened") == log.count("closed") >= 2, log


def test_a_factory_yielding_a_wrong_type_later_is_named_when_materialised():
    def sneaky():
        yield from [b"ok"] * 10
        yield 42
    sc = scenario("sneaky", chunks=sneaky)
    with pytest.raises(ScenarioError, match=r"test_scenario_sources.py:\d+: scenario field 'chunks'.*type int"):
        sc.chunks


@pytest.mark.needs_feature
def test_a_file_source_is_a_real_file_written_once_and_read_through_its_descriptor(tmp_path, monkeypatch):
    from harness import payload_files

    monkeypatch.setenv("STREAM_HARNESS_CACHE", str(tmp_path))
    monkeypatch.setattr(payload_files, "_made", {})
    sc = scenario("disk", chunks=lambda: (bytes([i]) * 1000 for i in range(5)), source="file")
    path, block = payload_files.payload_file(sc)
    assert path.parent == tmp_path and block == 1000 and path.read_bytes() == b"".join(sc.chunks)
    stamp = path.stat().st_mtime_ns
    monkeypatch.setattr(payload_files, "_made", {})
    assert payload_files.payload_file(sc)[0] == path and path.stat().st_mtime_ns == stamp  # reused, not rewritten
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left behind
    fds_before = set(os.listdir("/proc/self/fd"))
    results = _judge(sc, "def-noann-bytes-for-plain", ["chunk-order", "closure-on-completion"])
    assert {r.outcome for r in results.values()} == {Outcome.PASS}, results
    assert "file(fd" in results["closure-on-completion"].detail
    assert set(os.listdir("/proc/self/fd")) <= fds_before | {"3"}  # the descriptor is really gone


def test_a_file_source_needs_equal_blocks(tmp_path):
    sc = scenario("uneven", chunks=lambda: iter([b"aa"] * 9 + [b"a", b"aa"]), source="file")  # past the probed 8
    from harness.payload_files import payload_file
    with pytest.raises(ScenarioError, match="blocks of one size"):
        payload_file(sc)


@pytest.mark.needs_feature
def test_scenario_limits_make_the_rest_not_applicable_with_a_reason():
    sc = scenario("limited", chunks=[b"a", b"b", b"c"], variants=["function=def", "response=plain"],
                  engines=["uvicorn"])
    out = _judge(sc, "async-noann-bytes-for-plain", ["chunk-order"])["chunk-order"]
    assert out.outcome is Outcome.NA and "runs only the variants function=def response=plain" in out.detail
    out = _judge(sc, "def-noann-bytes-for-plain", ["chunk-order"])["chunk-order"]
    assert out.outcome is Outcome.NA and "runs on uvicorn only" in out.detail


def test_unknown_names_in_a_scenario_are_usage_errors_naming_its_line(tmp_path):
    from harness.session import open_session

    (tmp_path / "bad_engine.py").write_text("from harness import scenario\n\n"
                                            "x = scenario('x', chunks=[b'a'], engines=['tomcat'])\n")
    with pytest.raises(UsageError, match=r"bad_engine.py:3: scenario field 'engines': unknown engine 'tomcat'"):
        open_session(Selection(scenarios_dirs=[tmp_path]))
    (tmp_path / "bad_engine.py").unlink()
    (tmp_path / "bad_expect.py").write_text(
        "from harness import expect, scenario\n\n"
        "x = scenario('x', chunks=[b'a'], expect=[expect('chunk-orda', 'fail', reason='typo')])\n")
    with pytest.raises(UsageError, match=r"bad_expect.py:3: scenario field 'expect': unknown check 'chunk-orda'"):
        open_session(Selection(scenarios_dirs=[tmp_path]))


def test_expect_entries_are_validated_where_they_are_written():
    with pytest.raises(ScenarioError, match=r"test_scenario_sources.py:\d+: scenario field 'expect.outcome'"):
        expect("chunk-order", "broken", reason="x")
    with pytest.raises(ScenarioError, match="expect.reason"):
        expect("chunk-order", "fail", reason=" ")


@pytest.mark.needs_feature
def test_a_declared_expectation_rides_on_the_result_and_keeps_the_run_green():
    from tests import mutants

    sc = scenario("expected", chunks=["a\n", "b\n", "c\n"],
                  expect=[expect("chunk-order", "fail", reason="this payload is merged on purpose",
                                 variant="def-*")])
    from harness import expectations as judge

    with Runner(get_engine("asgi"), get_checks(["chunk-order"]), builder=mutants.merges_all_chunks) as runner:
        got = runner.judge(Case(sc, variant("def-noann-str-for-plain"))) + runner.judge(
            Case(sc, variant("async-noann-str-for-plain")))
    mine, other = judge.annotate(got, list(sc.expectations), "0.165.0")  # what the session does
    assert mine.outcome is Outcome.FAIL and judge.classify(mine) is judge.Status.KNOWN
    assert mine.expected == "fail" and mine.expectation["reason"] == "this payload is merged on purpose"
    assert "test_scenario_sources.py:" in mine.expectation["source"]
    assert other.outcome is Outcome.FAIL and judge.classify(other) is judge.Status.UNEXPECTED  # the glob: def only


@pytest.mark.needs_feature
def test_many_tiny_chunks_streams_one_message_per_byte_on_the_async_variant():
    """The default size: one body message per yielded byte (the full size runs under `-m slow`)."""
    result = judge("chunk-order", "many-tiny-chunks", "async-noann-bytes-for-plain")
    assert result.outcome is Outcome.PASS and "10000 chunks" in result.detail


def test_the_shipped_heavy_scenarios_load_lazily():
    loaded = load_scenarios()
    for name in ("large-file", "one-huge-chunk", "many-tiny-chunks", "many-tiny-chunks-full", "generated-media",
                 "token-stream"):
        assert "_chunks" not in vars(loaded.scenarios[name]), name  # nothing materialised by loading
    assert len(SCENARIOS["large-file"].chunks) == 1024 and len(SCENARIOS["large-file"].chunks[0]) == 64 * 1024
