"""Routes: one small FastAPI app per (scenario, variant), written the way the variant says.

Generated variants are real source code compiled from a template, so ``async def`` vs ``def``,
the annotation and ``yield from`` are exactly what Python and FastAPI see in a user's module. The
endpoint opens the scenario's resource in a ``with`` block, as the page's image samples do.
Reference variants are served by the page's own code (``page.py``).

``build_route`` has keyword hooks (``response_base``, ``endpoint_hook``, ``route_kwargs``) so the
harness's own tests can build deliberately broken "mutant" apps through the same path.

The ``declaration`` axis says how the route reaches the app: ``@app.get``, an ``APIRouter`` included
with a prefix, or a router included into a router (:func:`declared_path` says where it is served).
A variant's ``context`` puts something around the route (``surround.py``): a status code, a
dependency, a background task.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass
from typing import Any, Callable

from .scenarios import Scenario
from .variants import Variant

__all__ = ["Route", "build_route", "endpoint_source", "OpenSource", "declared_path", "declare"]

# Called by the route with the chunk type it iterates ("str" or "bytes"); returns the resource.
OpenSource = Callable[[str], Any]
PATH = "/stream"
# Where each declaration serves the route: the prefixes the routers are included with, then PATH.
DECLARED_PREFIX = {"app": "", "router": "/router", "nested": "/outer/inner"}


@dataclass(frozen=True)
class Route:
    app: Any
    path: str
    opens_resource: bool  # the route opens the scenario's resource in a `with` block
    scenario: str = ""  # what it serves: set by the runner, read by server engines
    variant: str = ""
    openapi_path: str = "/openapi.json"  # where the app serves the OpenAPI document of this route
    documented_path: str = ""  # the route's path in that document, when it differs from ``path``
    paced: bool = True  # a server's probe holds the route in lock-step (see server_app.py)
    method: str = "GET"  # SSE over POST (the SSE page's "SSE with POST")
    body: bytes = b""  # the request body sent with it
    headers: tuple[tuple[str, str], ...] = ()  # request headers the route needs (Last-Event-ID)


def declared_path(variant: Variant) -> str:
    """Where the variant's route is served in its app."""
    if variant.is_page:
        return variant.page_path or PATH
    return DECLARED_PREFIX[variant.axis.get("declaration", "app")] + PATH


def declare(app: Any, variant: Variant, endpoint: Callable[..., Any], **route_kwargs: Any) -> str:
    """Declare ``endpoint`` on ``app`` as the variant's declaration says; returns where it is served."""
    from fastapi import APIRouter

    how = variant.axis.get("declaration", "app")
    if how == "app":
        app.get(PATH, **route_kwargs)(endpoint)
    elif how == "router":
        router = APIRouter()
        router.get(PATH, **route_kwargs)(endpoint)
        app.include_router(router, prefix=DECLARED_PREFIX["router"])
    else:
        inner, outer = APIRouter(), APIRouter()
        inner.get(PATH, **route_kwargs)(endpoint)
        outer.include_router(inner, prefix="/inner")
        app.include_router(outer, prefix="/outer")
    return declared_path(variant)


def endpoint_source(variant: Variant, params: str = "", prologue: str = "") -> str:
    """The Python source of the variant's path operation function; a context route adds ``params``
    (injected by FastAPI) and a ``prologue`` line the generator runs first."""
    a = variant.axis
    is_async = a["function"] == "async"
    annotation = ""
    if a["annotation"] != "none":
        item = a["chunk"] if a["annotation"] == "matching" else {"str": "bytes", "bytes": "str"}[a["chunk"]]
        annotation = f" -> {'AsyncIterable' if is_async else 'Iterable'}[{item}]"
    body = ("yield from chunks" if a["loop"] == "yield-from"
            else "for chunk in chunks:\n            yield chunk")
    return (f"{'async def' if is_async else 'def'} stream({params}){annotation}:\n"
            + (f"    {prologue}\n" if prologue else "")
            + f"    with open_source({a['chunk']!r}) as chunks:\n"
            f"        {body}\n")


def _compile_endpoint(variant: Variant, open_source: OpenSource, params: str = "",
                      prologue: str = "") -> Callable[..., Any]:
    from fastapi import BackgroundTasks, Response

    namespace: dict[str, Any] = {"open_source": open_source, "AsyncIterable": AsyncIterable, "Iterable": Iterable,
                                 "Response": Response, "BackgroundTasks": BackgroundTasks}
    code = compile(endpoint_source(variant, params, prologue), f"<variant {variant.id}>", "exec")
    exec(code, namespace)  # noqa: S102 - our own template, no outside input
    return namespace["stream"]


class _TracedText(str):
    """The page's ``message``: a real ``str`` whose ``splitlines()`` yields the instrumented lines."""

    open_source: OpenSource

    def splitlines(self, keepends: bool = False):  # type: ignore[override]
        return self.open_source("str")


def _form_route(scenario: Scenario, variant: Variant, open_source: OpenSource, **options: Any) -> Route:
    """A jsonl or sse variant: the page's sample as the page writes it, or a generated one."""
    if variant.is_page:
        from .forms.samples import PAGE_REQUESTS, page_app

        path = variant.page_path
        request = PAGE_REQUESTS.get(path, {})
        return Route(page_app(scenario, variant, open_source), path, opens_resource=True,
                     method=variant.axis.get("method", "get").upper(), body=request.get("body", b""),
                     headers=tuple(request.get("headers", ())))
    from .forms import PATH
    from .forms.endpoints import form_app

    app, method = form_app(scenario, variant, open_source, **options)
    return Route(app, PATH, opens_resource=True, method=method)


def build_route(scenario: Scenario, variant: Variant, open_source: OpenSource, *,
                response_base: type | None = None,
                endpoint_hook: Callable[[Callable[..., Any], Variant], Callable[..., Any]] | None = None,
                route_kwargs: dict[str, Any] | None = None) -> Route:
    """Build the app that serves ``variant`` of ``scenario`` at ``Route.path``."""
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse

    if variant.form != "raw":  # JSON Lines and Server-Sent Events: their own family (forms/)
        return _form_route(scenario, variant, open_source, response_base=response_base,
                           endpoint_hook=endpoint_hook, route_kwargs=route_kwargs)
    if variant.is_page:
        from . import page

        if variant.page_path.startswith("/story/"):
            message = _TracedText("".join(scenario.chunks_as("str")))
            message.open_source = open_source
            return Route(page.story_app(message), variant.page_path, opens_resource=False)
        return Route(page.image_app(lambda: open_source("bytes")), variant.page_path, opens_resource=True)

    base = response_base or StreamingResponse
    response_class = base
    if variant.axis["response"] == "subclass":
        response_class = type("ScenarioStreamingResponse", (base,), {"media_type": scenario.media_type})
    kwargs = dict(route_kwargs or {})
    if variant.context:
        from .surround import context_route

        around = context_route(variant, scenario, open_source)
        endpoint = around.endpoint or _compile_endpoint(variant, open_source, around.params, around.prologue)
        kwargs = {**around.route_kwargs, **kwargs}
    else:
        endpoint = _compile_endpoint(variant, open_source)
    if endpoint_hook is not None:
        endpoint = endpoint_hook(endpoint, variant)
    app = FastAPI()
    path = declare(app, variant, endpoint, response_class=response_class, **kwargs)
    return Route(app, path, opens_resource=True, paced=not variant.context or around.paced)
