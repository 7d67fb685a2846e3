"""Routes: one small FastAPI app per (scenario, variant), written the way the variant says.

Generated variants are real source code compiled from a template, so ``async def`` vs ``def``,
the annotation and ``yield from`` are exactly what Python and FastAPI see in a user's module. The
endpoint opens the scenario's resource in a ``with`` block, as the page's image samples do.
Reference variants are served by the page's own code (``page.py``).

``build_route`` has keyword hooks (``response_base``, ``endpoint_hook``, ``route_kwargs``) so the
harness's own tests can build deliberately broken "mutant" apps through the same path.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass
from typing import Any, Callable

from .scenarios import Scenario
from .variants import Variant

__all__ = ["Route", "build_route", "endpoint_source", "OpenSource"]

# Called by the route with the chunk type it iterates ("str" or "bytes"); returns the resource.
OpenSource = Callable[[str], Any]
PATH = "/stream"


@dataclass(frozen=True)
class Route:
    app: Any
    path: str
    opens_resource: bool  # the route opens the scenario's resource in a `with` block
    scenario: str = ""  # what it serves: set by the runner, read by server engines
    variant: str = ""
    openapi_path: str = "/openapi.json"  # where the app serves the OpenAPI document of this route
    documented_path: str = ""  # the route's path in that document, when it differs from ``path``
    method: str = "GET"  # SSE over POST (the SSE page's "SSE with POST")
    body: bytes = b""  # the request body sent with it
    headers: tuple[tuple[str, str], ...] = ()  # request headers the route needs (Last-Event-ID)


def endpoint_source(variant: Variant) -> str:
    """The Python source of the variant's path operation function."""
    a = variant.axis
    is_async = a["function"] == "async"
    annotation = ""
    if a["annotation"] != "none":
        item = a["chunk"] if a["annotation"] == "matching" else {"str": "bytes", "bytes": "str"}[a["chunk"]]
        annotation = f" -> {'AsyncIterable' if is_async else 'Iterable'}[{item}]"
    body = ("yield from chunks" if a["loop"] == "yield-from"
            else "for chunk in chunks:\n            yield chunk")
    return (f"{'async def' if is_async else 'def'} stream(){annotation}:\n"
            f"    with open_source({a['chunk']!r}) as chunks:\n"
            f"        {body}\n")


def _compile_endpoint(variant: Variant, open_source: OpenSource) -> Callable[..., Any]:
    namespace: dict[str, Any] = {"open_source": open_source, "AsyncIterable": AsyncIterable, "Iterable": Iterable}
    code = compile(endpoint_source(variant), f"<variant {variant.id}>", "exec")
    exec(code, namespace)  # noqa: S102 - our own template, no outside input
    return namespace["stream"]


class _TracedText(str):
    """The page's ``message``: a real ``str`` whose ``splitlines()`` yields the instrumented lines."""

    open_source: OpenSource

    def splitlines(self, keepends: bool = False):  # type: ignore[override]
        return self.open_source("str")


def build_route(scenario: Scenario, variant: Variant, open_source: OpenSource, *,
                response_base: type | None = None,
                endpoint_hook: Callable[[Callable[..., Any], Variant], Callable[..., Any]] | None = None,
                route_kwargs: dict[str, Any] | None = None) -> Route:
    """Build the app that serves ``variant`` of ``scenario`` at ``Route.path``."""
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse

    if variant.form != "raw":  # JSON Lines and Server-Sent Events: their own family (forms.py)
        from .forms import build_form_route

        return build_form_route(scenario, variant, open_source, response_base=response_base,
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
    endpoint = _compile_endpoint(variant, open_source)
    if endpoint_hook is not None:
        endpoint = endpoint_hook(endpoint, variant)
    app = FastAPI()
    app.get(PATH, response_class=response_class, **(route_kwargs or {}))(endpoint)
    return Route(app, PATH, opens_resource=True)
