"""The runner: scenario + variant -> route -> engine -> trace -> checks -> results.

It owns the order of work and the cache of traces (each variant is requested once, however
many checks and twins read it); it judges nothing itself.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from dataclasses import dataclass
from typing import Callable, Iterable

from .app.encoding import UndecodableBody, decode_trace
from .checks import Check, Verdict
from .engines import Engine
from .forms import form_missing_reason
from .modes import NORMAL, Kind, Mode
from .outcomes import BARE, Outcome, Result
from .probes import LockStep
from .routes import build_route
from .scenarios import Scenario
from .trace import AppException, LockStepViolation, Recorder, Trace
from .variants import Variant, VariantFilter, all_variants, form_variants, page_variants
from .installed import feature_missing_reason

__all__ = ["Case", "plan_cases", "Runner"]


@dataclass(frozen=True)
class Case:
    scenario: Scenario
    variant: Variant

    @property
    def id(self) -> str:
        return f"{self.scenario.name}/{self.variant.id}"


def plan_cases(scenarios: Iterable[Scenario], vfilter: VariantFilter | None = None,
               include_page: bool = True) -> list[Case]:
    """Every selected (scenario, variant): the full product, then the page's reference routes."""
    vfilter = vfilter or VariantFilter(None)
    cases = []
    for sc in scenarios:
        variants = _planned(sc) + (page_variants(sc.page_sample) if include_page and sc.page_sample else [])
        cases += [Case(sc, v) for v in variants if vfilter(v)]
    return cases


def _planned(sc: Scenario) -> list[Variant]:
    """A raw scenario's product; an item scenario's form families, without the variants it excludes
    (the forms are new: what a scenario leaves out is not even planned, not a row of n/a)."""
    if not sc.has_items:
        return all_variants()
    return [v for form in sc.forms for v in form_variants(form)
            if not (sc.variants and not VariantFilter(list(sc.variants))(v))]


class _Source:
    """A route's way to open its scenario's instrumented chunks (:data:`~harness.routes.OpenSource`),
    let go of when its scenario ends. FastAPI keeps the endpoints it classified alive (lru caches of
    4 096 callables each in 0.16x) and each endpoint's namespace holds this: without the release, a
    run of every engine kept every request's recorder, lock-step gate and events (450 000 objects)
    to its end, and every full collection of the harness heap walked them."""

    __slots__ = ("scenario", "recorder", "gate")

    def __init__(self, scenario: Scenario, recorder: Recorder, gate: LockStep) -> None:
        self.scenario: Scenario | None = scenario
        self.recorder, self.gate = recorder, gate

    def __call__(self, chunk_type: str):
        if self.scenario is None:
            raise RuntimeError("this route's scenario has ended: the harness let go of its source")
        return self.scenario.open(chunk_type, self.recorder, self.gate)

    def release(self) -> None:
        self.scenario = self.recorder = self.gate = None


class BuildFailed(Exception):
    """The route could not even be declared on the installed FastAPI."""


class EngineFailed(BuildFailed):
    """The engine broke while performing the request: an ``error`` of the run, never a verdict."""


def _observed(got: Trace | BuildFailed) -> str:
    """One line on what a request did, for the detail of an ``unsupported`` result."""
    if isinstance(got, BuildFailed):
        return str(got)
    body = got.body
    summary = f"status {got.status}, {len(body)} body bytes {body[:60]!r}"
    return summary + (f", {got.failure_cause}" if got.failure_cause else "")


def _with_decoded(detail: str, trace: Trace) -> str:
    """``detail`` and, when a middleware's encoding was decoded before judging, how."""
    if not trace.decoded:
        return detail
    return f"{detail}\n({trace.decoded})" if detail else f"({trace.decoded})"


class Runner:
    """Performs the cases of one engine through one target and judges them. It owns the only trace
    cache: every check and twin reads one request per (scenario, variant, mode); a batched kind
    (:attr:`Engine.batched_kinds`) is requested for every planned case at once and cached here too."""

    def __init__(self, engine: Engine, checks: list[Check], *, builder: Callable[..., object] = build_route,
                 deadline_s: float | None = None, lockstep_wait_s: float = 2.0,
                 missing_reason: str | None = None, app: str = BARE, plan: list[Case] | None = None) -> None:
        self.engine, self.checks, self.builder, self.app = engine, checks, builder, app
        self.deadline_s, self.lockstep_wait_s = deadline_s, lockstep_wait_s
        self.missing_reason = feature_missing_reason() if missing_reason is None else (missing_reason or None)
        self.plan: list[Case] = list(plan or [])  # what a batched kind may request together
        # side requests are made only when a selected check reads them (no /openapi.json otherwise)
        self.side_requests = frozenset(s for c in checks for s in c.side_requests)
        self._traces: dict[tuple[str, str, str], Trace | BuildFailed] = {}
        self._sources: list[_Source] = []  # the current scenario's (released with its traces)
        self.request_s = 0.0  # time spent in the engine's requests (the app, and the engine driving it)
        self.timing: dict[str, list[float]] = {}  # scenario -> [its cases' time, of which in requests]

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the engine (its loop, its servers): nothing the run started may outlive it."""
        self.engine.stop()
        self._release_sources()

    def forget_scenario(self, scenario: Scenario) -> None:
        """Drop a finished scenario's traces and payload: a 64 MiB one must not stay for the whole run."""
        for key in [k for k in self._traces if k[0] == scenario.name]:
            del self._traces[key]
        self._release_sources()
        scenario.release()

    def _release_sources(self) -> None:
        for source in self._sources:
            source.release()
        self._sources.clear()

    def trace(self, scenario: Scenario, variant: Variant, mode: Mode = NORMAL) -> Trace | BuildFailed:
        """Perform the variant's request once per mode; later calls return the same trace."""
        key = (scenario.name, variant.id, mode.key)
        if key not in self._traces:
            if mode.kind in self.engine.batched_kinds and not self._alone(scenario, variant, mode.kind):
                self._perform_batch(scenario, variant, mode)
            else:
                self._traces[key] = self._perform(scenario, variant, mode)
        return self._traces[key]

    def _build(self, scenario: Scenario, variant: Variant, mode: Mode, recorder: Recorder):
        """The route of one request (or why it cannot be declared), with its producer's lock-step gate."""
        gate = LockStep(recorder, self._lockstep_wait(), raise_at=mode.at if mode.rules.producer_raises else None,
                        enforce=not mode.stream_counts  # several streams share it
                        and not self._reads_ahead(scenario, variant, mode))
        gate.in_flight = 0 if self.app == BARE else 1  # a team's stack may hold one message in a hand-off
        source = _Source(scenario, recorder, gate)
        self._sources.append(source)
        try:
            route = self.builder(scenario, variant, source)
        except Exception as exc:  # the installed FastAPI refused to declare this variant
            return BuildFailed(f"the route could not be declared: {type(exc).__name__}: {exc}")
        route = dataclasses.replace(route, scenario=scenario.name, variant=variant.id)
        return route if "openapi" in self.side_requests else dataclasses.replace(route, openapi_path="")

    def _lockstep_wait(self) -> float:
        """How long the producer waits for the chunk before it: none bare in-process (the engine's
        ``send`` records chunk k before the framework can ask for chunk k+1, so a missing chunk is
        proof), the full wait through a team's app (a zero-buffer hand-off such as
        BaseHTTPMiddleware lets the producer run one chunk ahead of the outer ``send``)."""
        return 0.0 if self.app == BARE and self.engine.in_process else self.lockstep_wait_s

    def _perform(self, scenario: Scenario, variant: Variant, mode: Mode) -> Trace | BuildFailed:
        recorder = Recorder()
        route = self._build(scenario, variant, mode, recorder)
        if isinstance(route, BuildFailed):
            return route
        t0 = time.monotonic()
        try:
            return decode_trace(self.engine.perform(route, recorder, self.deadline_s or scenario.deadline_s, mode))
        except UndecodableBody as exc:  # the harness cannot read the body: its error, not a verdict
            return EngineFailed(str(exc))
        except Exception as exc:  # a dead server, a broken side channel: reported, the run goes on
            return EngineFailed(f"the {self.engine.name} engine failed during a {mode.kind.value} request: "
                                f"{type(exc).__name__}: {exc}")
        finally:
            self.request_s += time.monotonic() - t0

    def _perform_batch(self, scenario: Scenario, variant: Variant, mode: Mode) -> None:
        """The requested case and every planned case a selected check reads in ``mode`` (with, in a kind
        that stops its server, their twins of that kind: see :meth:`_batch_mates`), in one batch."""
        todo = [(scenario, variant)] + [(sc, v) for sc, v in self._batch_mates(scenario, mode)
                                        if (sc.name, v.id) != (scenario.name, variant.id)]
        self._batch(todo, mode, self.deadline_s or scenario.deadline_s)

    def _judges(self, sc: Scenario, v: Variant, check: Check) -> bool:
        """Does :meth:`judge` call ``check`` on this case? What it asks before any request: a batch
        requests no stream that nobody judges."""
        return not (sc.na_reason(v) or sc.engine_na_reason(self.engine.name) or self.missing_reason
                    or form_missing_reason(v) or sc.check_na_reason(check.name)
                    or (check.applies and check.applies(sc, v)))

    def _alone(self, sc: Scenario, v: Variant, kind: Kind) -> bool:
        """Does a selected check read a process-wide measurement of this case's ``kind`` of request
        (:attr:`Check.alone`)? Then that request is performed by itself, never in a batch."""
        return any(c.alone and c.kind is kind and self._judges(sc, v, c) for c in self.checks)

    def _judged_in(self, case: Case, kind: Kind) -> bool:
        """Will a selected check read ``case``'s own trace of ``kind``?"""
        return any(c.kind is kind and self._judges(case.scenario, case.variant, c) for c in self.checks)

    def _batch(self, todo: list[tuple[Scenario, Variant]], mode: Mode, deadline_s: float) -> None:
        """Every (scenario, variant) of ``todo`` not traced yet in ``mode``, in one engine batch."""
        items, keys = [], []
        for sc, v in todo:
            key = (sc.name, v.id, mode.key)
            if key in self._traces or key in keys or self._alone(sc, v, mode.kind):
                continue  # traced already, or to be performed by itself when asked
            recorder = Recorder()
            route = self._build(sc, v, mode, recorder)
            if isinstance(route, BuildFailed):
                self._traces[key] = route
            else:
                items.append((route, recorder))
                keys.append(key)
        if not items:
            return
        t0 = time.monotonic()
        try:
            traces = self.engine.perform_batch(items, deadline_s, mode)
        except Exception as exc:
            failed = EngineFailed(f"the {self.engine.name} engine failed during a batch of {len(items)} "
                                  f"{mode.kind.value} requests: {type(exc).__name__}: {exc}")
            traces = [failed] * len(items)
        finally:
            self.request_s += time.monotonic() - t0
        for key, got in zip(keys, traces):
            try:
                self._traces[key] = got if isinstance(got, BuildFailed) else decode_trace(got)
            except UndecodableBody as exc:  # the harness cannot read the body: its error, not a verdict
                self._traces[key] = EngineFailed(str(exc))

    def _batch_mates(self, scenario: Scenario, mode: Mode) -> list[tuple[Scenario, Variant]]:
        """What a batch in ``mode`` requests besides the case that asked: every planned case a selected
        check reads in that kind (of ``scenario`` only, in a kind whose batches are per scenario) and,
        in a kind that stops its server (one fresh server and one SIGTERM per batch), the twins the
        selected checks request in that kind of the planned cases they apply to, so the server is
        stopped once for them all, not once per case. Other batched kinds get their twins in a batch of
        their own per scenario (:meth:`_batch_twins`)."""
        mates = []
        for c in self.plan:
            if mode.rules.batch_per_scenario and c.scenario.name != scenario.name:
                continue
            if self._judged_in(c, mode.kind):
                mates.append((c.scenario, c.variant))
            for check in self.checks if mode.rules.needs_server else ():
                if self._judges(c.scenario, c.variant, check):
                    mates += [(c.scenario, twin) for twin, modes in self._twin_modes(c.variant, check)
                              if mode in modes and not c.scenario.na_reason(twin)]
        return mates

    def forget(self, scenario: Scenario, check: Check) -> None:
        """Drop the traces ``check`` reads for ``scenario`` in its own kind (every variant: a twin or a
        control may be among them), so judging again measures again. Normal traces are kept: what they
        decide does not depend on timing."""
        keys = {m.key for m in self.engine.modes(check.kind)} if check.kind is not Kind.NORMAL else set()
        self._traces = {k: v for k, v in self._traces.items() if not (k[0] == scenario.name and k[2] in keys)}

    def _reads_ahead(self, scenario: Scenario, variant: Variant, mode: Mode) -> bool:
        """The variant's normal request already showed the app reads ahead of the client (a buffering
        middleware): its other requests are not held in lock-step, which would only cost a wait each
        (``incremental-delivery`` judges the normal request)."""
        normal = self._traces.get((scenario.name, variant.id, NORMAL.key)) if mode != NORMAL else None
        return isinstance(normal, Trace) and bool(normal.of(LockStepViolation))

    def _twin_modes(self, variant: Variant, check: Check) -> list[tuple[Variant, list[Mode]]]:
        """The variants ``check`` compares ``variant`` with (an axis's twins, or what its callable
        names), each with the modes it is traced in; none for a check that compares nothing."""
        if not check.twins:
            return []
        others = variant.twins(check.twins) if isinstance(check.twins, str) else check.twins(variant)
        mode = self.engine.modes(check.kind)[0] if check.kind is not Kind.NORMAL else NORMAL
        out = []
        for other in others:
            # a twin may name the kind of request it needs, ``(variant, "disconnect")``: one trace per
            # way the engine performs it (none where it cannot; the trace's ``mode`` says which)
            twin, kind = other if isinstance(other, tuple) else (other, None)
            out.append((twin, [mode] if kind is None else self.engine.modes(Kind.parse(kind))))
        return out

    def _batch_twins(self, scenario: Scenario, check: Check) -> None:
        """The twins ``check`` reads in a batched kind, for every planned case of ``scenario`` it judges,
        requested together: twins are planned by no case (a context variant), so each would otherwise
        be a batch of one, paying a server's grace period once per twin instead of once."""
        wanted: dict[Mode, list[tuple[Scenario, Variant]]] = {}
        for c in self.plan:
            v = c.variant
            if c.scenario.name != scenario.name or not self._judges(scenario, v, check):
                continue
            for twin, modes in self._twin_modes(v, check):
                if scenario.na_reason(twin):
                    continue
                for m in modes:
                    if m.kind in self.engine.batched_kinds:
                        wanted.setdefault(m, []).append((scenario, twin))
        for m, todo in wanted.items():
            self._batch(todo, m, self.deadline_s or scenario.deadline_s)

    def _twins(self, scenario: Scenario, variant: Variant, check: Check) -> list[tuple[Variant, Trace | None]]:
        """The variants ``check`` compares with, traced in the check's own mode (or the modes a twin names)."""
        twins = []
        pairs = self._twin_modes(variant, check)
        if any(m.kind in self.engine.batched_kinds and (scenario.name, twin.id, m.key) not in self._traces
               for twin, modes in pairs if not scenario.na_reason(twin) for m in modes):
            self._batch_twins(scenario, check)
        for twin, modes in pairs:
            if scenario.na_reason(twin):
                twins.append((twin, None))
                continue
            for twin_mode in modes:
                got = self.trace(scenario, twin, twin_mode)
                if isinstance(got, EngineFailed):
                    raise got
                if isinstance(got, BuildFailed):  # a twin that cannot be declared differs observably
                    got = Trace(self.engine.name, "", (AppException(0.0, "BuildFailed", str(got)),), 0.0,
                                mode=twin_mode.key)
                twins.append((twin, got))
        return twins

    def judge(self, case: Case, checks: list[Check] | None = None) -> list[Result]:
        """Results of ``checks`` (default: the runner's) on one case."""
        checks = self.checks if checks is None else checks
        sc, v = case.scenario, case.variant
        na = sc.na_reason(v) or sc.engine_na_reason(self.engine.name)
        if na:
            return [self._result(case, c, Outcome.NA, na) for c in checks]
        skip = {c.name: sc.check_na_reason(c.name) or (c.applies(sc, v) if c.applies else None) for c in checks}
        if any(skip.values()):  # n/a before any request is made for them
            own = [c for c in checks if not skip[c.name]]
            mine = {c.name: r for c, r in zip(own, self.judge(case, own))} if own else {}
            return [mine.get(c.name) or self._result(case, c, Outcome.NA, skip[c.name]) for c in checks]
        missing = self.missing_reason or form_missing_reason(v)
        if missing:  # still try it, so the report shows what this FastAPI does instead
            reason = f"{missing}; observed: {_observed(self.trace(sc, v))}"
            return [self._result(case, c, Outcome.UNSUPPORTED, reason) for c in checks]
        if all(c.kind is not Kind.NORMAL for c in checks):  # each makes its own requests: no normal one
            return [self._run_check(case, c, None, 0.0) for c in checks]
        t0 = time.monotonic()
        got = self.trace(sc, v)
        request_s = time.monotonic() - t0
        if isinstance(got, BuildFailed):
            return [self._result(case, c, Outcome.ERROR, str(got)) for c in checks]
        return [self._run_check(case, c, got, request_s) for c in checks]

    def _run_check(self, case: Case, check: Check, trace: Trace | None, request_s: float) -> Result:
        t0 = time.monotonic()
        if check.kind is Kind.NORMAL and trace is not None:
            outcome, detail = self._call(check, case, trace)
        else:
            outcome, detail = self._call_modes(check, case)
        if check.kind is Kind.NORMAL and trace is not None and outcome is not Outcome.NA:
            detail = _with_decoded(detail, trace)  # the trace the check read: a kind of its own says its own
        return self._result(case, check, outcome, detail, time.monotonic() - t0, {"request_s": round(request_s, 6)})

    def _call(self, check: Check, case: Case, trace: Trace) -> tuple[Outcome, str]:
        args: list[object] = [trace, case.scenario, case.variant]
        try:
            if check.twins:
                args.append(self._twins(case.scenario, case.variant, check))
            note = check.func(*args)
            return Outcome.PASS, note or ""
        except Verdict as verdict:
            return verdict.outcome, str(verdict)
        except EngineFailed as exc:  # a twin's request broke the engine
            return Outcome.ERROR, str(exc)
        except Exception as exc:  # the check itself broke: an error, never a crash of the run
            tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
            return Outcome.ERROR, f"check {check.name!r} raised {tb}"

    def _call_modes(self, check: Check, case: Case) -> tuple[Outcome, str]:
        """Run ``check`` on a trace per way the engine performs its mode; the worst result wins."""
        modes = self.engine.modes(check.kind)
        if not modes:
            return Outcome.NA, f"the {self.engine.name} engine cannot perform {check.kind.value!r} requests"
        verdicts = []
        for mode in modes:
            got = self.trace(case.scenario, case.variant, mode)
            if isinstance(got, BuildFailed):
                verdicts.append((Outcome.ERROR, str(got), mode))
            else:
                outcome, detail = self._call(check, case, got)
                verdicts.append((outcome, _with_decoded(detail, got) if outcome is not Outcome.NA else detail, mode))
        worst = max(verdicts, key=lambda v: v[0].severity)[0]
        if len(verdicts) == 1:
            return worst, verdicts[0][1]
        return worst, "\n".join(f"[{m.style or m.key}] {o.value}: {d}" for o, d, m in verdicts)

    def _result(self, case: Case, check: Check, outcome: Outcome, detail: str | None,
                duration_s: float = 0.0, extra: dict | None = None) -> Result:
        return Result(scenario=case.scenario.name, variant=case.variant.id, axes=case.variant.axis,
                      engine=self.engine.name, check=check.name, claim=check.claim, outcome=outcome,
                      detail=detail or "", duration_s=duration_s, extra=extra or {}, app=self.app)

    def run(self, cases: list[Case], progress: Callable[[Case, int, int, list[Result]], None] | None = None
            ) -> list[Result]:
        results: list[Result] = []
        self.plan = list(cases)  # a batched kind requests every planned case at once
        try:
            for n, case in enumerate(cases, 1):
                if n > 1 and cases[n - 2].scenario.name != case.scenario.name:
                    self.forget_scenario(cases[n - 2].scenario)  # twins never cross scenarios
                t0, r0 = time.monotonic(), self.request_s
                with self.engine.turn():  # engines at once: a measurement elsewhere waits for this case
                    got = self.judge(case)
                spent = self.timing.setdefault(case.scenario.name, [0.0, 0.0])
                spent[0] += time.monotonic() - t0
                spent[1] += self.request_s - r0
                results += got
                if progress:
                    progress(case, n, len(cases), got)
        finally:
            self.close()
        return results
