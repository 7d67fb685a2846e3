"""JSON Lines and Server-Sent Events on every server engine: the route's method, body and headers travel
the wire, the server process builds form routes and the pages' samples, and the keep-alive interval the
idle scenario shortens applies inside that process."""

from __future__ import annotations

import pytest

from harness.engines.servers import SERVERS, live_servers
from harness.outcomes import Outcome
from harness.variants import FORM_PAGE_ROUTES, url_key, variant_by_url_key

from . import mutants
from .helpers import judge

pytestmark = pytest.mark.needs_feature
INSTALLED = [name for name, spec in SERVERS.items() if not spec.missing()]


def _has_sse() -> bool:
    import importlib.util

    return importlib.util.find_spec("fastapi.sse") is not None


# Server-Sent Events came with FastAPI 0.135.0: on 0.134.x their cases are left out (the gate's own test below)
NEEDS_SSE = pytest.mark.skipif(not _has_sse(), reason="FastAPI < 0.135.0 has no Server-Sent Events")

# (scenario, variant, checks): what each form needs from a server, on the stock routes
STOCK = [
    ("items", "jsonl-def-model-for", ("chunk-order", "content-type", "jsonl-lines", "openapi")),
    ("items", "sse-async-noann-event-for-get", ("chunk-order", "sse-events", "sse-headers")),
    ("items", "sse-async-model-data-for-post", ("sse-events", "openapi")),  # SSE over POST, its OpenAPI "post"
    ("chat", "page:sse:/chat/stream", ("chunk-order", "sse-events")),  # the page's POST with a JSON body
    ("priced-items", "page:sse:/items/stream-resume", ("sse-events",)),  # Last-Event-ID: only events after it
    ("idle-items", "sse-def-model-data-for-get", ("sse-keepalive",)),  # the 0.05 s interval, in the server
    ("accepted-items", "sse-def-noann-data-for-get", ("status-code",)),
]


def test_every_page_sample_has_a_url_key_without_a_slash():
    for vid in FORM_PAGE_ROUTES:
        key = url_key(vid)
        assert "/" not in key and variant_by_url_key(key).id == vid


@pytest.mark.parametrize("engine", INSTALLED)
def test_the_forms_pass_on_every_server(engine):
    from harness.checks import get_checks
    from harness.engines import get_engine
    from harness.runner import Case, Runner

    from .helpers import SCENARIOS, variant

    names = sorted({c for _, _, checks in STOCK for c in checks})
    with Runner(get_engine(engine), get_checks(names), lockstep_wait_s=0.5) as runner:
        for scenario, vid, checks in STOCK:
            if not _has_sse() and "sse" in vid:
                continue
            results = {r.check: r for r in runner.judge(Case(SCENARIOS[scenario], variant(vid)))}
            for check in checks:
                assert results[check].outcome is Outcome.PASS, (scenario, vid, check, results[check].detail)
    assert not live_servers()


# each form check's mutant, over a socket: what the server process builds is the mutant too
MUTANTS = [
    ("jsonl-lines", "items", "jsonl-async-noann-for", "jsonl_pretty_printed", "not one JSON value"),
    ("sse-events", "adversarial-items", "sse-async-noann-raw-for-get", "sse_data_not_split", "Event 0"),
    ("sse-headers", "items", "sse-async-model-data-for-get", "strips_accel_buffering_route", "x-accel"),
    ("sse-keepalive", "idle-items", "sse-def-model-data-for-get", "drops_keepalive_route", "No keep-alive"),
    ("status-code", "accepted-items", "sse-def-noann-data-for-get", "sends_default_status_route", "202"),
    ("incremental-delivery", "long-items", "sse-async-model-data-for-get", "buffers_whole_body_route", ""),
]


@pytest.mark.parametrize("row", [pytest.param(r, marks=NEEDS_SSE) if "sse" in r[2] else r for r in MUTANTS],
                         ids=[r[0] for r in MUTANTS])
def test_form_mutants_are_caught_over_a_socket(row):
    check, scenario, vid, mutant, words = row
    broken = judge(check, scenario, vid, getattr(mutants, mutant), engine="uvicorn")
    assert broken.outcome is Outcome.FAIL and words in broken.detail, broken.detail
    assert judge(check, scenario, vid, engine="uvicorn").outcome is Outcome.PASS


@pytest.mark.skipif(_has_sse(), reason="the installed FastAPI has Server-Sent Events (>= 0.135.0)")
def test_sse_is_unsupported_before_0_135_on_a_server_and_says_what_the_release_does_instead():
    """The version gate on a server engine: an SSE variant is ``unsupported`` (never ``error``), naming
    the release that added the form and what this one does with the same generator: JSON Lines, which
    passes here."""
    sse = judge("sse-events", "items", "sse-async-model-data-for-get", engine="uvicorn", missing_reason="")
    assert sse.outcome is Outcome.UNSUPPORTED, sse.detail
    assert "added in 0.135.0" in sse.detail and "JSON Lines" in sse.detail and "fastapi.sse" in sse.detail
    jsonl = judge("jsonl-lines", "items", "jsonl-async-model-for", engine="uvicorn", missing_reason="")
    assert jsonl.outcome is Outcome.PASS, jsonl.detail
