"""Request kinds and modes: how a check wants its request performed.

Theory of operation (a closed table, in the manner of h11's ``_state.py``). A check declares the
**kind** of request it reads (:class:`Kind`); an engine answers with the **modes** it performs that
kind in (one per way: in-process a disconnect happens in two ASGI styles, over a socket in one; a
kind an engine cannot perform has no mode and the check is ``n/a`` there). Everything that differs
between kinds is a column of :data:`KINDS`, read in one place, never a ``name == "..."`` comparison
spread over the runner and the engines:

``normal``      the whole response is read, in lock-step with the producer
``disconnect``  ``at`` non-empty chunks are read, then the client goes away; closure is watched
``error``       the producer raises when asked for chunk ``at``; closure is watched
``shutdown``    the server is asked to stop after ``at`` chunks; closure is watched (servers only). The
                client holds a route the probe paces in lock-step (its producer then waits mid-stream);
                a route it does not pace (``Route.paced`` false) it reads on: held, such a producer
                would only run until the socket buffers fill, and its sends would give it the awaits
                it is there to go without
``latency``     ``at`` streams at once while the loop lag and a trivial request are sampled
``saturation``  the same for each count in :data:`SATURATION_STREAMS`

Rules: a mode is a value (frozen, hashable: the runner's trace cache is keyed by it); a kind that
holds several streams at once never enforces lock-step (they share the producer's gate); only the
kinds an engine declares in ``batched_kinds`` are ever performed as a batch, and never a case a
selected check measures process-wide (``Check.alone``: peak resident memory).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Kind", "KindRules", "KINDS", "Mode", "NORMAL", "DISCONNECT_STYLES", "CUT_AT", "LATENCY_STREAMS",
           "SATURATION_STREAMS", "modes_for"]

CUT_AT = 2  # the client reads this many non-empty chunks before it disconnects / the producer raises
# In-process, the two ways ASGI tells an app the client left: `http.disconnect` from receive()
# (spec_version < 2.4) and `send` raising OSError (spec_version >= 2.4).
DISCONNECT_STYLES = ("receive", "send-oserror")
LATENCY_STREAMS = 4  # K concurrent streams for loop-not-blocked
SATURATION_STREAMS = (1, 8, 40, 64)  # 40 is anyio's default thread limit


class Kind(str, enum.Enum):
    NORMAL = "normal"
    DISCONNECT = "disconnect"
    ERROR = "error"
    SHUTDOWN = "shutdown"
    LATENCY = "latency"
    SATURATION = "saturation"

    @classmethod
    def parse(cls, text: "str | Kind", where: str = "") -> "Kind":
        """A kind from its name; an unknown one is refused naming the valid ones."""
        try:
            return cls(text)
        except ValueError:
            raise ValueError(f"{where}unknown request kind {text!r}; kinds are: "
                             f"{', '.join(k.value for k in cls)}") from None

    @property
    def rules(self) -> "KindRules":
        return KINDS[self]


@dataclass(frozen=True)
class KindRules:
    """What a kind of request needs from the runner and the engines."""

    at: int = 0  # the chunk count it acts at (0: none)
    closure_watch: bool = False  # watch the resource close afterwards (and ask for a GC if needed)
    producer_raises: bool = False  # the scenario's producer raises at chunk ``at``
    client_cuts: bool = False  # the client stops reading after ``at`` chunks
    stream_counts: tuple[int, ...] = ()  # measuring kinds: how many streams at once, one group per entry
    needs_server: bool = False  # only a real server process can be asked to shut down
    side_requests: bool = True  # the normal kind's side requests (/openapi.json) may be made
    # a batch of this kind holds one scenario's cases, not the run's: the whole body is read, and a
    # run's worth of bodies at once would hold every payload (a scenario's go when it ends)
    batch_per_scenario: bool = False


KINDS: dict[Kind, KindRules] = {
    Kind.NORMAL: KindRules(batch_per_scenario=True),
    Kind.DISCONNECT: KindRules(at=CUT_AT, closure_watch=True, client_cuts=True, side_requests=False,
                               batch_per_scenario=True),
    Kind.ERROR: KindRules(at=CUT_AT, closure_watch=True, producer_raises=True, side_requests=False),
    Kind.SHUTDOWN: KindRules(at=CUT_AT, closure_watch=True, needs_server=True, side_requests=False),
    Kind.LATENCY: KindRules(at=LATENCY_STREAMS, stream_counts=(LATENCY_STREAMS,), side_requests=False),
    Kind.SATURATION: KindRules(stream_counts=SATURATION_STREAMS, side_requests=False),
}
assert set(KINDS) == set(Kind), "every kind has its row"


@dataclass(frozen=True)
class Mode:
    """One way of performing a kind of request (the trace cache's key beside scenario and variant)."""

    kind: Kind = Kind.NORMAL
    style: str = ""  # in-process disconnects: which ASGI style

    @property
    def rules(self) -> KindRules:
        return KINDS[self.kind]

    @property
    def at(self) -> int:
        return self.rules.at

    @property
    def key(self) -> str:
        return "-".join(str(p) for p in (self.kind.value, self.at, self.style) if p not in ("", 0))

    @property
    def stream_counts(self) -> tuple[int, ...]:
        return self.rules.stream_counts

    @property
    def wants_closure_watch(self) -> bool:
        return self.rules.closure_watch


NORMAL = Mode()


def modes_for(kind: Kind, disconnect_styles: tuple[str, ...], servers: bool) -> list[Mode]:
    """How an engine performs a kind of request: one Mode per way (empty: ``n/a`` on that engine)."""
    if kind is Kind.DISCONNECT:
        return [Mode(kind, style) for style in disconnect_styles]
    if kind.rules.needs_server and not servers:
        return []
    return [Mode(kind)]
