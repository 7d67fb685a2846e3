"""The gate's part of the terminal report: what fails the build, what is known, what is stale."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..expectations import Gate, Status
from ..outcomes import Result

__all__ = ["render_gate"]


def _groups(results: list[Result]) -> list[tuple[tuple[str, ...], int]]:
    """Results grouped by (expected, outcome, check, engine, entry): one line per group, with a count."""
    counts: dict[tuple[str, ...], int] = {}
    for r in results:
        source = str((r.expectation or {}).get("source", ""))
        key = (r.expected or "-", r.outcome.value, r.check, r.engine, source, str((r.expectation or {}).get("reason", "")))
        counts[key] = counts.get(key, 0) + 1
    return list(counts.items())


def _short(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3].rstrip() + "..."


def render_gate(gate: Gate, expectations: Path | None, entries: int, flaky: list[Result] = (),
                load_errors: Sequence[object] = ()) -> str:
    """The gate's verdict and what it rests on. ``load_errors`` (scenario files that did not load:
    :class:`harness.scenarios.LoadError` or ``{"file", "message"}``) fail the run whatever the gate
    says: they are repeated here, beside the verdict, not only at the top of a long output."""
    source = f"{expectations}, {entries} entries" if expectations else "no expectations file"
    verdict = "passed" if gate.passed else "FAILED"
    lines = [f"gate {verdict} ({source}{', strict' if gate.strict else ''}): "
             f"{gate.count(Status.UNEXPECTED)} unexpected, {gate.count(Status.KNOWN)} known, "
             f"{gate.count(Status.STALE)} stale, {gate.count(Status.UNRECORDED)} unrecorded non-strict"]
    if load_errors:
        lines.append(f"the run FAILS (exit 1){' all the same' if gate.passed else ''}: {len(load_errors)} scenario "
                     "file(s) did not load, so their scenarios did not run:")
        for err in load_errors:
            message = err["message"] if isinstance(err, dict) else getattr(err, "message", str(err))
            lines.append(f"  error: {message}")
    if gate.count(Status.KNOWN):
        lines.append("known deviations (recorded; they do not fail the gate):")
        for (expected, _, check, engine, where, reason), n in _groups(gate.by_status[Status.KNOWN]):
            lines.append(f"  {expected:<10} {check} [{engine}] x{n}  ({where}) {_short(reason)}")
    if gate.count(Status.STALE):
        fails = " (they fail the gate: --strict)" if gate.strict else " (listed only; --strict fails on them)"
        lines.append("stale expectations: the recorded deviation is gone, update or remove the entry" + fails)
        for (expected, seen, check, engine, where, _), n in _groups(gate.by_status[Status.STALE]):
            lines.append(f"  expected {expected}, got {seen}: {check} [{engine}] x{n}  ({where})")
    if gate.count(Status.UNRECORDED):
        fails = " (they fail the gate: --strict)" if gate.strict else " (fine by default; --strict fails on them)"
        lines.append("non-strict outcomes no expectation records" + fails)
        for (expected, seen, check, engine, where, _), n in _groups(gate.by_status[Status.UNRECORDED]):
            was = f" (recorded {expected} at {where})" if where else ""
            lines.append(f"  {seen} {check} [{engine}] x{n}{was}")
    if flaky:
        lines.append(f"flaky: {len(flaky)} result(s) unexpected at first, as expected on a retry (not failing the gate):")
        for r in flaky:
            first = r.extra["retries"][0]
            lines.append(f"  {r.scenario} / {r.variant} / {r.check} [{r.engine}]: {first['outcome']} then "
                         f"{r.outcome.value}; first: {_short(first['detail'], 110)}")
    if gate.count(Status.UNEXPECTED):
        lines.append(f"unexpected: {gate.count(Status.UNEXPECTED)} fail/error outcome(s) no expectation records "
                     f"(listed with their details above): the gate fails")
    return "\n".join(lines)
