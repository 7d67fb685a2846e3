"""Checks: small registered functions that turn traces into verdicts.

A check is a plain function registered with :func:`check`, citing the page's section anchor it
verifies::

    @check("chunk-order", claim="#a-streamingresponse-with-yield")
    def chunk_order(trace, scenario, variant):
        ...                       # return None (or a short note) when the claim holds
        raise Failure("Chunks differ", expected=..., seen=..., detail=...)

Raise :class:`Failure` when the app breaks the claim (``fail``), :class:`NonStrict` when it holds
only with help (``non-strict``), :class:`NotApplicable` when the check does not apply (``n/a``),
:class:`Informational` to report a measurement without a verdict. Any other exception is the
check's own bug and becomes ``error`` with the exception; it never crashes the run.

A check that compares a variant with its twins along one axis declares ``twins="axis"`` and
receives a fourth argument: a list of ``(twin_variant, twin_trace)``.

A check that needs the request performed differently declares its request kind,
``kind="disconnect"`` (or ``"error"``, ``"shutdown"``, ``"latency"``, ``"saturation"``: the closed
table in ``harness/modes.py``): it is then called once per way the engine performs that kind (the
in-process engine has two disconnect styles) and its result is the worst of those calls.

A check that reads a side request declares it, ``side_requests=("openapi",)``: the route's
``/openapi.json`` is fetched only when a selected check reads it.

A check that reads a measurement of the whole server process (its peak resident memory) declares
``alone=True``: the requests it reads are then never performed in a batch, beside other requests
that would share the measurement.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import UsageError
from ..modes import Kind
from ..outcomes import Outcome

__all__ = ["Check", "check", "Failure", "NonStrict", "NotApplicable", "Informational", "CannotMeasure", "registry",
           "get_checks", "show", "first_difference"]


class Verdict(Exception):
    """Base of the ways a check reports something other than a plain pass."""

    outcome: Outcome

    def __init__(self, title: str, *, expected: Any = None, seen: Any = None, detail: str = "") -> None:
        super().__init__(title)
        self.title, self.expected, self.seen, self.detail = title, expected, seen, detail

    def __str__(self) -> str:
        lines = [self.title]
        if self.expected is not None or self.seen is not None:
            lines += [f"  expected: {show(self.expected, 400)}", f"  seen:     {show(self.seen, 400)}"]
        if self.detail:
            lines.append(f"  {self.detail}")
        return "\n".join(lines)


class Failure(Verdict):
    outcome = Outcome.FAIL


class NonStrict(Verdict):
    outcome = Outcome.NON_STRICT


class Informational(Verdict):
    outcome = Outcome.INFORMATIONAL


class NotApplicable(Verdict):
    outcome = Outcome.NA


class CannotMeasure(Verdict):
    """The measurement could not see what it measures (e.g. a negative control that shows nothing):
    an ``error`` of the run, never a verdict on the app."""

    outcome = Outcome.ERROR


@dataclass(frozen=True)
class Check:
    name: str
    claim: str
    func: Callable[..., Any]
    twins: Any = None  # an axis name, or a callable variant -> the variants to compare with
    kind: Kind = Kind.NORMAL  # how its request is performed (harness/modes.py)
    applies: Any = None  # (scenario, variant) -> None, or why not: asked before any request is made
    side_requests: tuple[str, ...] = ()  # what else it reads besides the stream: "openapi"
    forms: tuple[str, ...] = ("raw", "jsonl", "sse")  # the forms it judges; on the others it is n/a
    alone: bool = False  # reads a process-wide measurement: its requests are never batched

    @property
    def doc(self) -> str:
        return inspect.getdoc(self.func) or ""


_REGISTRY: dict[str, Check] = {}


SIDE_REQUESTS = ("openapi",)


def check(name: str, *, claim: str, twins: Any = None, kind: str | Kind = Kind.NORMAL,
          applies: Callable[..., str | None] | None = None, side_requests: tuple[str, ...] = (),
          forms: tuple[str, ...] = ("raw", "jsonl", "sse"), alone: bool = False
          ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``func`` as check ``name``; a second registration of the name from elsewhere is refused.

    ``claim`` is an anchor of the Stream Data page (``#no-annotation``) or ``page#anchor`` of a sibling
    page (``stream-json-lines#json-lines``, ``server-sent-events#technical-details``). ``forms``: the
    forms it judges; a variant of another form is ``n/a`` before any request is made."""
    page, _, anchor = claim.partition("#")
    if not anchor or page not in CLAIM_PAGES:
        raise ValueError(f"check {name!r}: claim must be a section anchor such as '#no-annotation' or "
                         f"'stream-json-lines#json-lines', got {claim!r}")
    parsed = Kind.parse(kind, f"check {name!r}: ")
    unknown = [s for s in side_requests if s not in SIDE_REQUESTS]
    if unknown:
        raise ValueError(f"check {name!r}: unknown side request {unknown[0]!r}; side requests are: "
                         f"{', '.join(SIDE_REQUESTS)}")

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        existing = _REGISTRY.get(name)
        if existing is not None and existing.func.__qualname__ != func.__qualname__:
            raise ValueError(f"check {name!r} is already registered by {existing.func.__module__}")
        _REGISTRY[name] = Check(name, claim, func, twins, parsed, _for_forms(name, forms, applies),
                                tuple(side_requests), tuple(forms), alone)
        return func
    return register


CLAIM_PAGES = ("", "stream-json-lines", "server-sent-events")  # "": the Stream Data page


def _for_forms(name: str, forms: tuple[str, ...], applies: Callable[..., str | None] | None):
    """``applies`` preceded by the form rule, so the runner asks one question before any request."""
    if set(forms) >= {"raw", "jsonl", "sse"}:
        return applies

    def form_applies(scenario, variant) -> str | None:
        if variant.form not in forms:
            return f"{name} judges the {'/'.join(forms)} form(s), not {variant.form}"
        return applies(scenario, variant) if applies else None
    return form_applies


def registry() -> dict[str, Check]:
    from . import stream, parity, openapi, cut, framing, bounded_memory, loop_lag, item_forms, route_context  # noqa: F401  (registered in this order, the order of columns)
    return dict(_REGISTRY)


def get_checks(names: list[str] | None = None) -> list[Check]:
    checks = registry()
    if not names:
        return list(checks.values())
    unknown = [n for n in names if n not in checks]
    if unknown:
        raise UsageError(f"unknown check {', '.join(map(repr, unknown))}; checks are: {', '.join(checks)}")
    return [checks[n] for n in names]


def show(value: Any, limit: int = 120) -> str:
    """A short, escaped rendering: bytes and str through repr, so control bytes cannot leak out."""
    text = repr(bytes(value) if isinstance(value, bytearray) else value)
    return text if len(text) <= limit else text[: limit - 15] + f"... ({len(text)} chars)"


def first_difference(a: list[Any] | bytes, b: list[Any] | bytes) -> int:
    """Index of the first element where ``a`` and ``b`` differ (the shorter length if one is a prefix).
    Bytes are compared a block at a time first (a 64 MiB body in milliseconds, not seconds)."""
    start = 0
    if isinstance(a, (bytes, bytearray)) and isinstance(b, (bytes, bytearray)):
        block, end = 1 << 16, min(len(a), len(b))
        while start < end and a[start:start + block] == b[start:start + block]:
            start += block
        if start >= end:
            return end
    for i, (x, y) in enumerate(zip(a[start:], b[start:]), start):
        if x != y:
            return i
    return min(len(a), len(b))
