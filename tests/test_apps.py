"""--app: the variants through a team's own app and its middleware stack, bare beside it.

The examples in examples/apps/ are the evidence: the clean stack passes everything, the body
logger that buffers fails incremental delivery, attributed to the app, in-process and on uvicorn.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.app.attribute import APP, FASTAPI
from harness.cli import main
from harness.options import Selection
from harness.outcomes import BARE, Outcome
from harness.reports import json as json_report
from harness.session import open_session
from harness.app.attribute import attribute
from harness.installed import versions

from .helpers import latest_results

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.needs_feature
ROOT = Path(__file__).resolve().parents[1]
CLEAN, BUFFERING = "examples.apps.clean:app", "examples.apps.buffering:app"
# one async and one def route of the page's image, in the two response styles
TWO_VARIANTS = ["annotation=matching", "loop=for", "chunk=bytes", "declaration=app"]


def run_app(app: str, *, engines=("asgi",), scenarios=("png",), checks=(), variants=TWO_VARIANTS,
            include_page: bool = False, app_dir: str | None = str(ROOT)):
    selection = Selection(scenarios=list(scenarios), checks=list(checks), variants=list(variants),
                          engines=list(engines), include_page=include_page, app=app, app_dir=app_dir)
    session = open_session(selection)
    results = []
    try:
        for _, _, runner in session.runs():
            runner.lockstep_wait_s = 0.5  # a buffering app costs one wait per def request
            results += runner.run(session.cases)
        results = session.confirm_differences(results)
    finally:
        session.close()
    return session, attribute(results, versions()["fastapi"], session.app.describe())


def _through(results):
    return [r for r in results if r.app != BARE]


def test_the_clean_stack_passes_everything_in_process_and_says_what_it_decoded():
    session, results = run_app(CLEAN, scenarios=("png", "story"), include_page=True, variants=[])
    through = _through(results)
    assert through and all(r.app == CLEAN for r in through)
    assert {r.outcome for r in through} <= {Outcome.PASS, Outcome.NON_STRICT, Outcome.NA, Outcome.INFORMATIONAL}
    assert not [r for r in through if r.extra.get("attributed_to") == APP], "the clean stack changed an outcome"
    plain = [r for r in through if r.check == "chunk-order" and r.axes.get("response") == "plain"
             and r.outcome is Outcome.PASS]
    assert plain and all("decoded from Content-Encoding gzip" in r.detail for r in plain)  # GZip compressed it
    typed = [r for r in through if r.check == "content-type" and r.axes.get("response") == "subclass"
             and r.outcome is not Outcome.NA]
    assert all(r.outcome is Outcome.PASS for r in typed)  # compressed, and the type neither hidden nor changed
    assert any("Content-Type: text/plain" in r.detail and "gzip" in r.detail for r in typed)
    # the same trouble bare is FastAPI's, not the stack's
    assert all(r.extra["attributed_to"] == FASTAPI for r in through if r.outcome is Outcome.NON_STRICT)
    assert session.app.middleware == ["RequestIdMiddleware", "CORSMiddleware", "GZipMiddleware"]


def test_the_buffering_logger_fails_incremental_delivery_attributed_to_the_app():
    _, results = run_app(BUFFERING, checks=["incremental-delivery", "content-type", "no-json-coercion"])
    through = {(r.variant, r.check): r for r in _through(results)}
    bare = {(r.variant, r.check): r for r in results if r.app == BARE}
    for (variant, check), r in through.items():
        if check == "incremental-delivery":
            assert r.outcome is Outcome.FAIL and bare[(variant, check)].outcome is Outcome.PASS, r.detail
            assert r.extra["attributed_to"] == APP
            assert "holds on bare FastAPI" in r.detail and "fails through your app" in r.detail
            assert "BodyLoggingMiddleware (BaseHTTPMiddleware) > CORSMiddleware" in r.detail
        else:  # the bytes and the type survive the buffering: those checks still hold
            assert r.outcome is Outcome.PASS, r.detail


@pytest.mark.parametrize("app, expect", [(CLEAN, Outcome.PASS), (BUFFERING, Outcome.FAIL)])
def test_both_examples_on_a_real_server(app, expect):
    _, results = run_app(app, engines=("uvicorn",), checks=["incremental-delivery", "chunk-order", "framing"])
    through = _through(results)
    assert {r.engine for r in through} == {"uvicorn"} and len(through) == 2 * 2 * 3
    for r in through:
        if r.check == "incremental-delivery" or expect is Outcome.PASS:
            assert r.outcome is expect, r.detail
    if expect is Outcome.FAIL:
        assert all(r.extra["attributed_to"] == APP for r in through if r.outcome is Outcome.FAIL)
    else:
        assert any("decoded from Content-Encoding gzip" in r.detail for r in through)


def test_cli_through_an_app_writes_the_app_into_results_and_prints_the_attribution(tmp_path, capsys):
    rc = main(["run", "--app", BUFFERING, "--app-dir", str(ROOT), "--scenario", "story", "--no-page",
               "--check", "incremental-delivery", "--variant", "function=async", "--output-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 1
    assert "via examples.apps.buffering:app" in out
    assert "middleware outermost first: BodyLoggingMiddleware (BaseHTTPMiddleware) > CORSMiddleware" in out
    assert "incremental-delivery [asgi]: holds on bare FastAPI" in out and "through your app: your stack" in out
    info, results = json_report.load(latest_results(tmp_path))
    assert info["app"]["text"] == BUFFERING and info["app"]["middleware"][0].startswith("BodyLoggingMiddleware")
    assert {r.app for r in results} == {BUFFERING, BARE}


def test_old_results_files_without_the_app_field_still_load(tmp_path):
    rc = main(["run", "--scenario", "story", "--check", "openapi", "--no-page", "--output-dir", str(tmp_path)])
    assert rc == 0
    path = latest_results(tmp_path)
    data = json.loads(path.read_text())
    for record in data["results"]:
        del record["app"]
    path.write_text(json.dumps(data))
    _, results = json_report.load(path)
    assert results and {r.app for r in results} == {BARE}


def _write(folder: Path, name: str, text: str) -> None:
    (folder / f"{name}.py").write_text(textwrap.dedent(text))


@pytest.fixture
def apps(tmp_path):
    _write(tmp_path, "broken_import", "import definitely_not_a_module_here\n")
    _write(tmp_path, "raises", "raise RuntimeError('no config file')\n")
    _write(tmp_path, "things", """
        from contextlib import asynccontextmanager
        from fastapi import FastAPI

        number = 42

        def create_app():
            return FastAPI()

        def broken_factory():
            raise ValueError("DATABASE_URL is not set")

        @asynccontextmanager
        async def failing(app):
            raise ConnectionError("cannot reach the database")
            yield

        failing_lifespan = FastAPI(lifespan=failing)

        async def bare_asgi(scope, receive, send):
            pass
        """)
    return tmp_path


@pytest.mark.parametrize("spec, words", [
    ("nosuchmodule:app", ["module 'nosuchmodule' was not found", "expected MODULE:ATTR"]),
    ("broken_import:app", ["importing module 'broken_import' failed", "definitely_not_a_module_here"]),
    ("raises:app", ["importing module 'raises' raised RuntimeError: no config file"]),
    ("things:nope", ["has no attribute 'nope'", "it has: ", "create_app"]),
    ("things:number", ["things:number", "is a builtins.int object, not an ASGI app", "expected an object called as"]),
    ("things:create_app", ["is a function create_app()", "write --app things:create_app()"]),
    ("things:broken_factory()", ["calling the factory broken_factory() raised ValueError: DATABASE_URL is not set"]),
    ("things:number()", ["'number' is a int, not a function to call"]),
    ("things:bare_asgi", ["neither it nor its `.app` chain is a FastAPI or Starlette app"]),
    ("things:failing_lifespan", ["lifespan startup failed", "ConnectionError: cannot reach the database",
                                 "expected its lifespan to start"]),
    ("not a spec", ["is not an app reference", "MODULE:FACTORY()"]),
])
def test_bad_apps_exit_2_with_one_paragraph_and_no_traceback(apps, spec, words, capsys):
    assert main(["run", "--app", spec, "--app-dir", str(apps), "--no-write"]) == 2
    err = capsys.readouterr().err
    for word in words:
        assert word in err, err
    assert "Traceback" not in err and err.count("\n") == 1, err  # one paragraph, one line


def test_debug_shows_the_traceback_of_what_the_app_raised(apps, capsys):
    assert main(["run", "--app", "things:broken_factory()", "--app-dir", str(apps), "--no-write", "--debug"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "DATABASE_URL is not set" in err and 'raise ValueError' in err


def test_a_missing_app_dir_is_named(tmp_path, capsys):
    assert main(["run", "--app", "x:app", "--app-dir", str(tmp_path / "nope"), "--no-write"]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_the_console_script_exits_2_without_a_traceback(apps):
    exe = Path(sys.executable).parent / "stream-harness"
    if not exe.exists():
        pytest.skip("console script not installed")
    proc = subprocess.run([str(exe), "--app", "things:broken_factory()", "--app-dir", str(apps), "--no-write"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "DATABASE_URL" in proc.stderr


_TEAM_APP = '''
from fastapi import FastAPI
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import Response


class Logger(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        response = await call_next(request)
        body = b"".join([c async for c in response.body_iterator])
        return Response(body, status_code=response.status_code, headers=dict(response.headers))


app = FastAPI()
app.add_middleware(Logger)
'''


def test_pytest_with_one_option_collects_the_matrix_through_the_app_and_the_fixture_gives_results(pytester):
    pytester.makepyfile(team_app_plugin=_TEAM_APP)
    pytester.makepyfile(test_team='''
        def test_own_assertions(stream_app_results):
            assert stream_app_results.app == "team_app_plugin:app"
            assert stream_app_results.middleware == ["Logger (BaseHTTPMiddleware)"]
            mine = stream_app_results.problems_in_app()
            assert mine and {r.check for r in mine} == {"incremental-delivery"}
            assert all(r.app == "team_app_plugin:app" for r in stream_app_results.through_app)
            assert stream_app_results.bare and {r.outcome.value for r in stream_app_results.bare} == {"pass", "n/a"}
        ''')
    result = pytester.runpytest("-p", "no:cacheprovider", "--stream-app", "team_app_plugin:app",
                                "--stream-scenario=story", "--stream-check=incremental-delivery",
                                "--stream-variant=function=async", "--stream-variant=annotation=none",
                                "--stream-variant=declaration=app", "--stream-no-page", "-rf")
    outcomes = result.parseoutcomes()  # 4 async noann variants fail, 4 are n/a (yield from); the fixture's test passes
    assert (outcomes["passed"], outcomes["failed"], outcomes["inapplicable"]) == (1, 4, 4), outcomes
    result.stdout.fnmatch_lines(["*story/async-noann-*incremental-delivery through team_app_plugin:app*",
                                 "*holds on bare FastAPI*fails through your app*Logger (BaseHTTPMiddleware)*"])


def test_pytest_refuses_a_broken_app_before_collecting(pytester):
    result = pytester.runpytest("-p", "no:cacheprovider", "--stream-app", "no_such_team_module:app")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*module 'no_such_team_module' was not found*"])


_STACKS = '''
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, HTTPException, Request
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route

EVENTS = []


@asynccontextmanager
async def lifespan(app):
    EVENTS.append("startup")
    yield {"db": "connected"}
    EVENTS.append("shutdown")


async def needs_lifespan_state(request: Request):
    if getattr(request.state, "db", None) != "connected":  # the lifespan ran first, its state is given
        raise HTTPException(503, "no database")


async def catch_all(request):
    return PlainTextResponse("the team's own catch-all", status_code=404)


fastapi_app = FastAPI(lifespan=lifespan, dependencies=[Depends(needs_lifespan_state)])
fastapi_app.add_api_route("/{anything:path}", catch_all)

starlette_app = Starlette(routes=[Route("/{anything:path}", catch_all)],
                          middleware=[Middleware(GZipMiddleware, minimum_size=1)], lifespan=lifespan)


class Outer:
    """A pure ASGI middleware wrapping the app object."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


wrapped = Outer(FastAPI())

@wrapped.app.middleware("http")
async def timing(request, call_next):
    return await call_next(request)
'''


@pytest.fixture
def stacks(tmp_path):
    (tmp_path / "team_stacks.py").write_text(_STACKS)
    yield tmp_path
    sys.modules.pop("team_stacks", None)


@pytest.mark.parametrize("attr", ["fastapi_app", "starlette_app", "wrapped"])
def test_supported_apps_get_the_variants_and_keep_their_own_routes(stacks, attr):
    session, results = run_app(f"team_stacks:{attr}", app_dir=str(stacks),
                               checks=["chunk-order", "no-json-coercion", "content-type", "openapi"])
    through = _through(results)
    assert through and all(r.outcome is Outcome.PASS for r in through), [r.detail for r in through
                                                                         if r.outcome is not Outcome.PASS]
    import team_stacks

    app = getattr(team_stacks, attr)
    target = app.app if attr == "wrapped" else app
    if attr != "wrapped":  # the team's catch-all is still there, last: the variants went in ahead of it
        assert [getattr(r, "path", None) for r in target.router.routes][-1] == "/{anything:path}"
        assert len(target.router.routes) > 1
    if attr == "wrapped":
        assert session.app.middleware == ["Outer (pure ASGI, wraps the app object)",
                                          "timing (@app.middleware('http'), a BaseHTTPMiddleware)"]
    else:  # the lifespan ran around the run (once for the load check, once on the engine's loop)
        assert team_stacks.EVENTS == ["startup", "shutdown", "startup", "shutdown"]


def test_on_a_server_the_app_runs_its_lifespan_and_serves_the_variants_and_their_openapi(stacks):
    """The server process imports the app, mounts the variants in it and runs its lifespan: the
    dependency that needs the lifespan's state lets every request through."""
    _, results = run_app("team_stacks:fastapi_app", app_dir=str(stacks), engines=("uvicorn",),
                         checks=["chunk-order", "openapi", "framing"])
    through = _through(results)
    assert len(through) == 2 * 2 * 3 and all(r.outcome is Outcome.PASS for r in through), \
        [r.detail for r in through if r.outcome is not Outcome.PASS]


def test_a_route_the_app_rejects_fails_through_it_and_is_attributed_to_it(stacks):
    """The dependency that needs the lifespan's state rejects requests made without a lifespan: the
    in-process engine that skipped it would be caught (here the app is called with no lifespan)."""
    from harness.app.load import load_app, parse_spec
    from harness.checks import get_checks
    from harness.engines import get_engine
    from harness.app.mount import AppHost
    from harness.runner import Runner

    from .helpers import SCENARIOS, variant

    loaded = load_app(parse_spec("team_stacks:fastapi_app", stacks))
    with Runner(get_engine("asgi"), get_checks(["chunk-order"]), builder=AppHost(loaded).builder) as runner:
        from harness.runner import Case
        (result,) = runner.judge(Case(SCENARIOS["png"], variant("def-ann-bytes-for-plain")))
    assert result.outcome is Outcome.FAIL and "Unexpected status" in result.detail and "503" in result.detail


_FLAKY = """
from fastapi import FastAPI


class CompletesTheFirstFailure:
    \"\"\"Ends the response normally the first time a path fails mid-stream, re-raises after: a
    difference from bare that does not repeat.\"\"\"

    def __init__(self, app):
        self.app, self.failed = app, set()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracking(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)
        try:
            await self.app(scope, receive, tracking)
        except Exception:
            if not started or scope["path"] in self.failed:
                raise
            self.failed.add(scope["path"])
            await send({"type": "http.response.body", "body": b"", "more_body": False})


app = FastAPI()
app.add_middleware(CompletesTheFirstFailure)
"""


def test_a_difference_on_a_timed_check_is_measured_again_and_only_a_repeated_one_is_attributed(tmp_path):
    (tmp_path / "team_flaky.py").write_text(_FLAKY)
    try:
        _, results = run_app("team_flaky:app", app_dir=str(tmp_path), checks=["closure-on-error"])
    finally:
        sys.modules.pop("team_flaky", None)
    through = _through(results)
    assert through and all(r.outcome is Outcome.PASS and r.extra.get("unconfirmed") for r in through)
    assert all("not the same way on a repeat" in r.detail and "attributed_to" not in r.extra for r in through)
    _, steady = run_app("examples.apps.single:base_http()", checks=["closure-on-error"])
    through = _through(steady)
    assert through and all(r.outcome is Outcome.FAIL and r.extra["attributed_to"] == APP for r in through)
    assert all("the same on a repeat" in r.detail for r in through)


def test_mounted_variants_stay_out_of_the_teams_openapi():
    from harness.app.load import load_app, parse_spec
    from harness.app.mount import AppHost
    from .helpers import SCENARIOS, variant

    host = AppHost(load_app(parse_spec("examples.apps.clean:app")))
    host.mount(SCENARIOS["story"], variant("def-noann-bytes-for-plain"), lambda chunk_type: iter(()))
    assert not [p for p in host.loaded.app.openapi()["paths"] if p.startswith("/_stream_harness")]



def test_a_variant_declared_through_routers_is_mounted_in_the_team_app_too():
    """FastAPI 0.165 keeps an included router as one entry of ``app.router.routes``: mounting must keep
    it, or the variant is a 404 through the team's app."""
    _, results = run_app(CLEAN, scenarios=("png",), checks=["chunk-order", "content-type"],
                         variants=["def-ann-bytes-for-subclass-nested", "async-ann-bytes-for-plain-router"])
    through = _through(results)
    assert len(through) == 4 and all(r.outcome is Outcome.PASS for r in through), [r.detail for r in through]


_UNKNOWN_CODING = """
from fastapi import FastAPI


class LabelsItCompress:
    \"\"\"Says the body is in an encoding no browser decodes (``compress``, LZW): bytes unchanged.\"\"\"

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        async def labelled(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"content-encoding", b"compress")]}
            await send(message)
        await self.app(scope, receive, labelled)


app = FastAPI()
app.add_middleware(LabelsItCompress)
"""


def test_an_encoding_the_harness_cannot_decode_is_its_error_never_a_failure_of_the_stack(tmp_path):
    (tmp_path / "team_compress.py").write_text(_UNKNOWN_CODING)
    try:
        _, results = run_app("team_compress:app", app_dir=str(tmp_path), checks=["chunk-order", "openapi"])
    finally:
        sys.modules.pop("team_compress", None)
    through = _through(results)
    assert through and all(r.outcome is Outcome.ERROR for r in through), [r.outcome for r in through]
    assert all("'compress', which the harness has no decoder for" in r.detail and "not a verdict" in r.detail
               for r in through)


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_every_coding_a_browser_offers_is_decoded_message_by_message(coding):
    """One compressor per coding, flushed after each message as a streaming middleware does: each
    message decodes to exactly its own bytes, in order."""
    import zlib

    import brotli
    import zstandard

    from harness.app.encoding import decode_trace
    from harness.trace import BodyChunk, ResponseStart, Trace

    chunks = [b"first chunk ", b"", b"second, a little longer chunk ", b"third"]
    if coding in ("gzip", "deflate"):
        z = zlib.compressobj(wbits=16 + zlib.MAX_WBITS if coding == "gzip" else zlib.MAX_WBITS)
        wire = [z.compress(c) + z.flush(zlib.Z_SYNC_FLUSH) for c in chunks] + [z.flush()]
    elif coding == "br":
        b = brotli.Compressor()
        wire = [b.process(c) + b.flush() for c in chunks] + [b.finish()]
    else:
        zc = zstandard.ZstdCompressor().compressobj()
        wire = [zc.compress(c) + zc.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK) for c in chunks] + [zc.flush()]
    events = (ResponseStart(0.0, 200, ((b"content-encoding", coding.encode()),)),
              *(BodyChunk(0.0, w, i < len(wire) - 1) for i, w in enumerate(wire)))
    decoded = decode_trace(Trace("asgi", "/", events, 0.0))
    assert [m.data for m in decoded.body_messages] == chunks + [b""]
    assert f"decoded from Content-Encoding {coding}" in decoded.decoded


def test_each_variant_reaches_the_team_app_the_way_it_is_declared(stacks):
    """``@app.get``: an ``APIRoute`` with its ``.endpoint`` directly in the team's routes (what
    route-aware middleware looks up); through a router: an included router, as the team's own."""
    from fastapi.routing import APIRoute

    from harness.app.load import load_app, parse_spec
    from harness.app.mount import AppHost, mount_prefix
    from .helpers import SCENARIOS, variant

    host = AppHost(load_app(parse_spec("team_stacks:fastapi_app", str(stacks))))
    direct = host.mount(SCENARIOS["story"], variant("def-ann-bytes-for-plain"), lambda chunk_type: iter(()))
    host.mount(SCENARIOS["story"], variant("def-ann-bytes-for-plain-router"), lambda chunk_type: iter(()))
    routes = host.loaded.target.router.routes
    on_app = [r for r in routes if isinstance(r, APIRoute) and r.path == direct.path]
    assert len(on_app) == 1 and on_app[0].endpoint.__name__ == "stream"
    router_prefix = mount_prefix("story", "def-ann-bytes-for-plain-router")
    assert not [r for r in routes if isinstance(r, APIRoute) and r.path.startswith(router_prefix)] or \
        not hasattr(routes[0], "original_router")  # FastAPI < 0.165 flattens included routers into APIRoutes


_PATCHES_STARLETTE = '''
"""Patches Starlette for the whole process when imported, as instrumentation does: every
StreamingResponse collects its whole body, then sends it in one message."""
from fastapi import FastAPI
from starlette.responses import StreamingResponse

_original = StreamingResponse.__call__


async def _buffering_call(self, scope, receive, send):
    held = []

    async def hold(message):
        if message["type"] == "http.response.body":
            held.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            message = {**message, "body": b"".join(held)}
        await send(message)
    await _original(self, scope, receive, hold)


StreamingResponse.__call__ = _buffering_call
app = FastAPI()
'''


def test_an_import_that_patches_starlette_process_wide_is_attributed_to_the_app(tmp_path):
    """The bare twin runs in a fresh interpreter that never imported the app: the buffering the
    patch causes is the app's, not FastAPI's. In a process of its own (the patch stays for good)."""
    (tmp_path / "team_patch.py").write_text(_PATCHES_STARLETTE)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--app", "team_patch:app", "--app-dir",
                           str(tmp_path), "--scenario", "story", "--no-page", "--check", "incremental-delivery",
                           "--variant", "def-ann-bytes-for-plain", "--variant", "async-ann-bytes-for-plain",
                           "--output-dir", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the gate fails on the app's problem
    data = json.loads(latest_results(out).read_text())
    assert any("StreamingResponse.__call__" in p for p in data["run"]["app"]["patched"])
    through = [r for r in data["results"] if r["app"] != BARE]
    bare = [r for r in data["results"] if r["app"] == BARE]
    assert len(through) == 2 and all(r["outcome"] == "fail" and r["extra"]["attributed_to"] == APP for r in through)
    assert all(r["outcome"] == "pass" for r in bare)
    assert all("bare ran in a fresh interpreter" in r["detail"] for r in through)


def test_the_pytest_items_judge_a_patching_app_against_a_clean_bare_twin_too(pytester):
    """Each pytest item judges through the session as the command does: the bare twin of a patching
    app is judged in the fresh interpreter item by item (the isolated runner's judge), not here."""
    pytester.makepyfile(team_patch=_PATCHES_STARLETTE)
    out = pytester.path / "out"
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--stream-app", "team_patch:app", "--stream-app-dir", str(pytester.path),
        "--stream-scenario=story", "--stream-check=incremental-delivery", "--stream-no-page",
        "--stream-variant=def-ann-bytes-for-plain", "--stream-no-expectations", "--stream-output-dir", str(out),
        timeout=180)
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed") == 1, result.stdout.str()
    data = json.loads(latest_results(out).read_text())
    (through,) = [r for r in data["results"] if r["app"] != BARE]
    (bare,) = [r for r in data["results"] if r["app"] == BARE]
    assert through["outcome"] == "fail" and through["extra"]["attributed_to"] == APP
    assert bare["outcome"] == "pass"
