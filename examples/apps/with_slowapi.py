"""slowapi's ``SlowAPIASGIMiddleware`` with a default limit: every route declared on the app is rate limited.

slowapi finds the route a request is for by walking ``app.routes`` for one with an ``.endpoint``; a
route declared with ``@app.get`` is one, so the limit applies and the middleware adds its
``X-RateLimit-*`` headers. To add them it holds ``http.response.start`` back until the first body
message, and then sends it again before every later one: a stream breaks after its first chunk (on
uvicorn: ``RuntimeError: Expected ASGI message 'http.response.body', but got
'http.response.start'``). A route included through an ``APIRouter`` has no ``.endpoint`` in FastAPI
0.165's route list, so slowapi does not find it and leaves it alone. Check it with::

    stream-harness run --app examples.apps.with_slowapi:app --engine all
"""

from __future__ import annotations

from fastapi import FastAPI
from slowapi import Limiter
from slowapi.middleware import SlowAPIASGIMiddleware, SlowAPIMiddleware
from slowapi.util import get_remote_address

app = FastAPI()
app.state.limiter = Limiter(key_func=get_remote_address, default_limits=["100000/minute"], headers_enabled=True)
app.add_middleware(SlowAPIASGIMiddleware)

# the older, BaseHTTPMiddleware flavour of the same middleware
base_http = FastAPI()
base_http.state.limiter = Limiter(key_func=get_remote_address, default_limits=["100000/minute"], headers_enabled=True)
base_http.add_middleware(SlowAPIMiddleware)


@app.get("/health")
@base_http.get("/health")
async def health() -> dict:
    return {"ok": True}
