"""FastAPI's SSE keep-alive interval (15 s), shortened around the requests of the keep-alive scenario so
the ``: ping`` comment is seen without waiting 15 s."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

__all__ = ["PING_INTERVAL_S", "ping_interval_attribute", "fast_keepalive"]

PING_INTERVAL_S = 0.05  # the keep-alive interval the harness sets for the idle scenario (FastAPI's is 15 s)
_PATCH_LOCK = threading.Lock()
_PATCHED = [0, None]  # requests inside, the interval to restore


def ping_interval_attribute() -> tuple[Any, str] | None:
    """Where FastAPI reads the keep-alive interval: ``fastapi.routing._PING_INTERVAL``, a module global
    read at each wait (``fastapi.sse._PING_INTERVAL`` is only the default it was imported from:
    patching that one changes nothing). ``None`` when this FastAPI has no such name."""
    try:
        import fastapi.routing as routing
    except ImportError:
        return None
    return (routing, "_PING_INTERVAL") if hasattr(routing, "_PING_INTERVAL") else None


@contextlib.contextmanager
def _short_interval():
    where = ping_interval_attribute()
    if where is None:
        yield
        return
    module, name = where
    with _PATCH_LOCK:
        if _PATCHED[0] == 0:
            _PATCHED[1] = getattr(module, name)
            setattr(module, name, PING_INTERVAL_S)
        _PATCHED[0] += 1
    try:
        yield
    finally:
        with _PATCH_LOCK:
            _PATCHED[0] -= 1
            if _PATCHED[0] == 0:
                setattr(module, name, _PATCHED[1])


def fast_keepalive(app):
    """``app`` with FastAPI's keep-alive interval at :data:`PING_INTERVAL_S` while its requests run
    (counted, so overlapping requests restore the real value only when the last one ends)."""
    async def short_interval_app(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        with _short_interval():
            await app(scope, receive, send)
    short_interval_app.inner = app
    return short_interval_app
