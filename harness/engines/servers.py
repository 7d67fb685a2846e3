"""Real servers as engines: each started as its own process on 127.0.0.1, read over a socket.

A server process runs ``harness.engines.server_app:app`` (every variant, behind the app-side probe) and is
reached through the h11 wire driver (``wire.py``) and the control channel (``control.py``). It is
ready when it accepts a connection and its control channel answers, both within a deadline; it is
stopped with SIGTERM to its process group, then SIGKILL after a deadline. No server process
survives a run: stopping is in ``finally`` blocks, in an ``atexit`` hook, on SIGTERM/SIGHUP to the
harness, and (Linux) the kernel kills a server whose harness died (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import atexit
import concurrent.futures
import ctypes
import dataclasses
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .control import ControlClient, ControlConnection
from ..app.encoding import decode_trace
from ..errors import HarnessError
from .loop_probe import probe_loop
from ..modes import NORMAL, Kind, Mode, modes_for
from .closure import Watched, watch_closures
from ..routes import Route
from .server_app import ENV, route_path
from ..trace import (AppException, AppReturned, Recorder, ResourceClosed, ServerExited,
                     ServerSignalled, StreamSummary, Trace, event_from_json)
from . import engine, wire
from .base import BatchItem, Engine, EngineSetup
from .quiet import QUIET

__all__ = ["Reaper", "ServerSpec", "ServerEngine", "ServerProcess", "SERVERS", "live_servers"]

START_DEADLINE_S = 30.0
GRACEFUL_S = 2.0  # the graceful-shutdown deadline every server is configured with
STOP_GRACE_S = 3.0  # beyond it, SIGKILL
APP_FINISH_S = 2.0  # how long the app may take to return after the response ended or the client left
BROKEN_END_S = 1.0  # after the producer failed, the server has this long to end or close the response
REAP_WITHIN_S = 3.0  # a reaping server's periodic check lets go of a failed app's task within this (daphne: 1 s)
# requests of a batch at once, per kind (a kind not listed: one after another). error: a server
# leaving broken responses open costs ceil(n/64) x BROKEN_END_S. normal: the round trips between the
# harness, the server and its side channel overlap, on two cores as well as on more. disconnect and
# error: a round's streams watched together (a reaping server lets go of its failed apps in one wait).
BATCH_THREADS = {Kind.ERROR: 64, Kind.NORMAL: 8, Kind.DISCONNECT: 8}
WATCH_THREADS = 64  # a shutdown batch's streams whose events are opened at once, before the SIGTERM


_LIVE: set["ServerProcess"] = set()
_LIVE_LOCK = threading.Lock()


def live_servers() -> list["ServerProcess"]:
    with _LIVE_LOCK:
        return list(_LIVE)


def _stop_all(*_: object) -> None:
    for proc in live_servers():
        proc.stop()


atexit.register(_stop_all)


def _install_signal_handlers() -> None:
    """Turn SIGTERM/SIGHUP into SystemExit in the main thread, so ``finally`` blocks stop servers."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) in (signal.SIG_DFL, None):
            signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


PORT_ATTEMPTS = 3


def _connects(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
        return True
    except OSError:
        return False


def _answers(port: int) -> bool:
    """The probe app's trivial route answers 200."""
    try:
        return wire.fetch_body(port, "/h/_ping", 2.0)[0] == 200
    except Exception:  # reset, refused, a broken response: not serving yet (start-up has its deadline)
        return False


class PortTaken(HarnessError):
    """A port chosen free was bound by another process before the server could bind it."""


def _ours(port: int, pgid: int) -> bool:
    """Is the listener on 127.0.0.1:``port`` a socket of a process in the group ``pgid`` (the server
    and its workers)? Read from /proc (Linux); elsewhere assumed so."""
    try:
        inodes = _socket_inodes(port)
        owned = set()
        for pid in (e for e in os.listdir("/proc") if e.isdigit()):
            try:
                if os.getpgid(int(pid)) != pgid:
                    continue
                owned |= {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
            except OSError:  # gone meanwhile, or not ours to read
                continue
    except OSError:
        return True
    return any(f"socket:[{inode}]" in owned for inode in inodes)


def _socket_inodes(port: int, listening: bool = True) -> set[str]:
    """The inodes of the sockets listening on ``port`` (``/proc/net/tcp``: state 0A is LISTEN), or with
    ``listening=False`` every socket whose local port it is (a client's connection too: the kernel
    gives clients their source ports from the same range :func:`free_port` draws from)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if (fields[3] == "0A" or not listening) and int(fields[1].rsplit(":", 1)[1], 16) == port:
                found.add(fields[9])
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Reaper:
    """How a server lets go of a failed app's task: ``timer`` (the reactor call that does it, on a
    period) logs the app's exception on ``logger`` just before."""

    logger: str
    timer: str


@dataclass(frozen=True)
class ServerSpec:
    name: str
    modules: tuple[str, ...]  # what must be importable
    install: str  # the install hint
    argv: Callable[[int], list[str]]
    # a server that keeps a failed app's task (its exception, so the request's frames) until a periodic
    # check (a Twisted timer) lets go of it and logs the exception on a logger: the closure watch waits
    # for that record, unless the timer is no longer scheduled (see server_app)
    reaper: Reaper | None = None
    effort: float = Engine.effort  # Engine.effort: about how long the default selection takes on it

    def missing(self) -> str | None:
        absent = [m for m in self.modules if importlib.util.find_spec(m) is None]
        if absent:
            return f"{', '.join(absent)} not installed: pip install '{self.install}'"
        return None


PY = sys.executable
APP = "harness.engines.server_app:app"
SERVERS: dict[str, ServerSpec] = {s.name: s for s in [
    ServerSpec("uvicorn", ("uvicorn",), "fastapi-stream-harness[uvicorn]", lambda port: [
        PY, "-m", "uvicorn", APP, "--host", "127.0.0.1", "--port", str(port), "--http", "h11", "--lifespan", "on",
        "--log-level", "warning", "--no-access-log", "--timeout-graceful-shutdown", str(int(GRACEFUL_S))], effort=36),
    ServerSpec("uvicorn-httptools", ("uvicorn", "httptools"), "fastapi-stream-harness[uvicorn]", lambda port: [
        PY, "-m", "uvicorn", APP, "--host", "127.0.0.1", "--port", str(port), "--http", "httptools",
        "--lifespan", "on", "--log-level", "warning", "--no-access-log",
        "--timeout-graceful-shutdown", str(int(GRACEFUL_S))], effort=26),
    ServerSpec("hypercorn", ("hypercorn",), "fastapi-stream-harness[hypercorn]", lambda port: [
        PY, "-m", "hypercorn", APP, "--bind", f"127.0.0.1:{port}", "--graceful-timeout", str(int(GRACEFUL_S)),
        "--log-level", "warning"], effort=38),
    ServerSpec("granian", ("granian",), "fastapi-stream-harness[granian]", lambda port: [
        PY, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--no-ws", "--log-level", "warning", "--workers-kill-timeout", str(int(GRACEFUL_S)), APP], effort=34),
    ServerSpec("daphne", ("daphne",), "fastapi-stream-harness[daphne]", lambda port: [
        PY, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "-v", "0",
        "--application-close-timeout", str(int(GRACEFUL_S)), APP],
        # Server.application_checker, every second: "Exception inside application", then the task goes
        reaper=Reaper("daphne.server", "application_checker"), effort=58),
]}


class ServerProcess:
    """One server process: started with a deadline, always stopped."""

    def __init__(self, spec: ServerSpec, config: dict) -> None:
        self.spec, self.config = spec, config
        self.popen: subprocess.Popen | None = None
        self.port = self.control_port = 0
        self.log = tempfile.NamedTemporaryFile(prefix=f"harness-{spec.name}-", suffix=".log", delete=False)

    def start(self) -> "ServerProcess":
        """Start it on two free ports; if another process took one of them between choosing it and
        the server binding it (other runs on the machine choose ports too), start again on others."""
        for attempt in range(PORT_ATTEMPTS):
            try:
                return self._start()
            except PortTaken:
                if attempt == PORT_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _start(self) -> "ServerProcess":
        _install_signal_handlers()
        self.port, self.control_port = free_port(), free_port()
        if self.log.closed:  # a start given up on closed it
            self.log = tempfile.NamedTemporaryFile(prefix=f"harness-{self.spec.name}-", suffix=".log", delete=False)
        env = {**os.environ, ENV: json.dumps({**self.config, "control_port": self.control_port}),
               "PYTHONUNBUFFERED": "1"}
        self.popen = subprocess.Popen(self.spec.argv(self.port), env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True,
                                      preexec_fn=_die_with_parent)
        with _LIVE_LOCK:
            _LIVE.add(self)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        """Both ports accept connections, the listeners are the server's own (a connection accepted by
        another process that happened to take the port would look ready), and the app answers a
        request: a listening socket alone is the kernel's backlog, not a server serving from it (a
        first request to granian under load was once reset)."""
        end = time.monotonic() + START_DEADLINE_S
        for port in (self.port, self.control_port):
            self._until(end, port, lambda port=port: _connects(port) and _ours(port, self.popen.pid))
        self._until(end, self.port, lambda: _answers(self.port))

    def _until(self, end: float, port: int, ready: Callable[[], bool]) -> None:
        while not ready():
            if self.popen.poll() is not None:
                # it could not bind: another socket has one of its ports (a listener, or a client's
                # connection whose source port the kernel drew from the same range: maybe gone by now,
                # so the server's own word counts too)
                taken = [p for p in (self.port, self.control_port) if _socket_inodes(p, listening=False)]
                if taken or "address already in use" in self.log_tail().lower():
                    raise PortTaken(f"{self.spec.name}: port {taken[0] if taken else port} was taken by another "
                                    "socket")
                raise HarnessError(f"{self.spec.name} exited with {self.popen.returncode} while starting:\n"
                                   + self.log_tail())
            if time.monotonic() > end:
                raise HarnessError(f"{self.spec.name} did not accept and answer on 127.0.0.1:{port} "
                                   f"within {START_DEADLINE_S:g} s:\n" + self.log_tail())
            time.sleep(0.02)  # not listening or answering yet (or another process is, until ours binds or exits)

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(Path(self.log.name).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def signal(self, sig: int, group: bool = True) -> None:
        """Signal the server's process group, or (``group=False``) its main process only, as a
        container runtime does: the server then stops its own workers."""
        if self.popen and self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, sig) if group else os.kill(self.popen.pid, sig)
            except ProcessLookupError:
                pass

    def wait(self, timeout: float) -> int | None:
        try:
            return self.popen.wait(timeout) if self.popen else None
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """SIGKILL the process group now (it already had its graceful deadline), and reap it."""
        self.signal(signal.SIGKILL)
        self.wait(5.0)

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it after a deadline; idempotent."""
        if self.popen is not None:
            if self.popen.poll() is None:
                self.signal(signal.SIGTERM)
                if self.wait(GRACEFUL_S + STOP_GRACE_S) is None:
                    self.signal(signal.SIGKILL)
                    self.wait(5.0)
            try:  # workers of a server that exited first (granian) go with their group
                os.killpg(self.popen.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        with _LIVE_LOCK:
            _LIVE.discard(self)
        self.log.close()
        if os.environ.get("STREAM_HARNESS_KEEP_LOGS") != "1":
            try:
                os.unlink(self.log.name)
            except OSError:
                pass


class ServerEngine(Engine):
    """A real server behind the probe app; ``spec`` says which and how it is started."""

    spec: ServerSpec
    batched_kinds = frozenset(Kind)

    @classmethod
    def unavailable(cls) -> str | None:
        return cls.spec.missing()

    in_process = False

    def __init__(self, setup: EngineSetup | None = None, *, builder_ref: str = "harness.routes:build_route",
                 lockstep_wait_s: float = 2.0) -> None:
        super().__init__(setup)
        self.config = {"builder": builder_ref, "scenarios_dirs": list(self.setup.scenarios_dirs),
                       "builtin_scenarios": self.setup.builtin_scenarios,
                       "sys_path": [p for p in sys.path if p], "lockstep_wait_s": lockstep_wait_s,
                       "reaper": dataclasses.asdict(self.spec.reaper) if self.spec.reaper else None}
        if self.setup.app is not None:  # the server process imports the team's app and mounts the variants in it
            self.config["app"] = self.setup.app.spec.to_json()
        self.server: ServerProcess | None = None
        self.control: ControlClient | None = None
        self._after_stream = threading.Lock()
        self._start_error = ""

    # lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        why = self.unavailable()
        if why:
            raise HarnessError(f"engine {self.name!r} is not available: {why}")
        if self.server is None:
            if self._start_error:
                raise HarnessError(self._start_error)
            try:
                self.server = ServerProcess(self.spec, self.config).start()
            except HarnessError as exc:  # remembered: every later request fails at once, not after 30 s
                self._start_error = str(exc)
                raise
            self.control = ControlClient(self.server.control_port)

    def stop(self) -> None:
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.server is not None:
            self.server.stop()
            self.server = None

    def modes(self, kind: Kind) -> list[Mode]:
        """A real client disconnects one way: it closes the connection."""
        return modes_for(kind, ("close",), servers=True)

    def _measure(self, route: Route, recorder: Recorder, deadline_s: float, streams: int) -> None:
        """``streams`` requests at once (no lock-step pacing), the lag monitor in the server's loop,
        the probe requesting /h/_ping from a harness thread meanwhile."""
        port, path = self.server.port, route_path(route.scenario, route.variant, route.path)
        wire.fetch_body(port, "/h/_ping", deadline_s)  # the app's loop is known from here on
        started = self.control.call("lag-start")
        if "error" in started:
            raise HarnessError(f"{self.name}: the loop-lag monitor could not start: {started['error']}")
        done = threading.Event()

        def one(index: int) -> None:
            rec, t0, rid = Recorder(), time.monotonic(), uuid.uuid4().hex
            wire.get(port, path, rec, deadline_s, headers=[("x-harness-request", rid), ("x-harness-lockstep", "off"),
                                                           *route.headers], method=route.method, body=route.body)
            data = [m.data for m in decode_trace(rec.freeze(self.name, path)).body_messages if m.data]
            recorder.add(StreamSummary(recorder.now(), index, len(data), sum(map(len, data)),
                                       time.monotonic() - t0, streams))
        threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(streams)]
        prober = threading.Thread(target=probe_loop, args=(recorder, lambda: wire.fetch_body(port, "/h/_ping", 5.0),
                                                              done.is_set), daemon=True)
        for t in threads:
            t.start()
        prober.start()
        for t in threads:
            t.join(deadline_s * 4)
        done.set()
        prober.join(10)
        for event in (event_from_json(e) for e in self.control.call("lag-stop")["events"]):
            recorder.add(event)
        self.control.call("forget-all")

    # requests -------------------------------------------------------------------------------
    def perform(self, route: Route, recorder: Recorder, deadline_s: float, mode: Mode = NORMAL) -> Trace:
        return self.perform_batch([(route, recorder)], deadline_s, mode)[0]

    def perform_batch(self, items: list[BatchItem], deadline_s: float, mode: Mode) -> list[Trace]:
        """``shutdown``: one fresh server, every stream held mid-way, one SIGTERM. A measuring kind:
        one measurement after another, in one turn alone (:data:`QUIET`): the other engines stop once
        for them all, not once per measurement. The others: :data:`BATCH_THREADS` requests at once,
        each in lock-step with its own producer. A kind with a closure watch (``disconnect``,
        ``error``) in rounds (:meth:`_round`): each round's streams at once, then watched together
        (``error``: a server leaving the connection open after the app failed costs its grace period
        once per round, not once per variant)."""
        if mode.kind is Kind.SHUTDOWN:
            with QUIET.shared():
                return self._shutdown_batch(items, deadline_s, mode)
        self.start()
        if mode.stream_counts:
            with QUIET.alone():
                for route, recorder in items:
                    for streams in mode.stream_counts:
                        self._measure(route, recorder, deadline_s, streams)
            return [recorder.freeze(self.name, route.path, mode=mode.key, transport="http/1.1", by_time=True)
                    for route, recorder in items]
        threads = min(BATCH_THREADS.get(mode.kind, 1), len(items))
        with QUIET.lent():
            if mode.wants_closure_watch:
                return [trace for i in range(0, len(items), threads)
                        for trace in self._round(items[i:i + threads], deadline_s, mode)]
            if threads == 1:
                return [self._round([item], deadline_s, mode)[0] for item in items]
            with concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="harness-batch") as pool:
                futures = [pool.submit(self._round, [item], deadline_s, mode) for item in items]
            return [f.result()[0] for f in futures]

    def _round(self, items: list[BatchItem], deadline_s: float, mode: Mode) -> list[Trace]:
        """Streams at once, then what follows them, watched together
        (:func:`~harness.engines.closure.watch_closures`): each is seen open or closed before any GC is
        asked for, so the collection one needs cannot close another's resource unseen, and a reaping
        server (daphne) lets go of the round's failed apps in one wait of its periodic check instead of
        one each. What follows the streams is one round at a time: a settle waits for the app's loop to
        have nothing else to run, which other requests' watches would keep busy."""
        with QUIET.shared():
            if len(items) == 1:
                rids = [self._stream(*items[0], deadline_s, mode)]
            else:
                with concurrent.futures.ThreadPoolExecutor(len(items), thread_name_prefix="harness-cut") as pool:
                    rids = list(pool.map(lambda item: self._stream(*item, deadline_s, mode), items))
            with self._after_stream, self.control.lease() as control:
                for rid in rids:
                    self._app_finished(control, rid)
                if mode.wants_closure_watch:
                    watch_closures([self._watched(control, rid, recorder) for rid, (_, recorder) in zip(rids, items)],
                                   self._collect(control, rids[0]))
                for rid, (_, recorder) in zip(rids, items):
                    self._events(control, rid, recorder)
            return [self._freeze(route, recorder, mode, self._openapi(route, deadline_s)
                                 if route.openapi_path and mode.rules.side_requests else None)
                    for route, recorder in items]

    def _stream(self, route: Route, recorder: Recorder, deadline_s: float, mode: Mode) -> str:
        """The request itself, in lock-step with its producer through the side channel; its id."""
        rid = uuid.uuid4().hex
        path = route_path(route.scenario, route.variant, route.path)
        headers = [("x-harness-request", rid), ("x-harness-mode", f"{mode.kind.value}:{mode.at}"),
                   ("x-harness-lockstep", "wire"), *route.headers]
        cut = mode.at if mode.rules.client_cuts else None
        # acknowledgements never queue behind another request's waits; the news of the app failing
        # comes on a connection of its own (its reply is the news)
        with self.control.lease() as live, self.control.lease() as news:
            news.send("failed", rid=rid, timeout=deadline_s)
            answered: list[bool] = []

            def failed() -> bool:
                answered.append(bool(news.reply().get("ok")))
                return answered[0]
            try:
                wire.get(self.server.port, path, recorder, deadline_s, headers=headers, cut_after=cut,
                         method=route.method, body=route.body,
                         on_chunk=lambda n: live.send("ack", rid=rid, n=n),
                         end_within=(mode.at, BROKEN_END_S) if mode.rules.producer_raises else None,
                         cutoff=wire.Cutoff(news.sock, failed, BROKEN_END_S))
            finally:
                live.send("gone", rid=rid)  # whatever happened, nobody reads this stream any more
                if not answered:  # ``gone`` ends the wait: the connection is in step again
                    news.reply(timeout=deadline_s)
        return rid

    @staticmethod
    def _app_finished(control: ControlConnection, rid: str) -> None:
        """Wait (a bounded while) for the app's call to return or raise."""
        control.call("wait", rid=rid, kinds=[AppReturned.__name__, AppException.__name__], timeout=APP_FINISH_S)

    @staticmethod
    def _events(control: ControlConnection, rid: str, recorder: Recorder) -> None:
        """The app-side events into the trace; the server forgets the request."""
        for event in control.events(rid):
            recorder.add(event)
        control.call("forget", rid=rid)

    def _freeze(self, route: Route, recorder: Recorder, mode: Mode, operation: dict | None = None) -> Trace:
        return recorder.freeze(self.name, route_path(route.scenario, route.variant, route.path), operation,
                               notes=(f"{self.name} on 127.0.0.1:{self.server.port}",), mode=mode.key,
                               transport="http/1.1", by_time=True)

    def _watched(self, control: ControlConnection, rid: str, recorder: Recorder) -> Watched:
        """A request's closure watch (closure.watch_closures), done through the side channel."""
        return Watched(recorder, lambda: control.call("settle", rid=rid),
                       lambda: any(isinstance(e, ResourceClosed) for e in control.events(rid)),
                       (lambda: control.call("reaped", rid=rid, timeout=REAP_WITHIN_S)["held"])
                       if self.spec.reaper else None)

    @staticmethod
    def _collect(control: ControlConnection, rid: str) -> Callable[[int], None]:
        """A GC in the server process, run on the loop of request ``rid``."""
        return lambda generation: control.call("gc", rid=rid, generation=generation)

    def _openapi(self, route: Route, deadline_s: float) -> dict | None:
        status, body = wire.fetch_body(self.server.port, route_path(route.scenario, route.variant, "/openapi.json"),
                                       deadline_s)
        try:
            return json.loads(body)["paths"][route.path][route.method.lower()] if status == 200 else None
        except (ValueError, KeyError, TypeError):
            return None

    # shutdown -------------------------------------------------------------------------------
    def _shutdown_batch(self, items: list[BatchItem], deadline_s: float, mode: Mode) -> list[Trace]:
        """One fresh server, one stream per item held mid-way in lock-step (or read on, for a route not
        held in lock-step), then SIGTERM.

        What the server process saw is read from the report it writes at lifespan shutdown, or at exit
        without one (``server_app.py``), and is observed live through the side channel meanwhile (a
        process killed by a signal writes nothing).
        """
        events_dir = tempfile.mkdtemp(prefix="harness-shutdown-")
        server = ServerProcess(self.spec, {**self.config, "events_dir": events_dir}).start()
        traces: list[Trace] = []
        try:
            streams = [_HeldStream(server, route, recorder, deadline_s, mode) for route, recorder in items]
            # the held ones first: a stream read on keeps its producer running, which slows the others' start
            for group in ([s for s in streams if not s.reads_on], [s for s in streams if s.reads_on]):
                for s in group:
                    s.thread.start()
                for s in group:
                    s.ready.wait(deadline_s + 1)
            with concurrent.futures.ThreadPoolExecutor(WATCH_THREADS, thread_name_prefix="harness-watch") as pool:
                list(pool.map(_HeldStream.open_watch, streams))  # every stream's events before the SIGTERM
            t_sig = time.monotonic()
            server.signal(signal.SIGTERM, group=False)
            for s in streams:
                s.recorder.add(ServerSignalled(t_sig, "SIGTERM", GRACEFUL_S))
                s.watch()
            code = server.wait(GRACEFUL_S + STOP_GRACE_S)
            waited = time.monotonic() - t_sig
            for s in streams:
                s.end_watch()
            if code is None:  # it had its deadline after this SIGTERM: killed now (stop() would wait it out
                server.kill()  # again), so the streams read on see their connection end
            final = _read_final_report(events_dir)
            tail = server.log_tail(3)
            for s in streams:
                s.finish(final.get(s.rid))
                s.recorder.add(ServerExited(time.monotonic(), code, waited, tail))
                traces.append(s.recorder.freeze(
                    self.name, s.path, notes=(f"{self.name} shutdown batch of {len(streams)} streams",
                                              "app-side events from the server's report at lifespan shutdown "
                                              "or at exit" if final else
                                              "no report from the server: app-side events seen live only"),
                    mode=mode.key, transport="http/1.1", by_time=True))
        finally:
            server.stop()
            shutil.rmtree(events_dir, ignore_errors=True)
        return traces


def _read_final_report(folder: str) -> dict[str, list]:
    report: dict[str, list] = {}
    for path in Path(folder).glob("final-*.json"):
        for rid, events in json.loads(path.read_text()).items():
            report[rid] = [event_from_json(e) for e in events]
    return report


# What the live watch of a shutdown waits for, group by group: the app's call ending, the resource closing.
_LIVE_WATCH = ((AppException.__name__, AppReturned.__name__), (ResourceClosed.__name__,))


class _HeldStream:
    """A stream read up to the cut and then held open (not read) until the server is signalled; a
    route the probe does not pace (``Route.paced`` false) is read on instead, to its end (see modes.py)."""

    def __init__(self, server: ServerProcess, route: Route, recorder: Recorder, deadline_s: float, mode: Mode) -> None:
        self.server, self.deadline_s, self.mode = server, deadline_s, mode
        self.path = route_path(route.scenario, route.variant, route.path)
        self.method, self.body, self.headers = route.method, route.body, route.headers
        self.rid, self.recorder, self.reads_on = uuid.uuid4().hex, recorder, not route.paced
        self.ready, self.sock, self.control = threading.Event(), None, None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self._waiter: threading.Thread | None = None
        self._live_events: list = []

    def _run(self) -> None:
        headers = [("x-harness-request", self.rid), ("x-harness-mode", f"{self.mode.kind.value}:{self.mode.at}"),
                   ("x-harness-lockstep", "wire"), *self.headers]
        if self.reads_on:  # ready once the cut's chunks arrived; read on until the server ends the stream
            try:
                wire.get(self.server.port, self.path, self.recorder, self.deadline_s, headers=headers,
                         method=self.method, body=self.body,
                         on_chunk=lambda n: self.ready.set() if n >= self.mode.at else None)
            finally:
                self.ready.set()
            return
        control = ControlClient(self.server.control_port)
        try:  # acknowledge the chunks up to the cut, then hold: the producer waits in lock-step
            self.sock = wire.get(self.server.port, self.path, self.recorder, self.deadline_s, headers=headers,
                                 method=self.method, body=self.body,
                                 cut_after=self.mode.at, on_cut=lambda: None,
                                 on_chunk=lambda n: control.send("ack", rid=self.rid, n=n) if n < self.mode.at else None)
        finally:
            control.close()
            self.ready.set()

    def open_watch(self) -> None:
        try:
            self.control = ControlClient(self.server.control_port)
            self._before = self.control.events(self.rid)
        except OSError:
            self._before = []

    def watch(self) -> None:
        """Wait, in a thread, for the app's call to end and the resource to close during the shutdown,
        taking the request's events as each is seen (a server without lifespan writes no report)."""
        def wait() -> None:
            end, pending = time.monotonic() + GRACEFUL_S + STOP_GRACE_S, list(_LIVE_WATCH)
            try:
                while pending and end > time.monotonic():
                    kinds = [k for group in pending for k in group]
                    if not self.control.call("wait", rid=self.rid, kinds=kinds, timeout=end - time.monotonic())["ok"]:
                        break
                    self._live_events = self.control.events(self.rid)
                    seen = {type(e).__name__ for e in self._live_events}
                    pending = [group for group in pending if not seen.intersection(group)]
                if pending:  # the deadline passed with the process still up: what it did until now
                    self._live_events = self.control.events(self.rid)
            except (OSError, ConnectionError, ValueError):
                pass  # the process ended first: whatever was not reported did not happen in time
        if self.control is not None:
            self._waiter = threading.Thread(target=wait, daemon=True)
            self._waiter.start()

    def end_watch(self) -> None:
        """The live watch's last word (before a server still running is killed)."""
        if self._waiter is not None:
            self._waiter.join(GRACEFUL_S + STOP_GRACE_S + 2)

    def finish(self, final: list | None) -> None:
        self.end_watch()
        if self.reads_on:  # the server is gone or killed: its connection is closed
            self.thread.join(self.deadline_s)
        # the server's report at lifespan shutdown, then anything the channel saw live after it
        base = final if final is not None else self._before
        seen = {(type(e).__name__, e.t) for e in base}
        events = base + [e for e in self._live_events if (type(e).__name__, e.t) not in seen]
        for event in events:
            self.recorder.add(event)
        if self.sock is not None:
            self.sock.close()
        if self.control is not None:
            self.control.close()


def _register(spec: ServerSpec) -> None:
    cls = type(f"{spec.name.title().replace('-', '')}Engine", (ServerEngine,), {"spec": spec, "effort": spec.effort})
    engine(spec.name)(cls)


for _spec in SERVERS.values():
    _register(_spec)
