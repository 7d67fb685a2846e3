"""A generated form variant as real source: its path operation function, compiled into its own small
FastAPI app (the route itself is made by ``routes.build_route``, as for raw)."""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable
from typing import Any, Callable

from ..variants import Variant
from . import PATH, item_model
from .keepalive import fast_keepalive

__all__ = ["endpoint_source", "form_app"]


def endpoint_source(variant: Variant) -> str:
    """The Python source of a form variant's path operation function."""
    a = variant.axis
    is_async = a["function"] == "async"
    kind = a.get("item", "data")
    annotation = ""
    if a["annotation"] != "none":
        item = {"model": "ServerSentEvent" if kind != "data" else "Item", "plain": "dict"}[a["annotation"]]
        annotation = f" -> {'AsyncIterable' if is_async else 'Iterable'}[{item}]"
    body = ("yield from items" if a["loop"] == "yield-from" else "for item in items:\n            yield item")
    return (f"{'async def' if is_async else 'def'} stream(){annotation}:\n"
            f"    with open_source({variant.form + ':' + kind!r}) as items:\n"
            f"        {body}\n")


def form_app(scenario, variant: Variant, open_source: Callable[[str], Any], *,
             response_base: type | None = None,
             endpoint_hook: Callable[[Callable[..., Any], Variant], Callable[..., Any]] | None = None,
             route_kwargs: dict[str, Any] | None = None) -> tuple[Any, str]:
    """The small ASGI app serving a generated jsonl or sse variant of ``scenario`` at :data:`PATH`, and
    the HTTP method it answers."""
    from fastapi import FastAPI

    namespace: dict[str, Any] = {"open_source": open_source, "AsyncIterable": AsyncIterable, "Iterable": Iterable,
                                 "Item": item_model()}
    kwargs: dict[str, Any] = {}
    if variant.form == "sse":
        from fastapi.sse import EventSourceResponse, ServerSentEvent  # ImportError before 0.135.0: the gate says so

        namespace["ServerSentEvent"] = ServerSentEvent
        kwargs["response_class"] = response_base or EventSourceResponse
    elif response_base is not None:
        kwargs["response_class"] = response_base
    if scenario.status_code != 200:
        kwargs["status_code"] = scenario.status_code
    code = compile(endpoint_source(variant), f"<variant {variant.id}>", "exec")
    exec(code, namespace)  # noqa: S102 - our own template, no outside input
    endpoint = namespace["stream"]
    if endpoint_hook is not None:
        endpoint = endpoint_hook(endpoint, variant)
    app = FastAPI()
    method = variant.axis.get("method", "get")
    getattr(app, method)(PATH, **kwargs, **(route_kwargs or {}))(endpoint)
    return (fast_keepalive(app) if "keepalive" in scenario.tags else app), method.upper()
