"""Server engines: real processes on 127.0.0.1, the wire-only checks' mutants, and no leftovers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from harness.engines.servers import SERVERS, live_servers
from harness.outcomes import Outcome

from . import mutants
from .helpers import judge

pytestmark = pytest.mark.needs_feature
INSTALLED = [name for name, spec in SERVERS.items() if not spec.missing()]


def _children(tag: str) -> set[int]:
    """Server processes started by the run marked with ``tag`` (an environment variable they inherit):
    other runs on the machine (parallel jobs, xdist workers) start servers of their own."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read()
            with open(f"/proc/{entry}/environ", "rb") as fh:
                environ = fh.read()
        except OSError:
            continue
        if b"harness.engines.server_app:app" in cmdline and f"STREAM_HARNESS_TEST_TAG={tag}".encode() in environ.split(b"\0"):
            found.add(int(entry))
    return found


def _start_run(tmp_path, **popen) -> tuple[subprocess.Popen, str]:
    """A harness run over uvicorn in a child process, marked with a fresh tag; returns once its server is up."""
    import uuid

    tag = uuid.uuid4().hex
    script = tmp_path / "run.py"
    # Ctrl-C as a terminal gives it, under any job control: a job started in the background inherits
    # SIGINT ignored (Python then installs no handler), so the child puts Python's default one back;
    # its own session keeps the test's process group out of it.
    script.write_text("import signal, sys\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
                      "from harness.cli import main\n"
                      "sys.exit(main(['run', '--engine', 'uvicorn', '--no-write']))\n")
    proc = subprocess.Popen([sys.executable, str(script)], env={**os.environ, "STREAM_HARNESS_TEST_TAG": tag},
                            cwd=os.getcwd(), start_new_session=True, **popen)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _children(tag) and proc.poll() is None:
        time.sleep(0.05)  # waiting for the run to have started its server, with a deadline
    if not _children(tag):
        _kill_everything(proc, tag)
        pytest.fail("the run never started a server")
    return proc, tag


def _kill_everything(proc: subprocess.Popen, tag: str) -> None:
    """Whatever a test started, gone: the harness's session, and every process carrying its tag."""
    for kill in (lambda: os.killpg(proc.pid, signal.SIGKILL), *(
            (lambda pid=pid: os.kill(pid, signal.SIGKILL)) for pid in _children(tag))):
        try:
            kill()
        except (ProcessLookupError, PermissionError):
            pass
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        pass


def _gone(tag: str) -> set[int]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _children(tag):
        time.sleep(0.05)
    return _children(tag)


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


@pytest.mark.parametrize("vid", ["def-noann-bytes-for-plain", "async-noann-bytes-for-plain"])
def test_bounded_memory_measures_the_server_process_and_catches_a_buffering_response(vid):
    stock = judge("bounded-memory", "large-file", vid, engine="uvicorn", deadline_s=60)
    assert stock.outcome is Outcome.PASS and "while streaming 64.0 MiB" in stock.detail, stock.detail
    broken = judge("bounded-memory", "large-file", vid, mutants.buffers_then_sends_each, engine="uvicorn",
                   deadline_s=60)
    assert broken.outcome is Outcome.FAIL and "held in memory" in broken.detail, broken.detail
    in_process = judge("bounded-memory", "large-file", vid)
    assert in_process.outcome is Outcome.NA and "server process only" in in_process.detail


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
    proc, tag = _start_run(tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode not in (0, 1), f"the run was not interrupted: exit {proc.returncode}\n{out}"
        assert not _gone(tag), "a server was left running"
    finally:
        _kill_everything(proc, tag)  # on a timeout or a failed assertion too: nothing left behind


def test_no_server_survives_a_killed_harness(tmp_path):
    """SIGKILL leaves no chance to clean up: the kernel kills the server (PR_SET_PDEATHSIG)."""
    proc, tag = _start_run(tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.kill()
        proc.wait(10)
        assert not _gone(tag), "a server was left running"
    finally:
        _kill_everything(proc, tag)


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


SURROUND_MUTANTS = [("status-code", "ignores_status_code"), ("response-headers", "drops_dependency_headers"),
                    ("background-after-stream", "background_before_stream"),
                    ("dependency-teardown", "closes_dependencies_early"),
                    ("dependency-teardown", "ignores_function_scope"),
                    ("cancellable", "no_checkpoint_between_chunks")]


@pytest.mark.parametrize("engine", INSTALLED)
def test_surround_checks_pass_on_the_stock_route_and_catch_their_mutants_on_every_server(engine):
    """The route's surroundings live in the server process: their marks travel the side channel, and the
    order against what the server was handed (FinalSent) is the server's own."""
    from harness.checks import get_checks
    from harness.engines import get_engine
    from harness.runner import Case, Runner

    from .helpers import SCENARIOS, variant

    names = list(dict.fromkeys(c for c, _ in SURROUND_MUTANTS))
    with Runner(get_engine(engine), get_checks(names), lockstep_wait_s=0.5) as runner:
        stock = runner.judge(Case(SCENARIOS["long-stream"], variant("async-ann-bytes-for-plain-router")))
    # granian kills its worker on SIGTERM: cancellable's shutdown half fails there (expectations.toml), and
    # only that half: a failing half is reported first, and the disconnect one comes before it
    expected = [Outcome.FAIL if (engine, name) in SHUTDOWN_NEVER_CANCELLED else Outcome.PASS for name in names]
    assert [r.outcome for r in stock] == expected, [r.detail for r in stock]
    assert all(r.detail.startswith("[shutdown]") for r in stock if r.outcome is Outcome.FAIL), stock
    for check, mutant in SURROUND_MUTANTS:
        broken = judge(check, "long-stream", "async-ann-bytes-for-plain", getattr(mutants, mutant), engine=engine)
        assert broken.outcome is Outcome.FAIL, (check, mutant, broken.detail)
    assert not live_servers()


# Where the server never cancels the app's call on SIGTERM (it kills its worker): recorded in expectations.toml.
SHUTDOWN_NEVER_CANCELLED = {("granian", "cancellable")}


@pytest.mark.parametrize("engine", INSTALLED)
def test_cancellable_on_shutdown_stock_stops_before_exit_shielded_runs_on(engine):
    """The shutdown half of cancellable: a never-awaiting generator read on by a client that stays, the
    server SIGTERMed. The stock route's call ends before the process is gone, within 1 s of the later of the
    graceful deadline and the server ending an awaiting stream of the same shutdown (the control); a
    response that streams in a shielded cancel scope is never stopped (the process exits or is killed
    with the generator still running), on every server."""
    stock = judge("cancellable", "long-stream", "async-ann-bytes-for-plain", engine=engine)
    if (engine, "cancellable") in SHUTDOWN_NEVER_CANCELLED:
        assert stock.outcome is Outcome.FAIL and "never stopped" in stock.detail, stock.detail
        assert "Killing worker" in stock.detail, stock.detail  # the server's own word on it
    else:
        assert stock.outcome is Outcome.PASS and "[shutdown] stopped (CancelledError)" in stock.detail, stock.detail
        # the bound follows the same server ending an awaiting stream of the same shutdown (its control)
        assert "the server ended an awaiting stream's call" in stock.detail, stock.detail
    shielded = judge("cancellable", "long-stream", "async-ann-bytes-for-plain", mutants.shielded_from_shutdown,
                     engine=engine)
    assert shielded.outcome is Outcome.FAIL and shielded.detail.startswith("[shutdown]"), shielded.detail
    assert "never stopped" in shielded.detail, shielded.detail
    assert not live_servers()


def test_cancellable_on_shutdown_catches_a_generator_with_no_checkpoint():
    """fastapi#14680's shape on shutdown: with no checkpoint the server's loop never gets a turn to act on
    SIGTERM; the process is killed with the generator running."""
    broken = judge("cancellable", "long-stream", "async-ann-bytes-for-subclass", mutants.no_checkpoint_on_shutdown,
                   engine="uvicorn")
    assert broken.outcome is Outcome.FAIL and "never stopped" in broken.detail, broken.detail
    assert "then killed" in broken.detail, broken.detail
