"""Driving an ASGI app's lifespan: startup before the first request, shutdown after the last.

A team's app opens its pools and clients in its lifespan; requests that skip it do not test the
app they run. The protocol is the server's half of ASGI ``lifespan`` (spec 2.0): send
``lifespan.startup``, wait for ``.complete`` or ``.failed``; later ``lifespan.shutdown`` likewise.
An app that returns (or raises) on the lifespan scope before answering does not support lifespan:
that is allowed, as uvicorn's ``--lifespan auto`` allows it.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

__all__ = ["Lifespan", "LifespanFailed", "STARTUP_DEADLINE_S", "check_lifespan"]

STARTUP_DEADLINE_S = 10.0


class LifespanFailed(Exception):
    """The app's lifespan startup or shutdown failed; ``cause`` is what it raised, if it raised."""

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.cause = cause


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"


class Lifespan:
    """One lifespan of ``app`` on the running loop; ``state`` is what requests get a copy of."""

    def __init__(self, app: Any, deadline_s: float = STARTUP_DEADLINE_S) -> None:
        self.app, self.deadline_s = app, deadline_s
        self.state: dict[str, Any] = {}
        self.supported = True
        self._to_app: asyncio.Queue | None = None
        self._from_app: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        await self.app(scope, self._to_app.get, self._from_app.put)

    async def _step(self, message: str) -> None:
        await self._to_app.put({"type": f"lifespan.{message}"})
        getter = asyncio.ensure_future(self._from_app.get())
        done, _ = await asyncio.wait({getter, self._task}, timeout=self.deadline_s,
                                     return_when=asyncio.FIRST_COMPLETED)
        if getter in done:
            reply = getter.result()
            if reply["type"] == f"lifespan.{message}.failed":
                cause = self._task.exception() if self._task.done() and not self._task.cancelled() else None
                if cause is None:
                    await asyncio.wait({self._task}, timeout=1.0)  # Starlette re-raises right after replying
                    cause = self._task.exception() if self._task.done() and not self._task.cancelled() else None
                raise LifespanFailed(f"lifespan {message} failed: {_last_line(reply.get('message', ''))}", cause)
            return
        getter.cancel()
        if self._task in done:
            exc = self._task.exception() if not self._task.cancelled() else None
            if message == "startup":  # it never answered: no lifespan support, which is allowed
                self.supported = False
                return
            if exc is not None:
                raise LifespanFailed(f"lifespan {message} raised {type(exc).__name__}: {exc}", exc)
            return
        raise LifespanFailed(f"lifespan {message} did not complete within {self.deadline_s:g} s")

    async def startup(self) -> None:
        self._to_app, self._from_app = asyncio.Queue(), asyncio.Queue()
        self._task = asyncio.ensure_future(self._run())
        await self._step("startup")

    async def shutdown(self) -> None:
        if self._task is None or not self.supported or self._task.done():
            return
        try:
            await self._step("shutdown")
        finally:
            if not self._task.done():
                await asyncio.wait({self._task}, timeout=self.deadline_s)
            if not self._task.done():
                self._task.cancel()


def check_lifespan(app: Any, deadline_s: float = STARTUP_DEADLINE_S) -> None:
    """Run the app's startup and shutdown once on a loop of its own (in a thread, so a caller's
    running loop does not matter); raise :class:`LifespanFailed` if either fails."""
    failure: list[BaseException] = []

    async def cycle() -> None:
        lifespan = Lifespan(app, deadline_s)
        await lifespan.startup()
        await lifespan.shutdown()

    def run() -> None:
        try:
            asyncio.run(cycle())
        except BaseException as exc:  # reported to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="harness-lifespan-check", daemon=True)
    thread.start()
    thread.join(2 * deadline_s + 5)
    if thread.is_alive():
        raise LifespanFailed(f"the lifespan did not start and stop within {2 * deadline_s + 5:g} s")
    if failure:
        exc = failure[0]
        if isinstance(exc, LifespanFailed):
            raise exc
        raise LifespanFailed(f"running the lifespan raised {type(exc).__name__}: {exc}", exc)
