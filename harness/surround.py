"""What surrounds a streaming route: a status code, a dependency that sets headers or a status, a
background task, a dependency with ``yield``, a generator that never awaits.

A *context* is a named way of writing the code around a variant's route; ``Variant.with_context``
makes the context variant (id ``<variant>~<context>``) that the checks on the route's surroundings
request as a twin of the plain one, so no other check ever sees it. Everything a context does is
marked in the request's trace (:class:`harness.probes.Marks`, reached through ``open_source(MARKS)``):
a dependency's enter and exit, a background task's run, in order with the generator's steps and
with what was sent, in-process and in a server process alike.

Contexts are a registry (``@context("name")``): a function ``(variant, scenario, open_source) ->
ContextRoute`` saying what to add to the route's declaration and to its endpoint.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Callable

# At module level: the dependencies below are annotated with these names, resolved in this module.
from fastapi import BackgroundTasks, Depends, Response

from .modes import CUT_AT
from .probes import MARKS
from .scenarios import Scenario
from .variants import Variant

__all__ = ["ContextRoute", "context", "context_route", "CONTEXTS", "DECLARED_STATUS", "DEPENDENCY_STATUS",
           "DEPENDENCY_HEADER", "DEPENDENCY_COOKIE", "GENERATOR_HEADER", "NEVER_AWAITS_CHUNKS", "UNTIL_STOPPED_CAP",
           "UNTIL_STOPPED_PACE_S"]

DECLARED_STATUS = 201  # status_code= on the route
DEPENDENCY_STATUS = 206  # set on the injected Response by a dependency
DEPENDENCY_HEADER = ("x-harness-dependency", "set-by-dependency")
DEPENDENCY_COOKIE = ("harness-dependency", "set-by-dependency")
GENERATOR_HEADER = ("x-harness-generator", "set-in-generator-body")
# The never-awaiting generator's length: long enough that one still running after the client left is
# seen running on (a framework that delivers the cancellation stops it within a few chunks). It hands
# out the chunks the client reads before it leaves, then blocks its thread until the client has left
# (a condition, not an await: the loop gets no turn from it), so it cannot run to its end first on a
# server that does not hold it back (granian). After that, each chunk first blocks the thread this long
# (time.sleep, no checkpoint either): a server that learns of the disconnect a little late has about a
# second to tell the app, whatever the producer's speed.
NEVER_AWAITS_CHUNKS = 1000
AFTER_GONE_PACE_S = 0.001
HOLD_FOR_CUT_S = 2.0  # the longest the producer waits for the client to leave
# The shutdown twin (``never-awaits-until-stopped``): nobody leaves, so the generator goes on, each chunk
# first blocking its thread this long (no checkpoint: the loop gets a turn only from the framework), until
# it is stopped, or at the latest after this many chunks: at least 20 s, far beyond any server's graceful
# deadline (the harness kills a server still running 5 s after SIGTERM), so reaching it means no shutdown
# ever stopped it, and nothing runs forever.
UNTIL_STOPPED_PACE_S = 0.001
UNTIL_STOPPED_CAP = 20_000


@dataclass(frozen=True)
class ContextRoute:
    """What a context adds: route options, endpoint parameters and a first line, or its own endpoint."""

    route_kwargs: dict[str, Any] = field(default_factory=dict)
    params: str = ""  # parameters FastAPI injects into the variant's endpoint
    prologue: str = ""  # a line the variant's generator runs first (after the response has started)
    endpoint: Callable[..., Any] | None = None  # replaces the variant's endpoint
    paced: bool = True  # False: a server's probe does not hold it in lock-step


ContextFactory = Callable[[Variant, Scenario, Callable[[str], Any]], ContextRoute]
CONTEXTS: dict[str, ContextFactory] = {}


def context(name: str) -> Callable[[ContextFactory], ContextFactory]:
    def register(func: ContextFactory) -> ContextFactory:
        if name in CONTEXTS and CONTEXTS[name] is not func:
            raise ValueError(f"context {name!r} is already registered")
        CONTEXTS[name] = func
        return func
    return register


def context_route(variant: Variant, scenario: Scenario, open_source: Callable[[str], Any]) -> ContextRoute:
    factory = CONTEXTS.get(variant.context)
    if factory is None:
        raise LookupError(f"no context {variant.context!r}; contexts are: {', '.join(CONTEXTS)}")
    return factory(variant, scenario, open_source)


@context("status-declared")
def status_declared(variant, scenario, open_source) -> ContextRoute:
    """``status_code=201`` on the route."""
    return ContextRoute({"status_code": DECLARED_STATUS})


@context("status-dependency")
def status_dependency(variant, scenario, open_source) -> ContextRoute:
    """A dependency sets 206 on the injected ``Response``."""
    def set_status(response: Response) -> None:
        response.status_code = DEPENDENCY_STATUS
    return ContextRoute({"dependencies": [Depends(set_status)]})


@context("headers")
def headers(variant, scenario, open_source) -> ContextRoute:
    """A dependency sets a header and a cookie on the injected ``Response``; the generator sets a header
    on its own injected ``Response`` before its first chunk (a finding: it runs after the start)."""
    def set_headers(response: Response) -> None:
        response.headers[DEPENDENCY_HEADER[0]] = DEPENDENCY_HEADER[1]
        response.set_cookie(*DEPENDENCY_COOKIE)
    return ContextRoute({"dependencies": [Depends(set_headers)]}, params="response: Response",
                        prologue=f"response.headers[{GENERATOR_HEADER[0]!r}] = {GENERATOR_HEADER[1]!r}")


@context("background")
def background(variant, scenario, open_source) -> ContextRoute:
    """A background task added by a dependency, and one added by the route (in its generator: the only
    code a generator path operation runs)."""
    def add_task(background_tasks: BackgroundTasks) -> None:
        background_tasks.add_task(open_source(MARKS).mark, "background:dependency")
    return ContextRoute({"dependencies": [Depends(add_task)]}, params="background_tasks: BackgroundTasks",
                        prologue="background_tasks.add_task(open_source('marks').mark, 'background:route')")


def _session(open_source: Callable[[str], Any]) -> Callable[[], Any]:
    """The page's database session: a ``def`` dependency with ``yield`` that marks its enter and exit."""
    def session():
        marks = open_source(MARKS)
        marks.mark("dependency-enter")
        try:
            yield "session"
        finally:
            marks.mark("dependency-exit")
    return session


@context("teardown")
def teardown(variant, scenario, open_source) -> ContextRoute:
    """A ``yield`` dependency with the default scope: open while the response is sent."""
    return ContextRoute({"dependencies": [Depends(_session(open_source))]})


@context("teardown-function")
def teardown_function(variant, scenario, open_source) -> ContextRoute:
    """The same dependency with ``scope="function"``: closed before the response is sent."""
    return ContextRoute({"dependencies": [Depends(_session(open_source), scope="function")]})


def _never_awaiting(variant, scenario, open_source, produce) -> ContextRoute:
    """An ``async def`` endpoint that iterates ``produce(payload, marks)`` without a single await."""
    chunks = scenario.chunks_as(variant.axis["chunk"])
    payload = [c for c in chunks if c] or ["-" if variant.axis["chunk"] == "str" else b"-"]

    async def stream():
        marks = open_source(MARKS)
        source = marks.unpaced(lambda: produce(payload, marks))
        with source:
            for chunk in source:
                yield chunk
    return ContextRoute(endpoint=stream, paced=False)


@context("never-awaits")
def never_awaits(variant, scenario, open_source) -> ContextRoute:
    """An ``async def`` generator that never awaits (the shape of fastapi#14680, and of the page's own
    samples), long, and not held in lock-step: nothing but the framework gives the loop a turn."""
    def produce(payload, marks):
        for i, chunk in enumerate(itertools.islice(itertools.cycle(payload), NEVER_AWAITS_CHUNKS)):
            if i == CUT_AT:  # the client has what it reads before it leaves
                marks.wait_gone(HOLD_FOR_CUT_S)
            if marks.recorder.gone:
                time.sleep(AFTER_GONE_PACE_S)
            yield chunk
    return _never_awaiting(variant, scenario, open_source, produce)


@context("never-awaits-until-stopped")
def never_awaits_until_stopped(variant, scenario, open_source) -> ContextRoute:
    """The same generator for a client that never leaves (the server is stopped under it): it produces
    on, paced by blocking its thread, until it is stopped or reaches ``UNTIL_STOPPED_CAP``; how it was
    stopped (the exception thrown into it: ``GeneratorExit`` when closed) is marked ``stopped:<type>``."""
    def produce(payload, marks):
        try:
            for chunk in itertools.islice(itertools.cycle(payload), UNTIL_STOPPED_CAP):
                time.sleep(UNTIL_STOPPED_PACE_S)
                yield chunk
        except BaseException as exc:
            marks.mark(f"stopped:{type(exc).__name__}")
            raise
    return _never_awaiting(variant, scenario, open_source, produce)
