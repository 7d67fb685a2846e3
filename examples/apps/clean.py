"""A clean production-style stack: every Stream Data promise holds through it.

CORS and GZip from Starlette, a pure ASGI middleware (a request id on every response, written the
way Starlette's docs recommend: wrap ``send``, never the body), an exception handler, an app-level
dependency and a lifespan. Check it with::

    stream-harness run --app examples.apps.clean:app
    stream-harness run --app examples.apps.clean:create_app()      # the factory form
"""

from __future__ import annotations

import itertools
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse


class RequestIdMiddleware:
    """Pure ASGI: adds ``x-request-id`` to the response start and passes every message on as is."""

    def __init__(self, app) -> None:
        self.app = app
        self.ids = itertools.count(1)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(next(self.ids)).encode()

        async def send_with_id(message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id)]}
            await send(message)
        await self.app(scope, receive, send_with_id)


class TeamError(Exception):
    pass


async def current_user(request: Request) -> str:
    """An app-level dependency, as an auth layer would add (here everyone is a guest)."""
    request.state.user = request.headers.get("x-user", "guest")
    return request.state.user


def create_app() -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.ready = True  # where a team opens its pools and clients
        yield {"started": True}
        app.state.ready = False

    app = FastAPI(lifespan=lifespan, dependencies=[Depends(current_user)])
    app.add_middleware(GZipMiddleware, minimum_size=500)
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])
    app.add_middleware(RequestIdMiddleware)

    @app.exception_handler(TeamError)
    async def team_error(request: Request, exc: TeamError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=409)

    @app.get("/health")
    async def health() -> dict:
        return {"ok": app.state.ready}

    return app


app = create_app()
