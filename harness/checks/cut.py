"""Checks on streams that do not end normally: the client leaves, the producer fails, the server
stops. The page promises the file opened in the generator's ``with`` block is closed (C10); users
rely on that beyond the happy path, and on the generator not running on for nobody."""

from __future__ import annotations

from ..trace import (AppException, AppReturned, ClientDisconnected, ConnectionClosed, DeadlineExceeded, GcDone,
                     GcRequested, GeneratorStep, Mark,
                     ResourceClosed, ServerExited, ServerSignalled, lifecycle_violations)
from ..forms.items import SSE_READ_AHEAD
from ..modes import CUT_AT
from . import Failure, NonStrict, NotApplicable, check, show

CLOSE_WITHIN_S = 1.0  # the promise is closure; a second is generous for "without help"

# After the client left, the generator may be asked for a few more chunks before the framework
# and the server notice (a chunk already requested from the threadpool, one `await` until the
# disconnect task runs, a write that fails only after the peer's reset). Over a socket the probe
# paces the producer at 10 ms a chunk once the client left (serve.AFTER_GONE_PACE_S), so this
# bound also means "the server told the app within about 80 ms". More is running on for nobody.
MAX_STEPS_AFTER_DISCONNECT = 8


def _closure(trace, cut, what: str, within_s: float = CLOSE_WITHIN_S) -> str:
    """pass: closed without help within ``within_s``; non-strict: only later or after a GC; fail: never."""
    opened, closed = trace.resource_events()
    if not opened:
        raise Failure("The resource was never opened", expected="opened by the generator", seen="never opened",
                      detail=trace.failure_cause or "")
    gcs = trace.of(GcRequested)
    dones = trace.of(GcDone)
    # helped: closed after a GC was asked for, and not after that GC had returned (then it was
    # something else, e.g. a server cancelling the request later)
    helped = bool(closed and gcs and trace.position(closed[0]) > trace.position(gcs[0]) and not (
        dones and trace.position(closed[0]) > trace.position(dones[0])))
    late = closed and cut and closed[0].t - cut.t > within_s
    since = ""
    if closed and cut:
        delta = (closed[0].t - cut.t) * 1000
        since = f"{delta:.1f} ms after {what}" if delta >= 0 else f"as {what} unwound"
    if closed and not late and not helped:
        return f"{closed[0].resource} closed {since} without help"
    if closed:
        how = f"later than {within_s:g} s" if late and not gcs else "only after a garbage collection was requested"
        raise NonStrict(f"The resource was closed {how}",
                        expected=f"closed within {within_s:g} s of {what}, without help", seen=f"closed {since}",
                        detail="the page promises closure; a GC is not a promise (a reference cycle or a "
                               "generator left for the finaliser keeps it open)")
    if gcs:
        seen = "still open once nothing was left to run, and after a garbage collection"
        if any(m.name == "server-reaper-stopped" for m in trace.of(Mark)):
            seen += (": the server holds the failed app's task (its exception, so the generator) for good, "
                     "its periodic reaper having stopped (daphne's application checker stops at a failed app "
                     "whose client is still connected after the response started)")
    else:
        told = any(isinstance(e, (AppException, AppReturned)) for e in trace.events[trace.position(cut):]) if cut else True
        seen = ("still open when the server process exited (it sent no lifespan shutdown, so no GC was asked); "
                + ("the app's call had ended" if told else "the app's call never ended: the server did not cancel it"))
    raise Failure(f"The resource was never closed after {what}", expected=f"{opened[0].resource} closed", seen=seen)


# When the client cuts an SSE stream, the producer may already be SSE_READ_AHEAD items ahead, and once
# the client has left the server process lets it go on at one item per 10 ms until the server tells the
# app: with 7 items (cut after 2) it then finished first, or not, from run to run on every server (one
# to three results of forty flipped between a verdict and n/a). Items beyond the read-ahead that a
# server's notice must beat.
SSE_CUT_MARGIN = 8


def _cuttable(scenario, variant, needed: int, *, client_cut: bool = False) -> None:
    """n/a unless the payload surely outlasts the cut, so that whether it did is no race and the verdict
    cannot flip from run to run. SSE: the producer runs up to ``SSE_READ_AHEAD`` items ahead of the
    client (FastAPI's keep-alive streams), and when the client cut, :data:`SSE_CUT_MARGIN` more must be
    left. JSON Lines when the client cut (a disconnect, a SIGTERM): the item after the last one read is
    made, or not, between the client's acknowledgement and the cut landing, so one more must be left
    that lock-step cannot have let through. (Raw payloads of 3 chunks did not flip over two versions x
    six engines; a producer's own failure is no race.)"""
    if variant.form == "sse":
        needed += SSE_READ_AHEAD + 1 + (SSE_CUT_MARGIN if client_cut else 0)
    elif variant.form == "jsonl" and client_cut:
        needed += 2
    if sum(1 for c in scenario.chunks if c) < needed:
        why = {"sse": f" with the producer up to {SSE_READ_AHEAD} items ahead (SSE)"
                      + (f" and {SSE_CUT_MARGIN} left for the server to notice the cut" if client_cut else ""),
               "jsonl": " with one item left that lock-step cannot have let through" if client_cut else ""}
        raise NotApplicable(f"the payload has fewer than {needed} non-empty chunks: it cannot be cut after "
                            f"{CUT_AT} of them" + why.get(variant.form, ""))


def _disconnect(trace, scenario, variant):
    _cuttable(scenario, variant, CUT_AT, client_cut=True)
    cuts = trace.of(ClientDisconnected)
    if not cuts:
        raise Failure("The client never got to disconnect mid-stream",
                      expected="the chunks before the cut", seen=trace.failure_cause or "the stream ended first")
    cut = cuts[0]
    before = len([e for e in trace.events[:trace.position(cut)] if isinstance(e, GeneratorStep)])
    if before >= len(scenario.chunks):
        raise NotApplicable(f"the generator had produced all {len(scenario.chunks)} chunks before the client "
                            "left (they sat in buffers): nothing was left to stop; a longer scenario can tell")
    return cut, before


@check("closure-on-disconnect", claim="#simulate-a-file", kind="disconnect")
def closure_on_disconnect(trace, scenario, variant):
    """The client reads a few chunks and leaves: the file opened in the generator's ``with`` block
    is closed within 1 s without help (``pass``), only after a GC (``non-strict``) or never (``fail``)."""
    if variant.is_page and variant.page_path.startswith("/story/"):
        raise NotApplicable("the page's story routes open no resource")
    cut, _ = _disconnect(trace, scenario, variant)
    return _closure(trace, cut, "the disconnect")


@check("generator-stops-on-disconnect", claim="#simulate-a-file", kind="disconnect")
def generator_stops_on_disconnect(trace, scenario, variant):
    """After the client left, the generator produces at most a few more chunks: it must not run on
    to the end of the payload for nobody."""
    cut, before = _disconnect(trace, scenario, variant)
    after = len(trace.after(cut, GeneratorStep))
    left = len(scenario.chunks) - before
    if left <= MAX_STEPS_AFTER_DISCONNECT:
        raise NotApplicable(f"only {left} chunks were left when the client went away: too few to tell "
                            f"stopping from finishing (the bound is {MAX_STEPS_AFTER_DISCONNECT})")
    if after > MAX_STEPS_AFTER_DISCONNECT:
        raise Failure("The generator kept producing after the client left",
                      expected=f"at most {MAX_STEPS_AFTER_DISCONNECT} more chunks",
                      seen=f"{after} more chunks ({before + after} of {len(scenario.chunks)} in all)",
                      detail=f"the client left after {cut.after_chunks} non-empty chunks")
    return f"{after} chunk(s) produced after the disconnect, of {left} left"


@check("closure-on-error", claim="#simulate-a-file", kind="error")
def closure_on_error(trace, scenario, variant):
    """The producer raises after a few chunks: the resource is closed, and the response is visibly
    broken (no final message / no terminating chunk), so a truncated body never passes as complete."""
    _cuttable(scenario, variant, CUT_AT + 1)
    failures = trace.of(AppException) + trace.of(ConnectionClosed)
    cut = failures[0] if failures else None
    verdict = None
    if not (variant.is_page and variant.page_path.startswith("/story/")):
        verdict = _closure(trace, cut, "the failure")
    problems = lifecycle_violations(trace.events)
    if not problems:
        raise Failure("The truncated response looked complete",
                      expected="no final message / no terminating chunk after the producer failed",
                      seen=f"a complete response of {len(trace.body)} bytes",
                      detail="a client cannot tell this body from a whole one")
    how = problems[-1]
    if trace.of(DeadlineExceeded):
        how += f"; the server left the connection open ({trace.failure_cause})"
    return f"{verdict + '; ' if verdict else ''}the client saw a broken response ({how})"


@check("closure-on-shutdown", claim="#simulate-a-file", kind="shutdown")
def closure_on_shutdown(trace, scenario, variant):
    """The server is told to stop (SIGTERM) mid-stream: the resource is closed and the server exits
    within its graceful-shutdown deadline."""
    if variant.is_page and variant.page_path.startswith("/story/"):
        raise NotApplicable("the page's story routes open no resource")
    _cuttable(scenario, variant, CUT_AT, client_cut=True)
    signals = trace.of(ServerSignalled)
    if not signals:
        raise Failure("The server was never signalled mid-stream", expected="SIGTERM while streaming",
                      seen=trace.failure_cause or "the stream ended first")
    before = trace.events[:trace.position(signals[0])]
    produced = sum(isinstance(e, GeneratorStep) for e in before)
    if produced >= len(scenario.chunks) or any(isinstance(e, ResourceClosed) for e in before):
        raise NotApplicable(f"the generator had produced all {len(scenario.chunks)} chunks before SIGTERM (they "
                            "sat in buffers): no stream was cut; a longer scenario can tell")
    # the server may hold streams for its graceful-shutdown deadline before it cancels them
    exits = trace.of(ServerExited)
    try:
        verdict = _closure(trace, signals[0], "SIGTERM", signals[0].graceful_s + CLOSE_WITHIN_S)
    except Failure as failure:
        if exits and exits[0].log_tail.strip():  # what the server said as it stopped
            failure.detail = (failure.detail + "; " if failure.detail else "") + \
                f"the server's last log lines: {show(exits[0].log_tail.strip(), 300)}"
        raise
    if not exits or exits[0].returncode is None:
        waited = f"{exits[0].waited_s:.1f} s" if exits else "?"
        raise Failure("The server did not exit within its graceful-shutdown deadline",
                      expected="the process exits", seen=f"still running after {waited} (then killed)")
    return f"{verdict}; the server exited with {exits[0].returncode} after {exits[0].waited_s:.2f} s"


__all__ = ["closure_on_disconnect", "generator_stops_on_disconnect", "closure_on_error", "closure_on_shutdown",
           "MAX_STEPS_AFTER_DISCONNECT"]
