"""What changed between two runs (A, the baseline, and B): for a gate between a release and the next.

Results are matched by (engine, scenario, variant, check). A change is *worse* when B's outcome
ranks higher than A's in :data:`RANK`, the order of how bad an outcome is for a user of the feature:

    pass  <  informational = n/a  <  non-strict  <  unsupported  <  fail  <  error

(``unsupported`` ranks above ``non-strict``: a feature that vanished is worse than one that holds
only with help.) An outcome of B that an expectation declared (``Result.expected``) is a known
deviation: listed with its reason, never counted. A result present only in B counts as worse when it is a ``fail`` or ``error`` (a
new problem); one present only in A is listed, not counted (B may be a narrower selection), unless
``missing_is_worse`` (``compare --missing-is-worse``): then a gate also fails when B lost coverage.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..outcomes import Outcome, Result
from .markdown import escape
from ..expectations import known_reason
from .merge import Merged, ResultKey, merge

__all__ = ["RANK", "Side", "Comparison", "load_side", "compare", "render_text", "render_markdown", "to_json"]

RANK = {o: o.rank for o in Outcome}  # Outcome.rank, the one order of the reports


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a results file (or a folder of shards of one version)."""

    label: str
    path: Path
    fastapi: str
    results: dict[ResultKey, Result]
    merged: Merged


@dataclass(frozen=True)
class Comparison:
    a: Side
    b: Side
    changed: list[tuple[Result, Result]]  # (in A, in B), outcome differs
    only_a: list[Result]
    only_b: list[Result]
    missing_is_worse: bool = False

    @property
    def worse(self) -> list[tuple[Result | None, Result | None]]:
        """Changes to a worse outcome, problems that are new in B (and, if asked, results B lost);
        an outcome of B that an expectation declared (a known deviation) is shown, not counted."""
        out: list[tuple[Result | None, Result | None]] = [(a, b) for a, b in self.changed
                                                          if RANK[b.outcome] > RANK[a.outcome]
                                                          and known_reason(b) is None]
        out += [(None, b) for b in self.only_b if b.outcome.is_problem and known_reason(b) is None]
        return out + ([(a, None) for a in self.only_a] if self.missing_is_worse else [])

    @property
    def better(self) -> list[tuple[Result, Result]]:
        return [(a, b) for a, b in self.changed if RANK[b.outcome] < RANK[a.outcome]]

    @property
    def exit_code(self) -> int:
        return 1 if self.worse else 0


def load_side(label: str, path: Path) -> Side:
    """Read one side; a folder may hold shards of one FastAPI version, never several versions."""
    merged = merge([path])
    if len(merged.versions) != 1:
        raise UsageError(f"{path}: holds results of {len(merged.versions)} FastAPI versions "
                         f"({', '.join(merged.versions)}): compare one run (one version) with another")
    version = merged.versions[0]
    return Side(label, path, version, merged.results[version], merged)


def compare(a: Side, b: Side, missing_is_worse: bool = False) -> Comparison:
    changed = [(a.results[k], b.results[k]) for k in a.results if k in b.results
               and a.results[k].outcome is not b.results[k].outcome]
    only_a = [r for k, r in a.results.items() if k not in b.results]
    only_b = [r for k, r in b.results.items() if k not in a.results]
    return Comparison(a, b, changed, only_a, only_b, missing_is_worse)


def _counts(side: Side) -> Counter:
    return Counter(r.outcome for r in side.results.values())


def _name(r: Result) -> str:
    return f"[{r.engine}] {r.scenario} / {r.variant} / {r.check}"


def _kind(a: Result, b: Result) -> str:
    if RANK[b.outcome] > RANK[a.outcome]:
        return "expected" if known_reason(b) else "worse"
    return "better" if RANK[b.outcome] < RANK[a.outcome] else "other"


def _first_line(text: str, limit: int = 160) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    line = line.encode("unicode_escape").decode("ascii") if not line.isprintable() else line
    return line if len(line) <= limit else line[:limit] + "..."


def render_text(c: Comparison, limit: int = 50) -> str:
    out = [f"A: {c.a.path} (FastAPI {c.a.fastapi}, {len(c.a.results)} results)",
           f"B: {c.b.path} (FastAPI {c.b.fastapi}, {len(c.b.results)} results)", "",
           f"{'outcome':<14}{'A':>7}{'B':>7}"]
    ca, cb = _counts(c.a), _counts(c.b)
    for o in sorted(Outcome, key=lambda o: (RANK[o], o.value)):
        if ca[o] or cb[o]:
            out.append(f"{o.value:<14}{ca[o]:>7}{cb[o]:>7}{'':>3}{cb[o] - ca[o]:+d}" if cb[o] != ca[o]
                       else f"{o.value:<14}{ca[o]:>7}{cb[o]:>7}")
    kinds = Counter(_kind(a, b) for a, b in c.changed)
    out += ["", f"{len(c.changed)} outcome(s) changed: {kinds['worse']} worse, {kinds['better']} better"
                + (f", {kinds['expected']} worse but declared by an expectation" if kinds["expected"] else "")]
    order = {"worse": 0, "expected": 1, "other": 2, "better": 3}
    for a, b in sorted(c.changed, key=lambda ab: (order[_kind(*ab)], ab[1].engine, ab[1].scenario))[:limit]:
        out.append(f"  {_kind(a, b).upper():<6} {_name(b)}: {a.outcome.value} -> {b.outcome.value}")
        if known_reason(b):
            out.append(f"         expected: {_first_line(known_reason(b))}")
        if b.detail:
            out.append(f"         B: {_first_line(b.detail)}")
    if len(c.changed) > limit:
        out.append(f"  ... and {len(c.changed) - limit} more (--limit 0 shows all)")
    for label, only in (("A", c.only_a), ("B", c.only_b)):
        if only:
            out.append(f"\n{len(only)} result(s) only in {label}:")
            for r in only[:limit]:
                new_problem = label == "B" and r.outcome.is_problem and not known_reason(r)
                lost = label == "A" and c.missing_is_worse
                out.append(f"  {'WORSE ' if new_problem or lost else ''}{_name(r)}: {r.outcome.value}")
                if new_problem and r.detail:
                    out.append(f"         B: {_first_line(r.detail)}")
            if len(only) > limit:
                out.append(f"  ... and {len(only) - limit} more")
    verdict = (f"worse: {len(c.worse)} result(s) got worse, are new problems"
               + (" or are missing from B" if c.missing_is_worse else "") if c.worse else "nothing got worse")
    if c.only_a and not c.missing_is_worse:
        verdict += f" ({len(c.only_a)} result(s) of A are missing from B: --missing-is-worse counts them)"
    out.append(f"\n{verdict}")
    return "\n".join(out)


def render_markdown(c: Comparison, limit: int = 50) -> str:
    ca, cb = _counts(c.a), _counts(c.b)
    out = [f"## FastAPI {escape(c.a.fastapi)} → {escape(c.b.fastapi)}: "
           + ("❌ " + str(len(c.worse)) + " worse" if c.worse else "✅ nothing got worse"), "",
           f"A: {escape(str(c.a.path))} ({len(c.a.results)} results) · B: {escape(str(c.b.path))} "
           f"({len(c.b.results)} results)"
           + (f" · {len(c.only_a)} result(s) of A missing from B" if c.only_a else ""), "",
           "| outcome | A | B |", "| --- | ---: | ---: |"]
    out += [f"| {o.value} | {ca[o]} | {cb[o]} |" for o in sorted(Outcome, key=lambda o: (RANK[o], o.value))
            if ca[o] or cb[o]]
    if c.changed:
        out += ["", f"### Changed outcomes ({len(c.changed)})", "",
                "| | engine | scenario / variant | check | A | B | detail (B) |", "| --- | --- | --- | --- | --- | --- | --- |"]
        for a, b in c.changed[:limit]:
            known = f"expected: {known_reason(b)} ⏎ " if known_reason(b) else ""
            out.append(f"| {_kind(a, b)} | {escape(b.engine)} | {escape(b.scenario)} / {escape(b.variant)} | "
                       f"{escape(b.check)} | {a.outcome.value} | {b.outcome.value} | {escape(known + b.detail)} |")
        if len(c.changed) > limit:
            out.append(f"\n… and {len(c.changed) - limit} more")
    for label, only in (("A", c.only_a), ("B", c.only_b)):
        if only:
            out += ["", f"### Only in {label} ({len(only)})", ""]
            out += [f"- \\[{escape(r.engine)}\\] {escape(r.scenario)} / {escape(r.variant)} / {escape(r.check)}: "
                    f"{r.outcome.value}" for r in only[:limit]]
            if len(only) > limit:
                out.append(f"- … and {len(only) - limit} more")
    return "\n".join(out) + "\n"


def _key_json(r: Result) -> dict[str, str]:
    return {"engine": r.engine, "scenario": r.scenario, "variant": r.variant, "check": r.check}


def to_json(c: Comparison) -> dict[str, object]:
    ca, cb = _counts(c.a), _counts(c.b)
    return {
        "a": {"path": str(c.a.path), "fastapi": c.a.fastapi, "counts": {o.value: ca[o] for o in Outcome}},
        "b": {"path": str(c.b.path), "fastapi": c.b.fastapi, "counts": {o.value: cb[o] for o in Outcome}},
        "rank": {o.value: RANK[o] for o in Outcome},
        "changed": [{**_key_json(b), "a": a.outcome.value, "b": b.outcome.value, "kind": _kind(a, b),
                     "detail_a": a.detail, "detail_b": b.detail, "expected_b": known_reason(b)}
                    for a, b in c.changed],
        "only_a": [{**_key_json(r), "outcome": r.outcome.value} for r in c.only_a],
        "only_b": [{**_key_json(r), "outcome": r.outcome.value} for r in c.only_b],
        "worse": len(c.worse),
        "exit_code": c.exit_code,
    }
