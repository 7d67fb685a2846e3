"""Bounded memory: a large file streamed is never read whole into memory (the page's use case of
"large binary files ... without having to read it all into memory at once")."""

from __future__ import annotations

from ..trace import MemorySample
from . import Failure, NotApplicable, check

# A payload from this size on is large enough that holding it whole shows above the noise of a
# server process's allocator (a few MiB).
LARGE_PAYLOAD = 16 * 1024 * 1024
# The app may hold a bounded amount (a chunk, buffers): at most this share of the payload.
SHARE = 4


def _large_streamed_payload(scenario, variant) -> str | None:
    if scenario.source not in ("file", "generator"):
        return f"scenario {scenario.name!r} keeps its chunks in memory by design (source={scenario.source!r})"
    size = sum(map(len, scenario.wire_chunks))
    if size < LARGE_PAYLOAD:
        return f"a {size / 2**20:.1f} MiB payload is too small to tell buffering from allocator noise"
    return None


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


@check("bounded-memory", claim="#use-cases", applies=_large_streamed_payload, alone=True)
def bounded_memory(trace, scenario, variant):
    """Streaming a large file or generated payload, the server process's resident memory grows by
    less than a quarter of the payload: it is streamed, not read whole (measured in the server
    process, from its peak resident size during the request)."""
    samples = trace.of(MemorySample)
    if not samples:
        raise NotApplicable("measured in a server process only: in-process, the harness itself holds every "
                            "received byte" if not trace.on_wire else
                            "the server process could not measure its peak memory (no /proc/self/clear_refs)")
    sample = samples[0]
    size = sum(map(len, scenario.wire_chunks))
    growth, bound = max(0, sample.peak - sample.baseline), size // SHARE
    seen = f"peak grew by {_mib(growth)} while streaming {_mib(size)}"
    if growth > bound:
        raise Failure("The payload was held in memory while it streamed", expected=f"growth under {_mib(bound)}",
                      seen=seen, detail=f"resident {_mib(sample.baseline)} at the start, peak {_mib(sample.peak)}")
    return f"{seen} (bound {_mib(bound)})"


__all__ = ["bounded_memory"]
