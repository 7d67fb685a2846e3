"""Mounting the variant routes into a team's own app, under one reserved prefix.

Every (scenario, variant) gets ``/_stream_harness/<scenario>/<variant-key>``; a request there passes
the app's real middleware, exception handlers and (for FastAPI) app-level dependencies, because the
route is one of the app's own routes:

- FastAPI app: each path operation is declared on the team's app the way the variant declares it
  (its ``declaration`` axis, so each way is a result of its own): one declared with ``@app.get`` is
  declared again on the team's app with ``app.router.add_api_route`` (what ``@app.get`` does: an
  ``APIRoute`` in ``app.router.routes`` with its ``.endpoint``, which route-aware middleware such as
  slowapi looks up); one declared through an ``APIRouter`` reaches it through ``include_router``
  (FastAPI 0.165 keeps an included router as one entry of the app's routes, whose effective routes
  are resolved per request). Either way the app's ``dependencies=`` apply, as to any route the team
  writes. Plus the variant's OpenAPI document at ``<prefix>/openapi.json`` (FastAPI's document for
  that route alone: the app's own one may be disabled, elsewhere, or cached before the harness added
  its routes).
- Starlette app: the variant's small FastAPI app is mounted (``Mount``) at the prefix.

The new routes go first in the router, so a catch-all route of the app cannot shadow them; the
app's own routes stay as they are, in their order. Routes are built once per (scenario, variant),
with a chunk source that reads the current request's recorder from a context variable: the
in-process engine sets it per request through :class:`BoundApp`, the server probe through its own.
"""

from __future__ import annotations

import contextvars
import dataclasses
import threading
from typing import Any, Callable

from .load import LoadedApp
from ..routes import OpenSource, Route, build_route
from ..scenarios import Scenario
from ..variants import Variant, url_key

__all__ = ["PREFIX", "AppHost", "BoundApp", "mount_prefix"]

PREFIX = "/_stream_harness"
_SOURCE: contextvars.ContextVar[OpenSource] = contextvars.ContextVar("harness_app_source")


def mount_prefix(scenario: str, variant_id: str) -> str:
    return f"{PREFIX}/{scenario}/{url_key(variant_id)}"


def _current_source(chunk_type: str) -> Any:
    return _SOURCE.get()(chunk_type)


class BoundApp:
    """The team's app, called with this request's chunk source in the context."""

    def __init__(self, app: Any, open_source: OpenSource) -> None:
        self.app, self.open_source = app, open_source

    async def __call__(self, scope, receive, send) -> None:
        token = _SOURCE.set(self.open_source)
        try:
            await self.app(scope, receive, send)
        finally:
            _SOURCE.reset(token)


# What ``include_router`` copied from each route before FastAPI 0.165 made inclusion lazy: everything
# a path operation was declared with (``route_class_override`` is the route's own class).
_DECLARED_WITH = ("response_model", "status_code", "tags", "dependencies", "summary", "description",
                  "response_description", "responses", "deprecated", "methods", "operation_id",
                  "response_model_include", "response_model_exclude", "response_model_by_alias",
                  "response_model_exclude_unset", "response_model_exclude_defaults", "response_model_exclude_none",
                  "response_class", "name", "callbacks", "openapi_extra", "generate_unique_id_function",
                  "strict_content_type", "max_body_size")


def _declare_on_app(target: Any, prefix: str, route: Any) -> None:
    """Declare ``route`` (an ``APIRoute`` of the variant's small app) on the team's app as ``@app.get``
    does: ``add_api_route`` on ``app.router``, so the team's app-level dependencies apply and the route
    is an ``APIRoute`` with its ``.endpoint`` among the app's routes."""
    import inspect

    accepted = inspect.signature(target.router.add_api_route).parameters
    kwargs = {k: getattr(route, k) for k in _DECLARED_WITH if k in accepted and hasattr(route, k)}
    if "route_class_override" in accepted:
        kwargs["route_class_override"] = type(route)
    target.router.add_api_route(prefix + route.path, route.endpoint, include_in_schema=False, **kwargs)


def _insert_first(target: Any, prefix: str, small: Any) -> None:
    """Add ``small``'s routes to ``target`` under ``prefix``, ahead of the app's own routes."""
    from fastapi import FastAPI
    from fastapi.routing import APIRoute, APIRouter
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route

    routes = target.router.routes
    before = len(routes)
    if isinstance(target, FastAPI) and isinstance(small, FastAPI):
        # the variant's path operations, not the small app's own /openapi.json and /docs; a route declared
        # through a router is an included router there (FastAPI 0.165 includes routers lazily), kept as it is
        own = [r for r in small.router.routes if isinstance(r, Route) and not isinstance(r, APIRoute)]
        direct = [r for r in small.router.routes if isinstance(r, APIRoute)]  # declared with @app.get
        included = [r for r in small.router.routes if r not in own and r not in direct]
        for route in direct:
            _declare_on_app(target, prefix, route)
        if included:
            target.include_router(APIRouter(routes=included), prefix=prefix,
                                  include_in_schema=False)  # the team's own document is theirs

        async def openapi(request) -> JSONResponse:
            return JSONResponse(small.openapi())
        target.router.add_route(prefix + "/openapi.json", openapi, include_in_schema=False)
    else:
        routes.append(Mount(prefix, app=small))
    added = routes[before:]
    del routes[before:]
    routes[0:0] = added


class AppHost:
    """The team's app with the variants mounted on demand; thread-safe, each variant once."""

    def __init__(self, loaded: LoadedApp, builder: Callable[..., Route] = build_route) -> None:
        self.loaded, self.base_builder = loaded, builder
        self._mounted: dict[tuple[str, str], Route | Exception] = {}
        self._lock = threading.Lock()

    @property
    def app(self) -> Any:
        return self.loaded.app

    def mount(self, scenario: Scenario, variant: Variant, open_source: OpenSource) -> Route:
        """The variant's route inside the app (``app`` is the app as given, ``path`` under the prefix).
        A variant the installed FastAPI cannot declare raises, every time it is asked for."""
        key = (scenario.name, variant.id)
        with self._lock:
            if key not in self._mounted:
                try:
                    bare = self.base_builder(scenario, variant, open_source)
                    prefix = mount_prefix(scenario.name, variant.id)
                    _insert_first(self.loaded.target, prefix, bare.app)
                    self._mounted[key] = dataclasses.replace(
                        bare, app=self.loaded.app, path=prefix + bare.path, openapi_path=prefix + "/openapi.json",
                        documented_path=bare.documented_path or bare.path)
                except Exception as exc:  # remembered: the runner reports it as the variant's build error
                    self._mounted[key] = exc
            got = self._mounted[key]
        if isinstance(got, Exception):
            raise got
        return got

    def builder(self, scenario: Scenario, variant: Variant, open_source: OpenSource) -> Route:
        """A route builder for the runner: the mounted route, bound to this request's source."""
        route = self.mount(scenario, variant, _current_source)
        return dataclasses.replace(route, app=BoundApp(route.app, open_source))
