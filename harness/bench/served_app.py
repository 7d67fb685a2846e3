"""The ASGI app a benchmark server process runs: every benchmarked app, un-instrumented.

Started as ``harness.bench.served_app:app`` with its configuration (JSON) in ``STREAM_HARNESS_SERVE``,
as the harness's server engines do: ``{"file": path, "keys": [...]}``. It serves
``/<workload>/<key>/stream`` for workload ``throughput`` (the file, 64 KiB chunks) and ``ttfb`` (the
slow producer), key ``raw``, ``starlette`` or a variant id; each app is built once, at start.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..engines.server_app import ENV
from .apps import PATH, build_app
from .sources import FileChunks, SlowChunks

__all__ = ["BenchApp", "app", "bench_path"]


def bench_path(workload: str, key: str) -> str:
    return f"/{workload}/{key}{PATH}"


class BenchApp:
    def __init__(self, config: dict[str, Any]) -> None:
        sources = {"throughput": FileChunks(config["file"]), "ttfb": SlowChunks()}
        self.apps = {bench_path(w, k): build_app(k, s) for w, s in sources.items() for k in config["keys"]}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        target = self.apps.get(scope["path"])
        if target is None:
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b"no such benchmark app", "more_body": False})
            return
        await target({**scope, "path": PATH, "raw_path": PATH.encode()}, receive, send)


class _NotConfigured:
    """What ``app`` is outside a server process started by ``bench.server``."""

    async def __call__(self, scope, receive, send) -> None:
        raise RuntimeError(f"harness.bench.served_app:app needs its configuration in ${ENV} (set by bench.server)")


app: Any = BenchApp(json.loads(os.environ[ENV])) if os.environ.get(ENV) else _NotConfigured()
