"""The closure watch's order with a server that holds failed apps (``reaped``): it waits for the server
to let go before it asks for any GC, so a close that comes with the release (without a GC) is not
credited to a GC, and a close a GC brings after it is."""

from __future__ import annotations

from harness.engines.closure import watch_closure
from harness.trace import GcDone, GcRequested, Recorder, ResourceClosed


def _watch(close_on: str, held: bool) -> tuple[list[str], list[str]]:
    recorder, calls, state = Recorder(), [], {"closed": False}

    def step(name: str) -> None:
        calls.append(name)
        if name == close_on and not state["closed"]:
            state["closed"] = True
            recorder.add(ResourceClosed(recorder.now(), "r"))

    def reaped() -> bool:
        step("reaped")
        return held
    watch_closure(recorder, lambda: step("settle"), lambda generation: step(f"gc{generation}"),
                  lambda: state["closed"], reaped)
    return calls, [type(e).__name__ for e in recorder.events]


def test_a_close_at_the_release_comes_before_any_gc():
    calls, events = _watch("reaped", held=True)
    assert calls == ["settle", "reaped", "settle"]
    assert GcRequested.__name__ not in events


def test_the_gc_comes_after_the_release_and_is_bracketed_as_help():
    calls, events = _watch("gc0", held=True)
    assert calls[:4] == ["settle", "reaped", "settle", "gc0"]
    assert events == [GcRequested.__name__, ResourceClosed.__name__, GcDone.__name__]


def test_nothing_held_means_no_second_settle():
    calls, _ = _watch("gc0", held=False)
    assert calls[:3] == ["settle", "reaped", "gc0"]
