"""Request modes: how a check wants the request performed.

``normal`` reads the whole response. ``disconnect`` reads ``at`` non-empty chunks and then the client
goes away (in-process: in the ASGI ``style`` given). ``error`` makes the scenario's producer raise
when asked for chunk ``at``. ``shutdown`` asks the server to stop after ``at`` chunks.
``latency`` runs ``at`` streams at once while the app's loop lag and a trivial request's latency
are sampled; ``saturation`` does that for each count in ``SATURATION_STREAMS``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Mode", "NORMAL", "DISCONNECT_STYLES", "CUT_AT", "modes_for"]

CUT_AT = 2  # the client reads this many non-empty chunks before it disconnects / the producer raises
# In-process, the two ways ASGI tells an app the client left: `http.disconnect` from receive()
# (spec_version < 2.4) and `send` raising OSError (spec_version >= 2.4).
DISCONNECT_STYLES = ("receive", "send-oserror")


@dataclass(frozen=True)
class Mode:
    name: str = "normal"
    at: int = 0
    style: str = ""

    @property
    def key(self) -> str:
        return "-".join(str(p) for p in (self.name, self.at, self.style) if p not in ("", 0))

    @property
    def stream_counts(self) -> tuple[int, ...]:
        """For the measuring modes: how many streams run at once, one group per entry."""
        if self.name == "latency":
            return (self.at,)
        if self.name == "saturation":
            return SATURATION_STREAMS
        return ()

    @property
    def wants_closure_watch(self) -> bool:
        """Modes after which the engine watches the resource close (and asks for a GC if needed)."""
        return self.name in ("disconnect", "error", "shutdown")


NORMAL = Mode()
LATENCY_STREAMS = 4  # K concurrent streams for loop-not-blocked
SATURATION_STREAMS = (1, 8, 40, 64)  # 40 is anyio's default thread limit


def modes_for(kind: str, disconnect_styles: tuple[str, ...], shutdown: bool) -> list[Mode]:
    """How an engine performs a kind of request: one Mode per way (empty: n/a on that engine)."""
    table = {
        "normal": [NORMAL],
        "disconnect": [Mode("disconnect", CUT_AT, style) for style in disconnect_styles],
        "error": [Mode("error", CUT_AT)],
        "shutdown": [Mode("shutdown", CUT_AT)] if shutdown else [],
        "latency": [Mode("latency", LATENCY_STREAMS)],
        "saturation": [Mode("saturation")],
    }
    return table.get(kind, [])
