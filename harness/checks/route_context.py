"""Checks on what surrounds a streaming route: the status it is declared or given, the headers and
cookies a dependency sets, background tasks, dependencies with ``yield``, and whether a generator
that never awaits can be stopped.

Each check requests *context variants* of the case's variant as twins (``surround.py``): the same
route with a status code, a dependency, a background task around it. Order is decided by the
recorded order of the trace (the route's marks, the generator's steps, what was sent), never by a
clock. They run on one scenario and on the ``*-ann-bytes-for-*`` variants (every function, response
and declaration): the surroundings are the route's, not the payload's or the endpoint's.
"""

from __future__ import annotations

from ..surround import (DECLARED_STATUS, DEPENDENCY_COOKIE, DEPENDENCY_HEADER, DEPENDENCY_STATUS, GENERATOR_HEADER,
                        NEVER_AWAITS_CHUNKS, UNTIL_STOPPED_CAP)
from ..trace import (AppException, AppReturned, BodyChunk, ClientDisconnected, DeadlineExceeded, FinalSent, GcDone,
                     GcRequested, GeneratorStep, Mark, ResourceClosed, ServerExited, ServerSignalled,
                     lifecycle_violations)
from ..variants import DECLARED_THROUGH_ROUTERS
from .item_forms import declares_status, item_status_code
from . import Failure, NonStrict, NotApplicable, check, show

__all__ = ["status_code", "response_headers", "background_after_stream", "dependency_teardown", "cancellable",
           "SURROUND_SCENARIO"]

SURROUND_SCENARIO = "long-stream"  # 64 chunks: enough to cut, and to see a generator run on


def _applies(scenario, variant) -> str | None:
    if variant.is_page:
        return "the page's reference routes are written as the page writes them, with nothing around them"
    if scenario.name != SURROUND_SCENARIO:
        return (f"the route's surroundings do not depend on the payload: checked on scenario "
                f"{SURROUND_SCENARIO!r} (long enough to cut)")
    if any(variant.axis[k] != v for k, v in DECLARED_THROUGH_ROUTERS.items()):
        return ("checked on the `*-ann-bytes-for-*` variants (every function, response and declaration): "
                "the surroundings belong to the route, not to the endpoint's annotation, chunk type or loop")
    return None


def _async_only(scenario, variant) -> str | None:
    if not variant.is_page and variant.axis["function"] == "def":
        return ("a `def` generator runs on a worker thread and is asked for each chunk from the loop: "
                "there is no await to miss")
    return _applies(scenario, variant)


def _where(trace) -> str:
    return f"[{trace.mode}] " if trace.mode != "normal" else ""


def _final(trace):
    """The app's final body message: handed to the server (over a socket), or sent (in-process)."""
    if trace.on_wire:
        sent = trace.of(FinalSent)
        return sent[0] if sent else None
    return next((m for m in trace.body_messages if not m.more_body), None)


def _marks(trace, name: str) -> list[Mark]:
    return [m for m in trace.of(Mark) if m.name == name]


def _stream_intact(trace, scenario, what: str) -> None:
    expected = b"".join(scenario.wire_chunks)
    if trace.body != expected or lifecycle_violations(trace.events):
        problems = lifecycle_violations(trace.events)
        raise Failure(f"The stream did not arrive whole {what}", expected=f"{len(expected)} bytes, then the end",
                      seen=f"{len(trace.body)} bytes" + (f"; {problems[0]}" if problems else ""),
                      detail=trace.failure_cause or "")


def _traced(twins, context: str, mode: str) -> list:
    """The traces of the twins with ``context`` around the route, in ``mode`` (none on an engine that
    cannot perform that mode)."""
    return [t for v, t in twins if v.context == context and t is not None and t.mode.startswith(mode)]


def _twin(twins, context: str, mode: str = "normal"):
    found = _traced(twins, context, mode)
    if not found:
        raise NotApplicable(f"no {context!r} twin in mode {mode!r} on this engine")
    return found


def _status_applies(scenario, variant) -> str | None:
    return declares_status(scenario, variant) if variant.form != "raw" else _applies(scenario, variant)


@check("status-code", claim="#a-streamingresponse-with-yield", side_requests=("openapi",), applies=_status_applies,
       twins=lambda v: [] if v.form != "raw" else [v.with_context("status-declared"),
                                                    v.with_context("status-dependency")])
def status_code(trace, scenario, variant, twins):
    """A streaming route declared with ``status_code=201``, and one whose dependency sets 206 on the
    injected ``Response``, send that status, then the whole stream (fastapi#15937's shape); a JSON
    Lines or SSE route declared with ``status_code=202`` sends it, and documents it."""
    if variant.form != "raw":
        return item_status_code(trace, scenario, variant)
    notes = []
    for context, status, how in (("status-declared", DECLARED_STATUS, "status_code= on the route"),
                                 ("status-dependency", DEPENDENCY_STATUS, "set by a dependency")):
        (got,) = _twin(twins, context)
        if got.status != status:
            raise Failure(f"The status {how} was not sent", expected=status, seen=got.status,
                          detail=f"{variant.with_context(context).id}" + (f"; {got.failure_cause}"
                                                                          if got.failure_cause else ""))
        _stream_intact(got, scenario, f"with status {status}")
        notes.append(f"{status} ({how})")
    return ", ".join(notes) + ", each with the whole stream"


@check("response-headers", forms=("raw",), claim="#a-streamingresponse-with-yield",
       twins=lambda v: [v.with_context("headers")], applies=_applies)
def response_headers(trace, scenario, variant, twins):
    """A header and a cookie a dependency sets on the injected ``Response`` reach the client with the
    stream (fastapi#16105's shape). What happens to a header the generator sets on its own injected
    ``Response`` is reported, not judged: the generator runs after the response has started."""
    (got,) = _twin(twins, "headers")
    name, value = DEPENDENCY_HEADER
    seen = [v.decode("latin-1") for v in got.header_values(name)]
    if seen != [value]:
        raise Failure("The header a dependency set did not reach the client", expected={name: [value]},
                      seen={name: seen}, detail=got.failure_cause or "")
    cookie = f"{DEPENDENCY_COOKIE[0]}={DEPENDENCY_COOKIE[1]}"
    cookies = [v.decode("latin-1") for v in got.header_values("set-cookie")]
    if not any(c.split(";")[0].strip() == cookie for c in cookies):
        raise Failure("The cookie a dependency set did not reach the client", expected=f"set-cookie: {cookie}; ...",
                      seen=cookies or "no set-cookie header", detail=got.failure_cause or "")
    _stream_intact(got, scenario, "with the dependency's headers")
    in_body = [v.decode("latin-1") for v in got.header_values(GENERATOR_HEADER[0])]
    finding = ("a header set by the generator before its first chunk was sent too" if in_body else
               "a header set by the generator on its injected Response, even before its first chunk, was not "
               "sent: the generator runs after the response has started")
    return f"{name} and the cookie {DEPENDENCY_COOKIE[0]} sent with the stream; {finding}"


def _background_note(got) -> str:
    ran = [m.name.split(":", 1)[1] for m in got.of(Mark) if m.name.startswith("background:")]
    ran_s = " and ".join(ran) if ran else "neither"
    ended = "the app returned" if got.of(AppReturned) else (got.failure_cause or "the app did not return")
    return f"{_where(got)}{ran_s} ran ({ended})"


@check("background-after-stream", forms=("raw",), claim="#background-tasks-and-dependencies-with-yield-technical-details",
       twins=lambda v: [(v.with_context("background"), kind) for kind in ("normal", "disconnect", "error")],
       applies=_applies)
def background_after_stream(trace, scenario, variant, twins):
    """A background task added by a dependency and one added by the route each run exactly once, after
    the final body message (never before the last chunk). What happens to them on a cut stream and on
    a failed one is reported per engine, not judged."""
    (got,) = _twin(twins, "background")
    _stream_intact(got, scenario, "with background tasks")
    last_chunk = [m for m in got.body_messages if m.data][-1]
    final = _final(got)
    for source in ("dependency", "route"):
        runs = _marks(got, f"background:{source}")
        if len(runs) != 1:
            raise Failure(f"The background task added by the {source} did not run exactly once",
                          expected="1 run", seen=f"{len(runs)} runs", detail=got.failure_cause or "")
        if got.position(runs[0]) < got.position(last_chunk):
            raise Failure(f"The background task added by the {source} ran before the last chunk reached the client",
                          expected="after the final body message", seen="before the last chunk")
        if final is None or got.position(runs[0]) < got.position(final):
            raise Failure(f"The background task added by the {source} ran before the final body message",
                          expected="after the final body message (more_body false)",
                          seen="no final message" if final is None else "before it")
    for other in [t for v, t in twins if t is not None and t.mode != "normal"]:
        for source in ("dependency", "route"):
            if len(_marks(other, f"background:{source}")) > 1:
                raise Failure(f"The background task added by the {source} ran more than once",
                              expected="at most 1 run", seen=f"{len(_marks(other, f'background:{source}'))} runs",
                              detail=f"{_where(other).strip()} request")
    others = "; ".join(_background_note(t) for v, t in twins if t is not None and t.mode != "normal")
    return f"both ran once, after the final body message; {others}"


def _exit_after_cut(got) -> str:
    """pass: the dependency's exit ran without help; non-strict: only once a GC was asked; fail: never."""
    exits, gcs, dones = _marks(got, "dependency-exit"), got.of(GcRequested), got.of(GcDone)
    if not _marks(got, "dependency-enter"):
        raise Failure(f"{_where(got)}The dependency never ran", expected="dependency-enter", seen="none",
                      detail=got.failure_cause or "")
    if not exits:
        raise Failure(f"{_where(got)}The dependency's exit code never ran", expected="the code after `yield` runs",
                      seen="still open" + (" after a garbage collection" if gcs else ""),
                      detail=got.failure_cause or "")
    helped = gcs and got.position(exits[0]) > got.position(gcs[0]) and not (
        dones and got.position(exits[0]) > got.position(dones[0]))
    if helped:
        raise NonStrict(f"{_where(got)}The dependency's exit code ran only after a garbage collection",
                        expected="the code after `yield` runs when the request ends", seen="run by the GC")
    return f"{_where(got)}closed"


@check("dependency-teardown", forms=("raw",), claim="#dependencies-with-yield-and-streamingresponse-technical-details",
       twins=lambda v: [(v.with_context("teardown"), kind) for kind in ("normal", "disconnect", "error")]
       + [(v.with_context("teardown-function"), "normal")], applies=_applies)
def dependency_teardown(trace, scenario, variant, twins):
    """A dependency with ``yield`` (the page's database session) is open while every chunk is produced
    and closed after the response; with ``Depends(scope="function")`` it is closed before the first
    chunk; after a disconnect or a failed stream it is closed too (``non-strict``: only by a GC)."""
    (got,) = _twin(twins, "teardown")
    _stream_intact(got, scenario, "with a yield dependency")
    enter, exits, steps = _marks(got, "dependency-enter"), _marks(got, "dependency-exit"), got.of(GeneratorStep)
    if not enter or not exits or not steps:
        raise Failure("The dependency did not enter and exit around the stream", expected="enter, chunks, exit",
                      seen=f"{len(enter)} enter, {len(steps)} chunks, {len(exits)} exit")
    if got.position(exits[0]) < got.position(steps[-1]):
        before = sum(1 for s in steps if got.position(s) < got.position(exits[0]))
        raise Failure("The dependency was closed while the stream was produced",
                      expected="closed after the response is sent (since FastAPI 0.118.0)",
                      seen=f"closed after {before} of {len(steps)} chunks were produced",
                      detail="the page's database session would be closed under the stream")
    final = _final(got)
    if final is None or got.position(exits[0]) < got.position(final):
        raise Failure("The dependency was closed before the response was sent",
                      expected="closed after the final body message", seen="closed before it")
    (early,) = _twin(twins, "teardown-function")
    _stream_intact(early, scenario, 'with a scope="function" dependency')
    e_exit, e_steps = _marks(early, "dependency-exit"), early.of(GeneratorStep)
    if not e_exit or (e_steps and early.position(e_exit[0]) > early.position(e_steps[0])):
        raise Failure('The scope="function" dependency was still open when the first chunk was produced',
                      expected="closed right after the path operation function, before the response",
                      seen="never closed" if not e_exit else
                      f"closed after {sum(1 for s in e_steps if early.position(s) < early.position(e_exit[0]))} chunks")
    cut = [_exit_after_cut(t) for v, t in twins
           if t is not None and v.context == "teardown" and t.mode != "normal"]
    return ('open for every chunk, closed after the final message; scope="function": closed before the first '
            "chunk; " + ", ".join(cut))


STOP_WITHIN_S = 1.0  # beyond the server's graceful-shutdown deadline, as closure-on-shutdown allows


def _call_end(got):
    """The app's call ending (returned or raised), the first of them; None if it never did."""
    return next(iter(sorted(got.of(AppException) + got.of(AppReturned), key=got.position)), None)


def _control_stopped_s(control) -> float | None:
    """How long after its SIGTERM the server ended an ordinary stream's call (the variant itself, held
    in lock-step, awaiting) in the same process: what the server's shutdown takes on this machine in
    this run. None when that call did not end after the signal before the process was gone."""
    signals = control.of(ServerSignalled) if control is not None else []
    ended = _call_end(control) if signals else None
    if ended is None or control.position(ended) < control.position(signals[0]):
        return None
    return ended.t - signals[0].t


def _stopped_on_disconnect(got) -> str:
    cut = got.of(ClientDisconnected)
    steps = got.of(GeneratorStep)
    if not cut:
        raise Failure(f"{_where(got)}The client never got to leave mid-stream", expected="a cut after 2 chunks",
                      seen=got.failure_cause or "the stream ended first")
    after = len(got.after(cut[0], GeneratorStep))
    if len(steps) >= NEVER_AWAITS_CHUNKS:
        raise Failure(f"{_where(got)}The generator ran to its end after the client left",
                      expected="stopped soon after the disconnect",
                      seen=f"all {NEVER_AWAITS_CHUNKS} chunks produced, {after} of them after the client left",
                      detail="an async generator with no await is never cancelled unless the framework awaits "
                             "between chunks" + (f"; {got.failure_cause}" if got.failure_cause else ""))
    if got.of(DeadlineExceeded) or not (got.of(AppReturned) or got.of(AppException)):
        raise Failure(f"{_where(got)}The request did not end after the client left",
                      expected="the app's call ends", seen=got.failure_cause or "still running")
    return f"{_where(got)}stopped {after} chunks after the client left (of {NEVER_AWAITS_CHUNKS})"


def _finally_note(got, ended) -> str:
    """Whether the generator's own ``finally`` ran, and how: a finding, judged by closure-on-shutdown."""
    closed, gcs = got.of(ResourceClosed), got.of(GcRequested)
    stops = [m.name.split(":", 1)[1] for m in got.of(Mark) if m.name.startswith("stopped:")]
    if not closed:
        return "its finally never ran (left suspended at its yield)"
    how = f" ({stops[0]} thrown into it)" if stops else ""
    if gcs and got.position(closed[0]) > got.position(gcs[0]):
        return f"its finally ran only in the garbage collection asked for at lifespan shutdown{how}"
    return f"its finally ran {(closed[0].t - ended.t) * 1000:.0f} ms after the call ended{how}"


def _server_end(got) -> tuple[str, str]:
    """How the server process ended after SIGTERM, and its last log lines (evidence for a failure)."""
    exits = got.of(ServerExited)
    if not exits:
        return "?", ""
    end = exits[0]
    how = (f"still running after {end.waited_s:.1f} s, then killed" if end.returncode is None
           else f"exited with {end.returncode} {end.waited_s:.2f} s after SIGTERM")
    return how, (f"the server's last log lines: {show(end.log_tail.strip(), 300)}" if end.log_tail.strip() else "")


def _stopped_on_shutdown(got, control=None) -> str:
    """pass: the app's call ended (the generator is no longer driven) before the server process exited,
    within ``STOP_WITHIN_S`` of the later of the graceful deadline and the moment the same server ended
    an awaiting stream's call (``control``: measured in the same process, the same shutdown,
    so a loaded machine that slows the server's whole shutdown is not taken for a generator that
    cannot be stopped), and no chunk was produced after; fail otherwise."""
    signals = got.of(ServerSignalled)
    if not signals:
        raise Failure("[shutdown] The server was never signalled mid-stream", expected="SIGTERM while streaming",
                      seen=got.failure_cause or "the stream ended first")
    sig, steps = signals[0], got.of(GeneratorStep)
    after = len(got.after(sig, GeneratorStep))
    received = sum(1 for m in got.after(sig, BodyChunk) if m.data)  # each one produced: the client's own count
    ended = _call_end(got)
    awaiting = _control_stopped_s(control)
    reference = max(sig.graceful_s, awaiting or 0.0)
    within = reference + STOP_WITHIN_S
    because = (f"graceful {sig.graceful_s:g} s" if awaiting is None else
               f"graceful {sig.graceful_s:g} s; the server ended an awaiting stream's call {awaiting:.2f} s after it")
    exited, log = _server_end(got)
    if len(steps) >= UNTIL_STOPPED_CAP:
        raise Failure("[shutdown] The generator ran to its cap: the shutdown never stopped it",
                      expected=f"stopped within {within:.2f} s of SIGTERM",
                      seen=f"all {UNTIL_STOPPED_CAP} chunks produced, {after} after SIGTERM; the server {exited}",
                      detail="an async generator with no await is never cancelled unless the framework awaits "
                             "between chunks" + (f"; {log}" if log else ""))
    if ended is None:
        raise Failure("[shutdown] The generator was never stopped before the server process was gone",
                      expected=f"the app's call cancelled within {within:.2f} s of SIGTERM, before the process exits",
                      seen=f"the call never ended; {received} chunks reached the client after SIGTERM ({after} "
                           f"produced after it as the server process last reported); the server {exited}",
                      detail=log)
    late = ended.t - sig.t
    if late > within:
        raise Failure("[shutdown] The generator was stopped later than the server's shutdown allows",
                      expected=f"within {within:.2f} s of SIGTERM ({because}; + {STOP_WITHIN_S:g} s)",
                      seen=f"{late:.2f} s, {after} chunks after SIGTERM", detail=log)
    on = len(got.after(ended, GeneratorStep))
    if on:
        raise Failure("[shutdown] The generator went on producing after the app's call ended",
                      expected="no chunk after the call ended", seen=f"{on} more chunks", detail=log)
    how = f"{ended.type}" if isinstance(ended, AppException) else "the call returned"
    return (f"[shutdown] stopped ({how}) {late:.2f} s after SIGTERM ({because}), {after} "
            f"chunks after it ({len(steps)} in all), before the process was gone (the server {exited}); "
            f"{_finally_note(got, ended)}")


@check("cancellable", forms=("raw",), claim="#a-streamingresponse-with-yield",
       twins=lambda v: [(v.with_context("never-awaits"), "disconnect"),
                        (v.with_context("never-awaits-until-stopped"), "shutdown"), (v, "shutdown")],
       applies=_async_only)
def cancellable(trace, scenario, variant, twins):
    """An ``async def`` generator that never awaits (the page's own shape, fastapi#14680) stops soon
    after the client leaves: the framework gives the loop a turn after each chunk, so the disconnect is
    noticed and the generator cancelled, in-process and on every server. On a server, it also stops
    when the server is told to stop (SIGTERM) while a client reads on: the app's call ends before the
    process exits, within 1 s of the later of its graceful deadline and the moment it ended an
    awaiting stream's call (the variant itself, in the same shutdown) (``n/a`` in-process: no server
    to stop)."""
    notes = [_stopped_on_disconnect(got) for got in _twin(twins, "never-awaits", "disconnect")]
    control = next(iter(_traced(twins, "", "shutdown")), None)  # the variant itself: its call awaits
    notes += [_stopped_on_shutdown(got, control) for got in _traced(twins, "never-awaits-until-stopped", "shutdown")
              ] or [
        "[shutdown] n/a on this engine: there is no server process to stop"]
    return "; ".join(notes)
