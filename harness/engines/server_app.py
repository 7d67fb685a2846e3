"""The ASGI app a server engine runs: every variant of every scenario, behind an app-side probe.

A server process is started with ``harness.engines.server_app:app`` and its configuration in the environment
variable ``STREAM_HARNESS_SERVE`` (JSON: scenario folders, route builder, control port). Routes are
built lazily, one small app per (scenario, variant), and reached at::

    /h/<scenario>/<variant-id><path>        e.g. /h/png/def-ann-bytes-for-plain/stream
    /h/<scenario>/page-<n><path>            e.g. /h/story/page-1/story/stream-no-async (the page's n-th route)
    /h/<scenario>/page-<form>-<n><path>     e.g. /h/chat/page-sse-11/chat/stream (a sibling page's sample)

Every form is served (raw, JSON Lines, Server-Sent Events): the route builder dispatches on the
variant's form, so a form route, its pages' samples and the SSE keep-alive interval the idle scenario
shortens (``forms.keepalive.fast_keepalive``, applied around the route's requests) all live in this process.

A request that carries ``x-harness-request: <id>`` is probed: its generator steps, resource
open/close and lock-step are recorded under that id, for the harness to read through the control
channel (``control.py``). ``x-harness-mode`` is ``normal``, ``disconnect:K``, ``error:K`` (the
producer raises before chunk K) or ``shutdown:K``.

Lock-step over a socket: the probe wraps the server's ``send``; after handing a non-empty chunk to the
server, it waits (asynchronously, the loop stays free) until the client acknowledged that chunk
through the control channel, or left. So the framework cannot ask the generator for chunk k+1
before the client has chunk k, whether the generator is ``async`` or runs on a worker thread; a
framework that buffers never calls ``send`` and its producer's gate records the violation.

Automatic cyclic GC is off in this process (an explicit ``gc`` request still collects), so
"closed without help" never depends on when a collection happened to run.

A server may keep a failed app's task, and so through its exception's traceback the request's frames
and generator, until a periodic check lets go of it: daphne keeps it in its connection table until
its application checker, once a second, logs the exception and drops it. A GC before that cannot
collect the generator. With ``reaper`` in the configuration (``{"logger", "timer"}``), :class:`ReapWatch`
hears that log record for the very exception the request raised, and the harness waits for it before
its GC, unless the reaper's timer is no longer scheduled: daphne's checker stops for good when it
meets a failed app whose client is still connected after the response started (its 500 page cannot
start a started response: ``ValueError``, and the checker reschedules itself only at its end). From
then on the server holds every failed app's task forever; the probe says so in the trace
(``Mark("server-reaper-stopped")``) instead of waiting.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import gc
import importlib
import json
import logging
import os
import sys
import weakref
from pathlib import Path
from typing import Any, Callable

from . import rss
from .control import ControlServer, Probe, ProbeRegistry
from .loop_probe import ping_app
from ..probes import LockStep
from ..modes import Kind
from ..routes import Route
from ..scenarios import load_scenarios, scenario_folders
from .closure import settle
from ..trace import (AppException, AppReturned, AppSent, FinalSent, GcDone, GcRequested, Mark, MemorySample,
                     event_to_json)
from ..variants import Variant, url_key, variant_by_url_key

__all__ = ["ProbeApp", "app", "ENV", "route_path"]

ENV = "STREAM_HARNESS_SERVE"
# Once the client has left, the probe lets the producer go on at one chunk per this many seconds:
# how many chunks it then produces measures whether the server tells the app, not how fast a
# producer can outrun a server that notices a closed socket a few milliseconds late (granian's
# Rust I/O does, nondeterministically: unthrottled, a 38-chunk payload ran 0 to 36 chunks on).
AFTER_GONE_PACE_S = 0.01
_CURRENT: contextvars.ContextVar[Probe] = contextvars.ContextVar("harness_probe")



def route_path(scenario: str, variant_id: str, path: str) -> str:
    """Where the server serves ``path`` (the route, or /openapi.json) of the variant's app."""
    return f"/h/{scenario}/{url_key(variant_id)}{path}"


def _import(ref: str) -> Any:
    module, _, attr = ref.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


class ReapWatch(logging.Handler):
    """Hears the server log a failed app's exception as it lets go of the app's task (daphne's
    application checker): from then on the server no longer holds the request's frames."""

    def __init__(self, registry: ProbeRegistry) -> None:
        super().__init__()
        self.registry = registry

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None:
            return
        for _, probe in self.registry.items():  # an id is unique while the exception lives, as it does here
            if probe.failed_id == id(exc) and not probe.reaped.is_set():
                probe.recorder.add(Mark(probe.recorder.now(), "server-reaped-failed-app"))
                probe.reaped.set()


def reaper_scheduled(timer: str) -> bool | None:
    """Whether the server's Twisted reactor still has its periodic ``timer`` scheduled (daphne's
    ``application_checker``); None when the process runs no Twisted reactor."""
    reactor = sys.modules.get("twisted.internet.reactor")
    if reactor is None:
        return None
    return any(getattr(call.func, "__name__", "") == timer for call in list(reactor.getDelayedCalls()))


def _open_source(scenario):
    def open_source(chunk_type: str):
        probe = _CURRENT.get()
        return scenario.open(chunk_type, probe.recorder, probe.gate)
    return open_source


async def _plain(send, status: int, text: str, extra: list | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")] + (extra or [])})
    await send({"type": "http.response.body", "body": text.encode(), "more_body": False})


class ProbeApp:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        for entry in config.get("sys_path", []):
            if entry not in sys.path:
                sys.path.insert(0, entry)
        self.scenarios = load_scenarios(scenario_folders([Path(d) for d in config.get("scenarios_dirs") or []],
                                                         config.get("builtin_scenarios", True))).scenarios
        self.builder = _import(config.get("builder") or "harness.routes:build_route")
        self.lockstep_wait_s = float(config.get("lockstep_wait_s", 2.0))
        self.routes: dict[tuple[str, str], Route | Exception] = {}
        self.registry = ProbeRegistry()
        self.host = None  # a team's app the variants are mounted into (config "app"), see mounting.py
        if config.get("app"):
            from ..app.load import load_app, parse_spec
            from ..app.mount import AppHost

            self.host = AppHost(load_app(parse_spec(config["app"]["text"], config["app"]["app_dir"])), self.builder)
        reaper = config.get("reaper") or {}
        self.reaping = bool(reaper)
        if self.reaping:
            logging.getLogger(reaper["logger"]).addHandler(ReapWatch(self.registry))
            self.registry.reaper_alive = lambda: self._on_loop(lambda: reaper_scheduled(reaper["timer"])) is not False
        if config.get("control_port"):
            self.control = ControlServer(int(config["control_port"]), self.registry)
            self.control.start()
        self._reported = False
        if config.get("events_dir"):  # a server that sends no lifespan shutdown (daphne) still reports at exit
            atexit.register(self._exit_report)
        gc.disable()

    def _route(self, scenario_name: str, key: str) -> tuple[Route | Exception, str]:
        scenario = self.scenarios.get(scenario_name)
        if scenario is None:
            return LookupError(f"no scenario {scenario_name!r}"), ""
        base, _, context = key.partition("~")  # a context variant: <variant>~<context> (surround.py)
        variant: Variant | None = variant_by_url_key(base)
        if variant is None:
            return LookupError(f"no variant {key!r}"), ""
        variant = variant.with_context(context) if context else variant
        cache_key = (scenario_name, variant.id)
        if self.host is not None:
            try:
                return self.host.mount(scenario, variant, _open_source(scenario)), f"/h/{scenario_name}/{key}"
            except Exception as exc:  # reported to the client, as below
                return exc, ""
        if cache_key not in self.routes:
            try:
                self.routes[cache_key] = self.builder(scenario, variant, _open_source(scenario))
            except Exception as exc:  # reported to the client; the harness already knows from its own build
                self.routes[cache_key] = exc
        return self.routes[cache_key], f"/h/{scenario_name}/{key}"

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        if scope["type"] == "lifespan" and self.host is not None:
            await self._app_lifespan(scope, receive, send)
            return
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self._final_report()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        self.registry.loop = asyncio.get_running_loop()
        if scope["path"] == "/h/_ping":  # the latency probe's trivial route
            await ping_app(scope, receive, send)
            return
        parts = scope["path"].split("/", 4)
        if len(parts) < 4 or parts[1] != "h":
            await _plain(send, 404, "not a harness path")
            return
        route, prefix = self._route(parts[2], parts[3])
        if isinstance(route, Exception):
            await _plain(send, 500, f"{type(route).__name__}: {route}", [(b"x-harness-build-error", b"1")])
            return
        if self.host is not None:  # the same request, at the variant's path inside the team's app
            path = route.path[:len(route.path) - len(route.documented_path)] + scope["path"][len(prefix):]
            scope = {**scope, "path": path, "raw_path": path.encode("ascii")}
        else:
            from starlette.routing import Mount  # Starlette's own mount logic: right for every version

            _, child = Mount(prefix, app=route.app).matches(scope)
            scope = {**scope, **child}
        headers = dict(scope.get("headers") or [])
        rid = headers.get(b"x-harness-request", b"").decode()
        if not rid:
            await route.app(scope, receive, send)
            return
        await self._probed(route, rid, headers, scope, receive, send)

    async def _app_lifespan(self, scope, receive, send) -> None:
        """The team's app runs its own lifespan; the final report is written when the server asks for
        shutdown, before the app's shutdown runs (as without an app: the server stopped serving)."""
        async def receive_then_report() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await self._final_report()
            return message
        await self.host.app(scope, receive_then_report, send)

    def _on_loop(self, fn: Callable[[], Any]) -> Any:
        """``fn()`` run on the app's loop, from another thread: between two of its callbacks, never while
        the server's own timer runs (one that reschedules itself is unscheduled while it runs)."""
        async def run() -> Any:
            return fn()
        return asyncio.run_coroutine_threadsafe(run(), self.registry.loop).result(10.0)

    def _request_tasks(self) -> list[asyncio.Task]:
        return [t for t in (p.task for _, p in self.registry.items()) if t is not None]

    async def _final_report(self) -> None:
        """At lifespan shutdown (the server has stopped serving): settle, then one GC, then write every
        request's events to ``events_dir``, so the harness can read what was closed, and how, after
        the process is gone. The GC is recorded, so a close it caused counts as "with help"."""
        folder = self.config.get("events_dir")
        if not folder:
            return
        await settle(wait_for=self._request_tasks())  # no strong reference to them survives this line
        for rid, probe in self.registry.items():
            probe.recorder.add(GcRequested(probe.recorder.now()))
        gc.collect()
        await settle(wait_for=self._request_tasks())  # a collected async generator closes in its aclose()
        for rid, probe in self.registry.items():
            probe.recorder.add(GcDone(probe.recorder.now()))
        self._write_report(folder)

    def _exit_report(self) -> None:
        """At interpreter exit, when no lifespan shutdown wrote the report: the events as they stand (no
        settle, no GC: the loop is gone), so what the app did before a server exits is still read
        whole, not raced by the side channel (a process killed by a signal writes nothing)."""
        if not self._reported:
            self._write_report(self.config["events_dir"])

    def _write_report(self, folder: str) -> None:
        self._reported = True
        report = {}
        for rid, probe in self.registry.items():
            with probe.recorder._cond:
                report[rid] = [event_to_json(e) for e in probe.recorder.events]
        path = os.path.join(folder, f"final-{os.getpid()}.json")
        with open(path + ".tmp", "w") as fh:
            json.dump(report, fh)
        os.replace(path + ".tmp", path)

    async def _probed(self, route: Route, rid: str, headers: dict, scope, receive, send) -> None:
        probe = self.registry.get(rid)
        loop = probe.loop = asyncio.get_running_loop()
        probe.task_ref = weakref.ref(asyncio.current_task())
        kind, _, at = headers.get(b"x-harness-mode", b"normal").decode().partition(":")
        paced = headers.get(b"x-harness-lockstep", b"") == b"wire" and route.paced
        probe.gate = LockStep(probe.recorder, self.lockstep_wait_s,
                              raise_at=int(at) if Kind.parse(kind).rules.producer_raises and at else None)
        recorder = probe.recorder
        acked = asyncio.Event()
        recorder.on_change = lambda: loop.call_soon_threadsafe(acked.set)

        async def paced_send(message: dict[str, Any]) -> None:
            chunk = message.get("type") == "http.response.body" and bool(message.get("body"))
            if chunk:
                recorder.add(AppSent(recorder.now(), len(message["body"])))
                recorder.note_sent()
            elif message.get("type") == "http.response.body" and not message.get("more_body"):
                recorder.add(FinalSent(recorder.now()))
            await send(message)
            if chunk and paced and message.get("more_body"):
                n = recorder.sent
                while True:  # check and clear without an await between them: no lost wake-up
                    acked.clear()
                    if recorder.acked >= n or recorder.gone:
                        break
                    await acked.wait()
                if recorder.gone:  # see AFTER_GONE_PACE_S
                    await asyncio.sleep(AFTER_GONE_PACE_S)

        token = _CURRENT.set(probe)
        # one normal request at a time: its peak resident size is its own (see harness.engines.rss)
        baseline = rss.resident() if Kind.parse(kind) is Kind.NORMAL and rss.reset_peak() else None
        try:
            await route.app(scope, receive, paced_send)
        except BaseException as exc:  # recorded, then left to the server as it would be
            recorder.add(AppException(recorder.now(), type(exc).__name__, str(exc)))
            if self.reaping and isinstance(exc, Exception):  # what the server logs when it lets go
                probe.failed_id = id(exc)
            raise
        else:
            top = rss.peak()
            if baseline is not None and top is not None:  # before AppReturned: the client waits for that
                recorder.add(MemorySample(recorder.now(), baseline, top))
            recorder.add(AppReturned(recorder.now()))
        finally:
            _CURRENT.reset(token)


def _from_env() -> ProbeApp:
    return ProbeApp(json.loads(os.environ[ENV]))


class _NotConfigured:
    """What ``app`` is outside a server process started by the harness."""

    async def __call__(self, scope, receive, send) -> None:
        raise RuntimeError(f"harness.engines.server_app:app needs its configuration in ${ENV} (set by the server engines)")


# Built at import in the server process, so the control channel is up before the first request
# (some servers, daphne, send no lifespan events to start an app with).
app: Any = _from_env() if os.environ.get(ENV) else _NotConfigured()
