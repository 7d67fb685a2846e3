"""Every check is proven: a mutant app it reports as ``fail`` beside the correct app it passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.checks import registry
from harness.outcomes import Outcome
from harness.routes import build_route

from . import mutants
from .helpers import judge

# (check, scenario, variant, mutant, words the detail must contain)
CAUGHT = [
    ("chunk-order", "story", "async-ann-str-for-plain", mutants.merges_all_chunks, "bytes are equal"),
    ("chunk-order", "png", "def-ann-bytes-yieldfrom-subclass", mutants.reorders_chunks, "first difference at chunk 0"),
    ("chunk-order", "adversarial-text", "def-noann-str-for-plain", mutants.drops_last_chunk, "first difference at chunk 9"),
    ("chunk-order", "binary-lines", "async-ann-bytes-for-plain", mutants.no_final_message, "more_body false"),
    ("chunk-order", "story", "def-noann-bytes-for-subclass", mutants.sends_after_final, "in state 'ended'"),
    ("chunk-order", "story", "def-ann-str-for-plain", mutants.hangs, "deadline"),
    ("chunk-order", "story", "def-ann-str-for-plain", mutants.raises_midway, "producer broke"),
    ("content-type", "story", "async-noann-str-for-plain", mutants.plain_sends_json_type, "application/json"),
    ("content-type", "png", "def-ann-bytes-for-subclass", mutants.subclass_sends_other_type, "application/json"),
    ("content-type", "story", "async-misann-bytes-for-subclass", mutants.subclass_sends_other_type,
     "application/json"),
    ("no-json-coercion", "adversarial-text", "async-ann-str-for-plain", mutants.json_encodes_chunks,
     "each chunk JSON-encoded"),
    ("no-json-coercion", "binary-lines", "def-ann-bytes-for-plain", mutants.json_encodes_chunks, "offset 0"),
    ("no-json-coercion", "adversarial-text", "def-misann-bytes-yieldfrom-subclass", mutants.reencodes_latin1,
     "re-encoded from latin-1 to UTF-8"),
    ("incremental-delivery", "story", "async-ann-str-for-plain", mutants.buffers_then_sends_each, "event loop"),
    ("incremental-delivery", "png", "def-ann-bytes-for-subclass", mutants.buffers_then_sends_each, "worker thread"),
    ("incremental-delivery", "png", "def-noann-bytes-yieldfrom-subclass", mutants.merges_all_chunks, "buffered"),
    ("closure-on-completion", "png", "def-ann-bytes-for-subclass", mutants.never_closes, "still open"),
    ("closure-on-completion", "story", "async-noann-str-for-plain", mutants.never_closes, "still open"),
    ("closure-on-completion", "large-file", "def-noann-bytes-for-plain", mutants.closes_file_object_only,
     "descriptor"),
    ("closure-on-completion", "large-file", "async-noann-bytes-for-plain", mutants.closes_file_object_only,
     "descriptor"),
    ("time-to-first-chunk", "token-stream", "async-noann-str-for-plain", mutants.buffers_then_sends_each,
     "buffered whole"),
    ("time-to-first-chunk", "token-stream", "def-noann-str-yieldfrom-plain", mutants.buffers_then_sends_each,
     "buffered whole"),
    ("annotation-neutral", "adversarial-text", "async-ann-str-for-plain", mutants.annotation_changes_body, "twin"),
    ("annotation-neutral", "story", "def-noann-bytes-for-plain", mutants.annotation_changes_body, "twin"),
    ("sync-async-parity", "story", "async-ann-str-for-plain", mutants.def_adds_header, "x-ran-in-thread"),
    ("yield-from-parity", "png", "def-ann-bytes-for-subclass", mutants.yield_from_adds_header, "x-yield-from"),
    ("openapi", "png", "def-ann-bytes-for-subclass", mutants.undocumented_route, "No OpenAPI operation"),
    ("openapi", "story", "def-ann-str-for-plain", mutants.plain_documents_json, "documents content"),
    ("openapi", "png", "async-noann-bytes-for-subclass", mutants.media_type_only_per_instance, "not documented"),
    ("closure-on-disconnect", "png", "def-ann-bytes-for-subclass", mutants.keeps_abandoned_streams, "never closed"),
    ("closure-on-disconnect", "story", "def-noann-str-yieldfrom-plain", mutants.keeps_abandoned_streams,
     "never closed"),
    ("generator-stops-on-disconnect", "png", "def-ann-bytes-for-plain", mutants.drains_after_disconnect, "kept producing"),
    ("generator-stops-on-disconnect", "png", "async-ann-bytes-for-plain", mutants.drains_after_disconnect, "kept producing"),
    ("generator-stops-on-disconnect", "png", "def-noann-bytes-for-plain", mutants.swallows_generator_exit,
     "kept producing"),
    ("closure-on-error", "png", "async-noann-bytes-for-subclass", mutants.completes_after_error, "looked complete"),
    ("closure-on-error", "story", "def-ann-str-for-plain", mutants.never_closes, "never closed"),
]
CAUGHT += [
    ("loop-not-blocked", "blocking-read", "def-ann-bytes-for-plain", mutants.runs_def_on_the_loop, "was blocked"),
    ("loop-not-blocked", "blocking-read", "def-noann-bytes-yieldfrom-subclass", mutants.runs_def_on_the_loop,
     "was blocked"),
]
CAUGHT += [  # what surrounds the route (harness/surround.py), on its scenario and variants
    ("status-code", "long-stream", "async-ann-bytes-for-plain", mutants.ignores_status_code, "status_code= on the route"),
    ("status-code", "long-stream", "def-ann-bytes-for-subclass-router", mutants.ignores_status_code, "201"),
    ("response-headers", "long-stream", "async-ann-bytes-for-plain", mutants.drops_dependency_headers,
     "x-harness-dependency"),
    ("response-headers", "long-stream", "def-ann-bytes-for-plain-nested", mutants.drops_dependency_headers,
     "did not reach the client"),
    ("background-after-stream", "long-stream", "async-ann-bytes-for-plain", mutants.background_before_stream,
     "before the last chunk"),
    ("background-after-stream", "long-stream", "def-ann-bytes-for-subclass-router", mutants.background_twice,
     "2 runs"),
    ("dependency-teardown", "long-stream", "async-ann-bytes-for-plain", mutants.closes_dependencies_early,
     "closed after 0 of 64 chunks"),
    ("dependency-teardown", "long-stream", "def-ann-bytes-for-plain-router", mutants.ignores_function_scope,
     'scope="function"'),
    ("cancellable", "long-stream", "async-ann-bytes-for-plain", mutants.no_checkpoint_between_chunks,
     "ran to its end"),
    ("cancellable", "long-stream", "async-ann-bytes-for-subclass-nested", mutants.no_checkpoint_between_chunks,
     "after the client left"),
]

# JSON Lines and Server-Sent Events (the jsonl and sse forms)
CAUGHT += [
    ("chunk-order", "items", "jsonl-def-model-for", mutants.buffers_whole_body_route, "in one message"),
    ("chunk-order", "adversarial-items", "sse-async-noann-event-for-get", mutants.buffers_whole_body_route,
     "in one message"),
    ("incremental-delivery", "long-items", "jsonl-def-model-for", mutants.buffers_whole_body_route, "worker thread"),
    ("incremental-delivery", "long-items", "sse-def-model-data-for-get", mutants.buffers_whole_body_route,
     "worker thread"),
    ("content-type", "items", "jsonl-async-model-for", mutants.sends_json_content_type_route, "application/jsonl"),
    ("content-type", "items", "sse-def-noann-data-for-get", mutants.sends_json_content_type_route,
     "text/event-stream"),
    ("openapi", "items", "jsonl-async-model-for", mutants.undocumented_route, "No OpenAPI operation"),
    ("openapi", "items", "sse-async-model-data-for-post", mutants.undocumented_route, "No OpenAPI operation"),
    ("jsonl-lines", "adversarial-items", "jsonl-async-noann-for", mutants.jsonl_pretty_printed, "not one JSON value"),
    ("sse-events", "adversarial-items", "sse-async-noann-raw-for-get", mutants.sse_data_not_split, "Event 0"),
    ("sse-headers", "items", "sse-async-model-data-for-get", mutants.strips_accel_buffering_route, "x-accel"),
    ("sse-keepalive", "idle-items", "sse-def-model-data-for-get", mutants.drops_keepalive_route, "No keep-alive"),
    ("status-code", "accepted-items", "jsonl-async-model-for", mutants.sends_default_status_route, "202"),
    ("status-code", "accepted-items", "sse-def-noann-data-for-get", mutants.sends_default_status_route, "202"),
    ("item-validation", "invalid-item", "jsonl-async-model-for", mutants.ends_normally_on_error_route,
     "ended normally"),
    ("item-validation", "invalid-item", "jsonl-def-model-for", mutants.ends_normally_on_error_route,
     "ended normally"),
]
# Checks whose passing app is not the stock FastAPI route: what passes instead (see below).
PASSING = {"closure-on-disconnect": mutants.closes_on_disconnect}
# Checks that only a server engine can exercise; their mutants run in test_servers.py.
SERVER_ONLY = {"framing", "closure-on-shutdown", "bounded-memory"}
# Informational by design (a table, no verdict): nothing to catch; test_latency.py checks its figures.
NO_VERDICT = {"threadpool-saturation"}


def _id(row) -> str:
    check, scenario, vid, mutant, _ = row
    name = getattr(mutant, "__name__", None) or next(k for k, v in vars(mutants).items() if v is mutant)
    return f"{check}:{scenario}:{vid}:{name}"


@pytest.mark.parametrize("row", CAUGHT, ids=[_id(r) for r in CAUGHT])
def test_mutant_is_caught_and_correct_app_passes(row):
    check, scenario, vid, mutant, words = row
    _stock_route_conforms_here(check, scenario, vid)
    broken = judge(check, scenario, vid, mutant, deadline_s=1.0)
    assert broken.outcome is Outcome.FAIL, broken.detail
    assert words in broken.detail
    assert "expected:" in broken.detail or "deadline" in broken.detail
    correct = judge(check, scenario, vid, PASSING.get(check, build_route))
    assert correct.outcome is Outcome.PASS, correct.detail


def _stock_route_conforms_here(check: str, scenario: str, vid: str) -> None:
    """Skip, saying why, where the installed FastAPI cannot be the passing side: it lacks the row's
    form (SSE before 0.135), or its stock route has a deviation the shipped expectations record for
    this release (JSON Lines' status_code before 0.140 ...). A mutant proves a check only beside a
    stock route that passes."""
    from harness import expectations as expect
    from harness.forms import form_missing_reason
    from harness.installed import versions

    from .helpers import variant

    missing = form_missing_reason(variant(vid))
    if missing:
        pytest.skip(missing)
    stock = judge(check, scenario, vid, PASSING.get(check, build_route))
    if stock.outcome is not Outcome.PASS:
        entries = expect.load(Path(__file__).resolve().parent.parent / "expectations.toml")
        (known,) = expect.annotate([stock], entries, versions()["fastapi"])
        if expect.classify(known) is expect.Status.KNOWN:
            pytest.skip(f"the stock route deviates on FastAPI {versions()['fastapi']}: {expect.known_reason(known)}")


@pytest.fixture(autouse=True)
def _no_descriptor_left():
    yield
    mutants.close_unowned_files()


def test_every_check_has_a_mutant():
    """In-process mutants here; framing and closure-on-shutdown are proven in test_servers.py."""
    assert {row[0] for row in CAUGHT} == set(registry()) - SERVER_ONLY - NO_VERDICT
    import tests.test_servers as servers
    assert "mutants.sends_content_length" in open(servers.__file__).read()
    assert "mutants.keeps_abandoned_streams" in open(servers.__file__).read()
    assert "test_bounded_memory_measures_the_server_process" in open(servers.__file__).read()
    assert "test_surround_checks_pass_on_the_stock_route_and_catch_their_mutants_on_every_server" in \
        open(servers.__file__).read()
    assert "mutants.shielded_from_shutdown" in open(servers.__file__).read()  # cancellable's shutdown half


@pytest.mark.parametrize("vid", ["def-ann-bytes-for-plain", "async-noann-bytes-yieldfrom-subclass".replace(
    "async", "def"), "async-ann-bytes-for-subclass"])
def test_stock_fastapi_closes_the_file_after_a_disconnect_only_through_the_gc(vid):
    """A finding, pinned: after a disconnect the stock route's resource is kept alive by a reference
    cycle and closed only by the cyclic GC (non-strict). If FastAPI/Starlette fix this, this test
    fails and the expectation is to be updated, not the check."""
    result = judge("closure-on-disconnect", "png", vid)
    assert result.outcome is Outcome.NON_STRICT, result.detail
    assert "garbage collection" in result.detail


def test_checks_not_applicable_in_process_say_why():
    result = judge("framing", "png", "def-ann-bytes-for-plain")
    assert result.outcome is Outcome.NA and "server engine" in result.detail
    result = judge("closure-on-shutdown", "png", "def-ann-bytes-for-plain")
    assert result.outcome is Outcome.NA and "cannot perform 'shutdown'" in result.detail


def test_buffering_that_keeps_boundaries_passes_chunk_order_but_not_incremental_delivery():
    """The reason incremental-delivery exists: chunk-order alone cannot see buffering."""
    assert judge("chunk-order", "png", "def-ann-bytes-for-plain", mutants.buffers_then_sends_each).outcome is Outcome.PASS
    assert judge("incremental-delivery", "png", "def-ann-bytes-for-plain",
                 mutants.buffers_then_sends_each).outcome is Outcome.FAIL


def test_a_route_that_cannot_be_declared_is_an_error_and_breaks_parity_of_its_twins():
    assert judge("chunk-order", "story", "def-ann-str-for-plain", mutants.cannot_declare).outcome is Outcome.ERROR

    def only_annotated_fails(scenario, variant, open_source):
        if variant.axis["annotation"] == "matching":
            return mutants.cannot_declare(scenario, variant, open_source)
        return build_route(scenario, variant, open_source)
    result = judge("annotation-neutral", "story", "def-noann-str-for-plain", only_annotated_fails)
    assert result.outcome is Outcome.FAIL and "could not be declared" in result.detail, result.detail


def test_media_type_only_per_instance_still_sends_the_header():
    """The openapi mutant is caught by openapi alone: the header it sends is right."""
    assert judge("content-type", "png", "async-noann-bytes-for-subclass",
                 mutants.media_type_only_per_instance).outcome is Outcome.PASS


def test_the_declaration_axis_sees_what_include_router_loses():
    """A router that drops the route's response_class (fastapi#15077's shape: what the route said lost on
    the way through include_router): the app declaration passes, the router ones fail."""
    assert judge("content-type", "png", "def-ann-bytes-for-subclass", mutants.router_drops_response_class
                 ).outcome is Outcome.PASS
    for vid in ("def-ann-bytes-for-subclass-router", "async-ann-bytes-for-subclass-nested"):
        broken = judge("content-type", "png", vid, mutants.router_drops_response_class)
        assert broken.outcome is Outcome.FAIL, broken.detail
        assert judge("content-type", "png", vid).outcome is Outcome.PASS


def test_surround_checks_say_where_they_run():
    result = judge("status-code", "story", "async-ann-bytes-for-plain")
    assert result.outcome is Outcome.NA and "'long-stream'" in result.detail
    result = judge("dependency-teardown", "long-stream", "async-noann-bytes-for-plain")
    assert result.outcome is Outcome.NA and "*-ann-bytes-for-*" in result.detail
    result = judge("cancellable", "long-stream", "def-ann-bytes-for-plain")
    assert result.outcome is Outcome.NA and "worker thread" in result.detail
    result = judge("cancellable", "long-stream", "async-ann-bytes-for-plain")
    assert result.outcome is Outcome.PASS and "[shutdown] n/a on this engine" in result.detail, result.detail
