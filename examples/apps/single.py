"""One middleware at a time, as Starlette and FastAPI ship them, each passing everything through:
what the closing notes of the README report per check. Each factory builds an app with exactly one
middleware::

    stream-harness run --app 'examples.apps.single:gzip()'
    stream-harness run --app 'examples.apps.single:cors()'
    stream-harness run --app 'examples.apps.single:base_http()'        # a BaseHTTPMiddleware subclass
    stream-harness run --app 'examples.apps.single:http_decorator()'   # @app.middleware("http")
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from starlette.middleware.base import BaseHTTPMiddleware


def gzip() -> FastAPI:
    app = FastAPI()
    app.add_middleware(GZipMiddleware, minimum_size=500)
    return app


def cors() -> FastAPI:
    app = FastAPI()
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])
    return app


class PassThrough(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next):
        response = await call_next(request)
        response.headers["x-seen-by"] = "pass-through"
        return response


def base_http() -> FastAPI:
    app = FastAPI()
    app.add_middleware(PassThrough)
    return app


def http_decorator() -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def add_header(request: Request, call_next):
        response = await call_next(request)
        response.headers["x-seen-by"] = "decorator"
        return response
    return app
