"""The harness's own garbage collector during a run.

CPython 3.11 collects its youngest generation every 700 net allocations of tracked objects, the
middle one every 10 of those, and the oldest (the whole heap) every 10 middle ones once it grew by
a quarter. A run's requests allocate events, traces and details by the hundred thousand; most die
within a case, but at 700 they outlived two young collections and were promoted, so the oldest
generation kept growing and was collected over and over. A whole ``--engine all`` run made 31-39 full
collections, each walking every result so far (158 000 at the end), up to 655 ms each, 8-10 s in
all, holding the GIL: every wire client, lock-step acknowledgement and loop probe of the harness
waited meanwhile. With a young generation of :data:`YOUNG` a case's garbage dies young: 5-6 full
collections in the same run, 2-3 s in all (README, "How long a run takes").

Verdicts do not depend on when a collection happens: a closure watch pauses automatic collection
and asks for its own (:mod:`harness.engines.closure`), and a measurement alone pauses it too
(:mod:`harness.engines.quiet`).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

__all__ = ["YOUNG", "run_heap"]

YOUNG = 20_000  # net allocations of tracked objects between two collections of the youngest generation


@contextmanager
def run_heap() -> Iterator[None]:
    """A run's collector thresholds, restored afterwards (the process may go on: pytest, a caller)."""
    before = gc.get_threshold()
    gc.set_threshold(max(YOUNG, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
