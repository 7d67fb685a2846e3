"""The harness's own collector during a run (``harness/heap.py``): a larger young generation for the
run, the interpreter's thresholds restored after it, whatever happened."""

from __future__ import annotations

import gc

import pytest

from harness.heap import YOUNG, run_heap
from harness.options import GateOptions, Selection
from harness.session import open_session


def test_a_run_collects_its_young_generation_less_often_and_restores_the_thresholds():
    before = gc.get_threshold()
    seen: list[tuple[int, int, int]] = []
    session = open_session(Selection(scenarios=["png"], checks=["chunk-order"], variants=["function=def"],
                                     include_page=False), GateOptions(no_expectations=True))
    results, _ = session.run(lambda label: lambda *_: seen.append(gc.get_threshold()))
    assert results and seen
    assert all(t == (max(YOUNG, before[0]), *before[1:]) for t in seen)
    assert gc.get_threshold() == before


def test_the_thresholds_come_back_after_a_failure_too():
    before = gc.get_threshold()
    with pytest.raises(KeyError):
        with run_heap():
            assert gc.get_threshold()[0] >= YOUNG
            raise KeyError("boom")
    assert gc.get_threshold() == before
