"""The event loop while ``def`` generators block: the page's "files and async" section (C11, C12).

Bounds are ratios against a negative control measured in the same run (the same blocking work in
an ``async def`` generator, which blocks the loop): no absolute millisecond figure decides alone.
"""

from __future__ import annotations


from ..engines.loop_probe import median, p99
from ..variants import all_variants
from ..trace import LagSample, ProbeSample, StreamSummary
from . import CannotMeasure, Failure, Informational, check

CONTROL_RATIO = 4  # a def variant's totals must stay below a quarter of the blocking control's
CONTROL_MIN = 0.5  # the control's total lag must reach half its blocking work, or nothing is seen
SATURATION_VARIANT = "def-noann-bytes-for-plain"
CONTROL_VARIANT = "async-noann-bytes-for-plain"  # one negative control per run and engine


def _missing(trace) -> str | None:
    """Which samples a trace lacks: a sum of nothing is 0, which must not read as "not blocked"."""
    for kind, name in ((LagSample, "loop-lag"), (ProbeSample, "probe")):
        if not trace.of(kind):
            return name
    return None


def _figures(trace) -> tuple[float, float]:
    """Totals decide: the time the loop woke late, summed, and the time probes waited, summed. A blocked
    loop takes few samples (it cannot wake to take them), so a median misses it; a stream lasts a few
    hundred ms, so a p99 of its ~50 samples is their maximum: one scheduler hiccup of a loaded machine.
    The sum is the blocked time itself, and one hiccup adds only its own length to it."""
    return sum(e.lag_s for e in trace.of(LagSample)), sum(e.latency_s for e in trace.of(ProbeSample))


def _tails(trace) -> str:
    lags, probes = [e.lag_s for e in trace.of(LagSample)], [e.latency_s for e in trace.of(ProbeSample)]
    return (f"lag p50 {_ms(median(lags))} p99 {_ms(p99(lags))} over {len(lags)} samples, "
            f"probe p50 {_ms(median(probes))} p99 {_ms(p99(probes))} over {len(probes)}")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _control(variant):
    """The negative control: the same blocking work in an ``async def`` route. Annotation, chunk type
    and response class do not change where the work runs, so one control serves every variant."""
    return [v for v in all_variants() if v.id == CONTROL_VARIANT]


def _blocking(scenario, variant) -> str | None:
    if not scenario.block_s:
        return "measured on scenarios whose reads block (blocking-read)"
    if variant.is_page:
        return "measured on the generated variants"
    if variant.axis["function"] == "async" and variant.id != CONTROL_VARIANT:
        return f"the async negative control is {CONTROL_VARIANT}"
    return None


def _saturation_variant(scenario, variant) -> str | None:
    if variant.id != SATURATION_VARIANT:
        return f"measured once per engine, on {SATURATION_VARIANT}"
    return _blocking(scenario, variant)


@check("loop-not-blocked", claim="#files-and-async", kind="latency", twins=_control, applies=_blocking)
def loop_not_blocked(trace, scenario, variant, twins):
    """While K ``def`` streams block on every read, the loop's total lag and the total wait of trivial
    requests stay below a quarter of what the same work in ``async def`` causes in this run."""
    if _missing(trace):
        raise CannotMeasure(f"no {_missing(trace)} samples were recorded")
    lag, probe = _figures(trace)
    streams = trace.of(StreamSummary)
    if not streams or any(s.chunks != len(scenario.chunks) for s in streams):
        raise Failure("Not every stream completed", expected=f"{len(scenario.chunks)} chunks per stream",
                      seen=[s.chunks for s in streams])
    if variant.axis["function"] == "async":
        raise Informational(f"negative control (async def blocking on each read): loop lag total {_ms(lag)}, "
                            f"probe wait total {_ms(probe)} ({_tails(trace)}) with {_ms(scenario.block_s)} "
                            "blocking per chunk: blocking reads in async def block the loop, as the page warns")
    (control_variant, control), = twins
    if control is None:
        raise CannotMeasure(f"no control: {control_variant.id} could not run")
    if _missing(control):
        raise CannotMeasure(f"no {_missing(control)} samples were recorded for the control {control_variant.id}")
    c_lag, c_probe = _figures(control)
    work = CONTROL_MIN * scenario.block_s * len(scenario.chunks) * len(control.of(StreamSummary))
    if not c_lag >= work:
        raise CannotMeasure(f"the negative control {control_variant.id} shows a total lag of {_ms(c_lag)}, "
                            f"less than half of its {_ms(2 * work)} of blocking reads: this run cannot see blocking")
    bound_lag, bound_probe = c_lag / CONTROL_RATIO, c_probe / CONTROL_RATIO
    figures = (f"loop lag total {_ms(lag)} (bound {_ms(bound_lag)}), probe wait total {_ms(probe)} (bound "
               f"{_ms(bound_probe)}); {_tails(trace)}; control {control_variant.id}: lag total {_ms(c_lag)}, "
               f"probe wait total {_ms(c_probe)}")
    if lag > bound_lag or probe > bound_probe:
        raise Failure("The event loop was blocked while def streams ran",
                      expected=f"below 1/{CONTROL_RATIO} of the async control", seen=figures)
    return figures


@check("threadpool-saturation", claim="#files-and-async", kind="saturation", applies=_saturation_variant)
def threadpool_saturation(trace, scenario, variant):
    """Informational: 1, 8, 40 (anyio's default thread limit) and 64 concurrent ``def`` streams: probe
    latency, per-stream throughput, and whether streams starve each other. For sizing a deployment."""
    rows = ["streams | probe p99 | stream time min / max | throughput per stream | starved"]
    for group in sorted({s.group for s in trace.of(StreamSummary)}):
        mine = [s for s in trace.of(StreamSummary) if s.group == group]
        start = min(s.t - s.duration_s for s in mine)
        end = max(s.t for s in mine)
        probes = [e.latency_s for e in trace.of(ProbeSample) if start <= e.t <= end]
        times = [s.duration_s for s in mine]
        ideal = len(scenario.chunks) * scenario.block_s
        starved = sum(t > 2 * ideal for t in times)
        rows.append(f"{group:>7} | {_ms(p99(probes)):>9} | {_ms(min(times))} / {_ms(max(times))} | "
                    f"{sum(s.size for s in mine) / len(mine) / max(times) / 1024:.1f} KiB/s | "
                    f"{starved} of {group} took over 2x the {_ms(ideal)} of their reads")
    raise Informational("\n".join(rows))
