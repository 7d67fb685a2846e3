"""The middleware FastAPI teams install from PyPI, through ``--app``: the verdict each must get, and why.

Each package runs in a process of its own (``stream-harness run``): sentry-sdk patches Starlette for
the whole process, and nothing it does may reach another test. A narrow selection keeps it quick:
the ``story`` scenario (text: what compression middleware compresses), an ``@app.get`` variant,
its router twin and a ``text/plain`` subclass, five checks. The versions are pinned in the
``ecosystem`` extra; the README's table "what popular middleware does to streams" is these runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import latest_results

pytestmark = [pytest.mark.ecosystem, pytest.mark.needs_feature]
ROOT = Path(__file__).resolve().parents[1]
CHECKS = "chunk-order,incremental-delivery,openapi,closure-on-error"
VARIANTS = ["async-ann-bytes-for-plain", "def-ann-bytes-for-plain-router", "async-ann-bytes-for-subclass"]


def run(spec: str, tmp_path: Path, engine: str = "asgi", checks: str = CHECKS) -> dict:
    out = tmp_path / "out"
    args = [sys.executable, "-m", "harness.cli", "run", "--app", f"examples.apps.{spec}", "--engine", engine,
            "--scenario", "story", "--no-page", "--check", checks, "--output-dir", str(out)
            ]
    for v in VARIANTS:
        args += ["--variant", v]
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    return json.loads(latest_results(out).read_text())


def verdicts(data: dict) -> dict[tuple[str, str], tuple[str, str | None]]:
    """(variant, check) -> (outcome through the app, who it is attributed to)."""
    return {(r["variant"], r["check"]): (r["outcome"], r["extra"].get("attributed_to"))
            for r in data["results"] if r["app"] != "bare"}


@pytest.mark.parametrize("spec, stack", [
    ("with_correlation_id:app", ["CorrelationIdMiddleware"]),
    ("with_prometheus:app", ["PrometheusInstrumentatorMiddleware"]),
    ("with_opentelemetry:app", ["OpenTelemetryMiddleware", "ExceptionHandlerMiddleware"]),
    ("with_brotli_asgi:app", ["BrotliMiddleware"]),
])
def test_pure_asgi_middleware_keeps_streams_streaming(spec, stack, tmp_path):
    """Pure ASGI middleware that passes each message on: every check holds, as bare. brotli-asgi
    answers the browser's Accept-Encoding in br, decoded message by message (no false alarm);
    OpenTelemetry is listed although it never appears in ``user_middleware``."""
    data = run(spec, tmp_path)
    assert data["run"]["app"]["middleware"] == stack
    got = verdicts(data)
    assert got and all(o == "pass" for o, _ in got.values()), got
    if spec.startswith("with_brotli"):
        assert all("Content-Encoding br" in r["detail"] for r in data["results"]
                   if r["app"] != "bare" and r["variant"].endswith("subclass"))


def test_sentry_patches_the_process_and_is_listed_and_bare_stays_clean(tmp_path):
    data = run("with_sentry:app", tmp_path)
    app = data["run"]["app"]
    assert any("sentry_sdk" in p for p in app["patched"]) and "fresh interpreter" in app["bare_in_process"]
    assert any("sentry_sdk" in m and "Starlette.__call__" in m for m in app["middleware"])
    assert all(o == "pass" for o, _ in verdicts(data).values())


def test_starlette_compress_holds_a_text_stream_back_in_zstd(tmp_path):
    """It answers zstd to a browser and buffers ``text/*`` to the end: the subclass (text/plain)
    fails incremental delivery, attributed to the app; a plain stream (no Content-Type) passes."""
    data = run("with_starlette_compress:app", tmp_path)
    got = verdicts(data)
    assert got[("async-ann-bytes-for-subclass", "incremental-delivery")] == ("fail", "app")
    assert got[("async-ann-bytes-for-plain", "incremental-delivery")] == ("pass", None)
    assert got[("async-ann-bytes-for-subclass", "openapi")][0] == "pass"  # its zstd document decodes
    detail = next(r["detail"] for r in data["results"] if r["app"] != "bare"
                  and r["variant"] == "async-ann-bytes-for-subclass" and r["check"] == "incremental-delivery")
    assert "Content-Encoding zstd" in detail


@pytest.mark.parametrize("engine", ["asgi", "uvicorn"])
def test_slowapi_asgi_middleware_breaks_streams_declared_with_app_get(engine, tmp_path):
    """It sends ``http.response.start`` again before every body message of a route it finds. It finds
    ``@app.get`` routes, and routes of an included router only where ``include_router`` copies them
    into the app's routes (before FastAPI kept an included router as one entry): there the router twin
    breaks too, elsewhere it passes."""
    got = verdicts(run("with_slowapi:app", tmp_path, engine, checks="chunk-order"))
    assert got[("async-ann-bytes-for-plain", "chunk-order")] == ("fail", "app")
    router = ("pass", None) if _routers_included_lazily() else ("fail", "app")
    assert got[("def-ann-bytes-for-plain-router", "chunk-order")] == router


def _routers_included_lazily() -> bool:
    """Whether this FastAPI keeps an included router as one entry of the app's routes (no APIRoute
    with an ``.endpoint`` for a route-aware middleware to find)."""
    from fastapi import APIRouter, FastAPI
    from fastapi.routing import APIRoute

    app, router = FastAPI(), APIRouter()
    router.get("/x")(lambda: None)
    app.include_router(router, prefix="/p")
    return not any(isinstance(r, APIRoute) and r.path == "/p/x" for r in app.router.routes)


@pytest.mark.parametrize("spec", ["with_slowapi:base_http", "with_starlette_context:app"])
def test_base_http_middleware_makes_a_stream_that_raised_look_complete(spec, tmp_path):
    got = verdicts(run(spec, tmp_path, checks="closure-on-error,chunk-order"))
    assert all(got[(v, "closure-on-error")] == ("fail", "app") for v in VARIANTS)
    assert all(got[(v, "chunk-order")][0] == "pass" for v in VARIANTS)
