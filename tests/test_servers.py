"""Server engines: real processes on 127.0.0.1, the wire-only checks' mutants, and no leftovers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from harness.engines.servers import SERVERS, live_servers
from harness.outcomes import Outcome

from . import mutants
from .helpers import judge

pytestmark = pytest.mark.needs_feature
INSTALLED = [name for name, spec in SERVERS.items() if not spec.missing()]


def _children() -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,ppid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "harness.serve:app" in line and "ps -eo" not in line]


@pytest.mark.parametrize("engine", INSTALLED)
@pytest.mark.parametrize("check", ["chunk-order", "incremental-delivery", "framing", "closure-on-error",
                                   "generator-stops-on-disconnect"])
def test_every_server_streams_the_page_image_as_documented(engine, check):
    result = judge(check, "png", "def-ann-bytes-for-subclass", engine=engine)
    assert result.outcome is Outcome.PASS, result.detail
    assert not live_servers()


def test_framing_catches_a_content_length_response_over_a_socket():
    broken = judge("framing", "png", "def-ann-bytes-for-plain", mutants.sends_content_length, engine="uvicorn")
    assert broken.outcome is Outcome.FAIL and "content-length" in broken.detail, broken.detail
    assert judge("framing", "png", "def-ann-bytes-for-plain", engine="uvicorn").outcome is Outcome.PASS


def test_incremental_delivery_holds_for_async_generators_over_a_socket_and_catches_buffering():
    """Lock-step over a socket paces at the server's send, so async producers are held too."""
    assert judge("incremental-delivery", "png", "async-ann-bytes-for-plain", engine="uvicorn").outcome is Outcome.PASS
    broken = judge("incremental-delivery", "png", "async-ann-bytes-for-plain", mutants.buffers_then_sends_each,
                   engine="uvicorn")
    assert broken.outcome is Outcome.FAIL, broken.detail


def test_closure_on_shutdown_non_strict_stock_fail_when_kept_pass_when_closed():
    stock = judge("closure-on-shutdown", "png", "def-ann-bytes-for-plain", engine="uvicorn")
    assert stock.outcome is Outcome.NON_STRICT and "garbage collection" in stock.detail, stock.detail
    kept = judge("closure-on-shutdown", "png", "def-ann-bytes-for-plain", mutants.keeps_abandoned_streams,
                 engine="uvicorn")
    assert kept.outcome is Outcome.FAIL and "never closed" in kept.detail, kept.detail
    closing = judge("closure-on-shutdown", "png", "def-ann-bytes-for-plain", mutants.closes_on_disconnect,
                    engine="uvicorn")
    assert closing.outcome is Outcome.PASS, closing.detail


def test_disconnect_checks_over_a_socket():
    assert judge("generator-stops-on-disconnect", "png", "async-ann-bytes-for-plain",
                 mutants.drains_after_disconnect, engine="uvicorn").outcome is Outcome.FAIL
    assert judge("closure-on-disconnect", "png", "def-ann-bytes-for-plain", mutants.keeps_abandoned_streams,
                 engine="uvicorn").outcome is Outcome.FAIL
    assert judge("closure-on-disconnect", "png", "def-ann-bytes-for-plain", mutants.closes_on_disconnect,
                 engine="uvicorn").outcome is Outcome.PASS


def test_a_missing_server_is_skipped_with_the_install_hint(monkeypatch, capsys):
    from harness import engines
    from harness.cli import main
    from harness.engines.servers import ServerEngine, ServerSpec

    spec = ServerSpec("absent", ("surely_not_installed_module",), "fastapi-stream-harness[absent]", lambda port: [])
    monkeypatch.setitem(engines._REGISTRY, "absent", type("AbsentEngine", (ServerEngine,), {"spec": spec,
                                                                                          "name": "absent"}))
    rc = main(["run", "--engine", "asgi,absent", "--scenario", "png", "--check", "openapi", "--no-write"])
    out = capsys.readouterr()
    assert rc == 0
    assert "skipped engine absent: surely_not_installed_module not installed: " \
           "pip install 'fastapi-stream-harness[absent]'" in out.err + out.out


def test_no_server_survives_an_interrupted_run(tmp_path):
    """Ctrl-C in the middle of a run over a real server: the server is gone afterwards."""
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent("""
        import sys
        from harness.cli import main
        sys.exit(main(["run", "--engine", "uvicorn", "--no-write"]))
    """))
    before = set(_children())
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            cwd=os.getcwd(), text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (set(_children()) - before):
        time.sleep(0.05)  # waiting for the run to have started its server, with a deadline
    assert set(_children()) - before, "the run never started a server"
    proc.send_signal(signal.SIGINT)
    proc.wait(30)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and set(_children()) - before:
        time.sleep(0.05)
    assert not (set(_children()) - before), f"left running: {set(_children()) - before}"


def test_no_server_survives_a_killed_harness(tmp_path):
    """SIGKILL leaves no chance to clean up: the kernel kills the server (PR_SET_PDEATHSIG)."""
    script = tmp_path / "run.py"
    script.write_text("import sys\nfrom harness.cli import main\nsys.exit(main(['run', '--engine', 'uvicorn', '--no-write']))\n")
    before = set(_children())
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (set(_children()) - before):
        time.sleep(0.05)
    proc.kill()
    proc.wait(10)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and set(_children()) - before:
        time.sleep(0.05)
    assert not (set(_children()) - before)


def _wire_trace(http_chunks, app_sizes):
    from harness.trace import AppReturned, AppSent, BodyChunk, ResponseStart, Trace
    events = [ResponseStart(0.0, 200, ((b"transfer-encoding", b"chunked"),))]
    events += [AppSent(0.1, n) for n in app_sizes]
    events += [BodyChunk(0.2, c, True) for c in http_chunks] + [BodyChunk(0.3, b"", False), AppReturned(0.4)]
    return Trace("uvicorn", "/stream", tuple(events), 0.0, transport="http/1.1")


def test_chunks_merged_by_the_server_are_non_strict_merged_by_the_app_fail():
    """No server we run merges chunks, so this path is shown on a recorded trace: the app sent each
    chunk (AppSent), the wire shows them merged -> non-strict; the app merged them -> fail."""
    from harness.checks.stream import chunk_order
    from harness.checks import Failure, NonStrict
    from harness.scenarios import scenario
    from harness.variants import all_variants

    sc = scenario("two", chunks=[b"ab", b"cd"])
    v = all_variants()[0]
    with pytest.raises(NonStrict, match="merged or split"):
        chunk_order(_wire_trace([b"abcd"], [2, 2]), sc, v)
    with pytest.raises(Failure, match="the app itself sent them merged"):
        chunk_order(_wire_trace([b"abcd"], [4]), sc, v)
    assert chunk_order(_wire_trace([b"ab", b"cd"], [2, 2]), sc, v)
