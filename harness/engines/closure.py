"""Deciding "closed without help" without waiting on a clock.

After a cut stream, whatever closes the generator's resource on its own (a cancelled task
unwinding, the loop's async-generator finaliser scheduling ``aclose()``, refcounting) is work
already queued on the event loop. :func:`settle` runs the loop until no other task is left; if the
resource is still open then, only a garbage collection can close it. Automatic cyclic GC is paused
meanwhile (:class:`gc_paused`), so a collection that happens to run cannot turn a ``non-strict``
into a ``pass``: verdicts do not depend on GC timing.

When the harness does ask for a collection it asks for the youngest generation first: with
automatic collection paused, everything the cut request created is still there, so that is
usually enough, and it costs microseconds where a full collection of a server holding hundreds of
apps costs tens of milliseconds. Only if the resource is still open does a full collection follow.
Both count as help.
"""

from __future__ import annotations

import asyncio
import gc
from dataclasses import dataclass
from typing import Callable

from ..trace import GcDone, GcRequested, Recorder

__all__ = ["settle", "collect", "gc_paused", "watch_closure", "watch_closures", "Watched"]


_LOOK_EVERY = 8  # rounds between two looks at the loop's tasks


async def settle(max_rounds: int = 200, wait_for: "list[asyncio.Task] | None" = None,
                 timeout: float = 1.0) -> None:
    """Let the loop run until no other unfinished task is left, then a few rounds more.

    In a server process other tasks always exist (the server's own); there ``wait_for`` names the
    request tasks whose end matters (their ``finally`` blocks may hand work to threads), awaited
    first, with a deadline.
    """
    pending = [t for t in wait_for or [] if not t.done()]
    if pending:
        await asyncio.wait(pending, timeout=timeout)
    await _flush_worker_threads()
    me = asyncio.current_task()
    for n in range(1, max_rounds + 1):
        await asyncio.sleep(0)
        # listing every task costs several rounds' time, so it is asked every few rounds: a server's own
        # tasks never end, and there every round runs anyway (its loop is then held 0.4 ms, not 4)
        if n % _LOOK_EVERY == 0 and not [t for t in asyncio.all_tasks() if t is not me and not t.done()]:
            break
    for _ in range(3):
        await asyncio.sleep(0)


async def _flush_worker_threads() -> None:
    """Give every idle anyio worker thread a no-op job and wait for them all.

    A worker reports a ``def`` generator's chunk to the loop *before* it drops its references to the
    job (the iterator among them): a collection in that window finds the generator still reachable
    and it stays open, at random. Once each idle worker has run a later job, none holds one. The list
    of idle workers is anyio's internal; without it (another anyio), this does nothing.
    """
    try:
        import anyio
        from anyio._backends._asyncio import _threadpool_idle_workers

        idle = len(_threadpool_idle_workers.get())
    except (ImportError, LookupError, AttributeError):
        return
    if idle:
        await asyncio.gather(*(anyio.to_thread.run_sync(_noop) for _ in range(idle)))


def _noop() -> None:
    return None


async def collect(generation: int = 2) -> int:
    """``gc.collect`` run as a task of the event loop itself: the loop is then between callbacks,
    holding no half-finished handle that could keep the request's objects reachable, as it may be
    at an arbitrary moment seen from another thread."""
    return gc.collect(generation)


@dataclass(frozen=True)
class Watched:
    """One cut stream's watch: how to settle its loop, see its resource closed and (a server that
    keeps a failed app's task until a periodic check lets go of it) wait for that; ``reaped`` is true
    if there was a wait. A GC before it cannot collect what the server itself still holds, and would
    call it never closed."""

    recorder: Recorder
    settle: Callable[[], None]
    closed: Callable[[], bool]
    reaped: Callable[[], bool] | None = None


def watch_closures(watched: list[Watched], collect_gc: Callable[[int], None]) -> None:
    """After cut streams of one process: settle each and look; for those still open, ask for a GC
    (youngest generation first, then full) and settle again. ``GcRequested``/``GcDone`` in each trace
    bracket the help, so a check can tell a close the GC caused from one that came without it.
    Several streams are watched together so that every one is seen open or closed before any GC: the
    collection one needs cannot close another's resource unseen (which would call it closed without
    help), and a reaping server lets go of them all in one wait. Engines supply how to settle, collect
    and look, in-process or through the side channel."""
    helped = []
    for w in watched:
        w.settle()
        if w.closed():
            continue
        if w.reaped is not None and w.reaped():
            w.settle()
            if w.closed():
                continue
        helped.append(w)
    for w in helped:
        w.recorder.add(GcRequested(w.recorder.now()))
    # Youngest generation, then full, then full once more: a reference another thread was still
    # dropping during the first full collection (seen about once in a few thousand cut requests)
    # is gone by the second. Every round is help; a resource open after all three is never closed.
    still = helped
    for generation in (0, 2, 2):
        if not still:
            break
        collect_gc(generation)
        for w in still:
            w.settle()
        still = [w for w in still if not w.closed()]
    for w in helped:
        w.recorder.add(GcDone(w.recorder.now()))


def watch_closure(recorder: Recorder, settle_loop: Callable[[], None], collect_gc: Callable[[int], None],
                  closed: Callable[[], bool], reaped: Callable[[], bool] | None = None) -> None:
    """One cut stream's watch (:func:`watch_closures`)."""
    watch_closures([Watched(recorder, settle_loop, closed, reaped)], collect_gc)


class gc_paused:
    """Pause automatic cyclic garbage collection (an explicit ``gc.collect()`` still works)."""

    def __enter__(self) -> "gc_paused":
        self.was_enabled = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.was_enabled:
            gc.enable()
