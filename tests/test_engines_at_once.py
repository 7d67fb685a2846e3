"""``--engine all`` runs the server engines at once (issue 14): each serves from processes of its own,
so the results must be exactly those of a run one engine after another, in the same order."""

from __future__ import annotations

import pytest

from harness.engines import engine_unavailable
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
