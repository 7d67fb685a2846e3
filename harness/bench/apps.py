"""The apps a benchmark compares: the raw ASGI limit, Starlette alone, and the conformance variants.

* ``raw``: an ASGI callable that sends the source's chunks itself; nothing can stream them cheaper
  in-process, so every other figure is a ratio to it.
* ``starlette``: a Starlette app whose route returns ``StreamingResponse`` over an async generator of
  the same chunks: what Starlette costs without FastAPI.
* a variant id (``def-noann-bytes-for-plain``): the conformance variant, compiled by
  ``routes.build_route`` from the same template, fed by the un-instrumented source.
"""

from __future__ import annotations

from typing import Any, Callable

from ..routes import PATH, build_route
from ..scenarios import Scenario
from ..variants import Variant, all_variants

__all__ = ["BASELINES", "RAW", "STARLETTE", "PATH", "bench_variants", "core_variants", "build_app",
           "BENCH_SCENARIO", "all_keys", "core_keys"]

RAW, STARLETTE = "raw", "starlette"
BASELINES = (RAW, STARLETTE)

# What build_route needs of a scenario here: the media type a `subclass` variant declares.
BENCH_SCENARIO = Scenario(name="bench", description="benchmark payload", factory=lambda: (b"",),
                          media_type="application/octet-stream", file=__file__)


def bench_variants() -> list[Variant]:
    """Every variant that can be written (the n/a points of the product cannot run)."""
    return [v for v in all_variants() if v.na_reason is None]


def core_variants() -> list[Variant]:
    """The axes that change the streaming path: function x chunk x loop (no annotation, plain class)."""
    return [v for v in bench_variants() if v.axis["annotation"] == "none" and v.axis["response"] == "plain"]


def all_keys() -> list[str]:
    """The baselines and every variant: the per-chunk overhead workload."""
    return [*BASELINES, *(v.id for v in bench_variants())]


def core_keys() -> list[str]:
    """The baselines and the core variants: the throughput and time-to-first-byte workloads."""
    return [*BASELINES, *(v.id for v in core_variants())]


def raw_app(source: Callable[[str], Any]):
    """The in-process limit: the same chunks, sent by hand."""
    async def app(scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        with source("bytes") as chunks:
            for chunk in chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    return app


def starlette_app(source: Callable[[str], Any]):
    """Starlette's ``StreamingResponse`` over an async generator, behind Starlette's router."""
    from starlette.applications import Starlette
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    async def chunks():
        with source("bytes") as it:
            for chunk in it:
                yield chunk

    async def endpoint(request):
        return StreamingResponse(chunks())

    return Starlette(routes=[Route(PATH, endpoint)])


def build_app(key: str, source: Callable[[str], Any]):
    """The app for ``key``: a baseline name or a variant id."""
    if key == RAW:
        return raw_app(source)
    if key == STARLETTE:
        return starlette_app(source)
    variant = {v.id: v for v in bench_variants()}.get(key)
    if variant is None:
        raise KeyError(f"no benchmark app {key!r}: a baseline ({', '.join(BASELINES)}) or a variant id")
    return build_route(BENCH_SCENARIO, variant, source).app
