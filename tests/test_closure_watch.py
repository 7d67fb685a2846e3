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


def test_streams_watched_together_are_each_seen_before_any_gc():
    """A round of cut streams: a GC one of them needs would also close another's resource (one
    process, one collector), so every stream is settled and looked at first; only the ones still
    open then are bracketed as helped, and a close that came without help stays without."""
    from harness.engines.closure import Watched, watch_closures

    calls: list[str] = []
    recorders = {name: Recorder() for name in ("a", "b", "c")}
    closed = {"a": False, "b": False, "c": False}
    needs_gc = {"a", "c"}  # b closes on its own when its loop settles

    def settle(name: str) -> None:
        calls.append(f"settle {name}")
        if name == "b":
            _close("b")

    def _close(name: str) -> None:
        if not closed[name]:
            closed[name] = True
            recorders[name].add(ResourceClosed(recorders[name].now(), name))

    def collect(generation: int) -> None:
        calls.append(f"gc{generation}")
        for name in needs_gc:  # the one collector closes every collectable resource of the process
            _close(name)

    watch_closures([Watched(recorders[n], lambda n=n: settle(n), lambda n=n: closed[n]) for n in ("a", "b", "c")],
                   collect)
    assert calls[:4] == ["settle a", "settle b", "settle c", "gc0"]
    kinds = {n: [type(e).__name__ for e in r.events] for n, r in recorders.items()}
    assert kinds["b"] == [ResourceClosed.__name__]  # closed without help
    for n in ("a", "c"):
        assert kinds[n] == [GcRequested.__name__, ResourceClosed.__name__, GcDone.__name__], kinds[n]
