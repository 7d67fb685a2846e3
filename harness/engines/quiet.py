"""Engines at once, a timing measurement alone: the run-wide lock that lets both be true.

Every engine judges a case holding a share (:meth:`Engine.turn`); a loop-latency or saturation
measurement, in-process or in a server, holds it alone. Lock-step by the lock's own state: no sleeps.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Callable, Iterator

from ..errors import HarnessError
from .closure import gc_paused

__all__ = ["Quiet", "QUIET"]

QUIET_WAIT_S = 600.0  # the longest a request waits for a measurement elsewhere (each has deadlines of its own)


class Quiet:
    """Engines at once (``--engine-jobs``), but a timing measurement alone.

    A loop-latency or saturation measurement holds it :meth:`alone` (and the harness's automatic
    garbage collection is paused meanwhile): the other engines, each holding
    it :meth:`shared` while they judge a case (requests, and the harness's own work between them:
    building routes, judging), finish that case and wait, so the measurement sees the machine as a
    sequential run would (two engines sharing two cores once starved a probe). A waiting measurement
    goes first: new cases wait behind it. ``shared`` is re-entrant per thread, and a thread that holds
    it while it asks to be ``alone`` (its own case measures) lends its share back meanwhile. A batch
    lends its case's share back too (:meth:`lent`) and takes one per request: a measurement then waits
    for the requests in flight, not for a batch of hundreds."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._sharing = 0
        self._alone = False
        self._queued = 0
        self._mine = threading.local()  # how many shares this thread holds

    def _held(self) -> int:
        return getattr(self._mine, "n", 0)

    def _wait(self, ready: Callable[[], bool]) -> None:
        if not self._cond.wait_for(ready, QUIET_WAIT_S):
            raise HarnessError(f"no turn within {QUIET_WAIT_S:g} s: another engine's case held it")

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            if not self._held():  # a thread that holds a share already never waits for another
                self._wait(lambda: not self._alone and not self._queued)
            self._sharing += 1
            self._mine.n = self._held() + 1
        try:
            yield
        finally:
            with self._cond:
                self._sharing -= 1
                self._mine.n = self._held() - 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def lent(self) -> Iterator[None]:
        """This thread's shares given back meanwhile: what it runs takes shares of its own."""
        n = self._held()
        with self._cond:
            self._sharing -= n
            self._mine.n = 0
            self._cond.notify_all()
        try:
            yield
        finally:
            with self._cond:
                if n:
                    self._wait(lambda: not self._alone and not self._queued)
                self._sharing += n
                self._mine.n = n

    @contextlib.contextmanager
    def alone(self) -> Iterator[None]:
        lent = self._held()
        with self._cond:
            self._sharing -= lent
            self._queued += 1
            self._cond.notify_all()
            try:
                self._wait(lambda: not self._alone and not self._sharing)
            except BaseException:
                self._sharing += lent
                raise
            finally:
                self._queued -= 1
            self._alone = True
        try:
            with gc_paused():  # nor the harness's own collector: a full one of its heap (every result
                yield          # so far) holds the GIL for hundreds of ms, a probe's worth
        finally:
            with self._cond:
                self._alone = False
                self._sharing += lent  # its case goes on
                self._cond.notify_all()


QUIET = Quiet()  # one per harness process: every engine of the run shares it
