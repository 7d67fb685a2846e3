"""The Markdown report of a merged matrix: for a pull-request comment or ``$GITHUB_STEP_SUMMARY``.

Short by design (a PR comment holds 65,536 characters): the matrix of worst outcomes, the list of
changes along the releases, conflicts, and the first problems with a one-line detail. Everything
that comes from a results file is escaped (:func:`escape`): details hold bytes from the app under
test, and a ``<script>``, a ``|`` or a backtick in one must show as text, not become markup.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from ..outcomes import Outcome
from . import atomic_write
from ..expectations import known_reason
from .merge import Merged

__all__ = ["EMOJI", "escape", "render", "write"]

EMOJI = {Outcome.PASS: "✅", Outcome.FAIL: "❌", Outcome.ERROR: "💥", Outcome.NON_STRICT: "🟡",
         Outcome.UNSUPPORTED: "⛔", Outcome.NA: "➖", Outcome.INFORMATIONAL: "ℹ️"}

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
_SPECIAL = re.compile(r"([\\`*_{}\[\]|~@]|^[#+\-!>=])")


def escape(text: str, limit: int = 200) -> str:
    """One line of plain text safe in a Markdown table cell or list item.

    Newlines become ``⏎``, control characters ``\\xNN``; ``<``, ``>``, ``&`` become entities (GitHub
    renders raw HTML) and Markdown punctuation is backslash-escaped (``|`` would split a table
    cell; ``#``, ``-`` ... only at the start, where they would open a block). Longer than ``limit`` characters: cut, with an ellipsis.
    """
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text.replace("\r\n", "\n"))
    text = " ⏎ ".join(line.strip() for line in text.split("\n") if line.strip())
    if len(text) > limit:
        text = text[:limit].rstrip() + "…"
    return _SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def _known(r) -> str:
    reason = known_reason(r)
    return f" (expected: {escape(reason, limit=120)})" if reason else ""


def _cell(counts, worst: Outcome) -> str:
    return f"{EMOJI[worst]} {worst.value} {counts[worst]}/{sum(counts.values())}"


def render(merged: Merged, title: str, max_details: int = 30) -> str:
    cells = merged.cells()
    versions = merged.versions
    out = [f"# {escape(title)}", ""]
    from .html import verdict
    gate = verdict(merged)
    out += [("**Gate passed**: no unexpected fail or error" if gate["passed"] else
             f"**Gate FAILED**: {gate['unexpected']} unexpected fail/error result(s) in FastAPI "
             + ", ".join(escape(v) for v in gate["failed_versions"]))
            + f"; {gate['known']} known deviation(s) recorded by expectations.", ""]
    n = sum(len(merged.results[v]) for v in versions)
    out.append(f"{n} results from {len(merged.files)} file(s), {len(versions)} FastAPI version(s), "
               f"engines: {', '.join(escape(e) for e in merged.engines) or 'none'}.")
    out.append("")
    for v in versions:
        first = merged.runs[v][0].versions
        problems = sum(r.outcome.is_problem for r in merged.results[v].values())
        out.append(f"- FastAPI **{escape(v)}**: Starlette {escape(first.get('starlette', '?'))}, "
                   f"Python {escape(first.get('python', '?'))}; {len(merged.runs[v])} file(s), "
                   f"{len(merged.results[v])} results, {problems} problem(s)"
                   + "".join(f"; ⚠️ mixed {escape(name)}: {escape(' / '.join(vs))}"
                             for name, vs in merged.mixed_packages(v).items()))
    out += ["", "## Matrix", "",
            "Worst outcome of each check per engine and FastAPI version; `n/m`: results with that outcome "
            "of all its results (over scenarios and variants).", "",
            "Outcomes: " + " · ".join(f"{EMOJI[o]} {o.value}" for o in sorted(Outcome, key=lambda o: -o.severity)),
            "", "| check | engine | " + " | ".join(escape(v) for v in versions) + " |",
            "| --- | --- |" + " --- |" * len(versions)]
    for engine in merged.engines:
        for check in merged.checks:
            row = [cells.get((v, engine, check)) for v in versions]
            if not any(row):
                continue
            out.append(f"| {escape(check)} | {escape(engine)} | "
                       + " | ".join(_cell(c.counts, c.worst) if c else " " for c in row) + " |")

    changes = merged.changes()
    out += ["", f"## Changes along the releases ({len(changes)})", ""]
    if len(versions) < 2:
        out.append("One FastAPI version only: nothing to compare.")
    for c in changes:
        out.append(f"- **{escape(c.check)}** \\[{escape(c.engine)}\\]: {escape(c.describe(), limit=400)}")
    if len(versions) >= 2 and not changes:
        out.append("No check changed its outcome between these versions.")

    if merged.conflicts:
        out += ["", f"## Conflicting records ({len(merged.conflicts)})", "",
                "The same result recorded twice for one FastAPI version with different outcomes "
                "(the matrix counts the worse):", ""]
        for c in merged.conflicts[:max_details]:
            r = c.first
            out.append(f"- FastAPI {escape(c.version)} \\[{escape(r.engine)}\\] {escape(r.scenario)} / "
                       f"{escape(r.variant)} / {escape(r.check)}: **{c.first.outcome.value}** in "
                       f"{escape(str(c.first_from))} vs **{c.second.outcome.value}** in {escape(str(c.second_from))}")
        if len(merged.conflicts) > max_details:
            out.append(f"- … and {len(merged.conflicts) - max_details} more")

    problems = merged.problems()
    known = sum(known_reason(r) is not None for _, r in problems)
    out += ["", f"## Problems ({len(problems)}" + (f", {known} of them expected" if known else "") + ")", ""]
    if not problems:
        out.append("No fail or error in any version.")
    else:
        out += ["| FastAPI | engine | scenario / variant | check | outcome | detail |",
                "| --- | --- | --- | --- | --- | --- |"]
        for v, r in problems[:max_details]:
            out.append(f"| {escape(v)} | {escape(r.engine)} | {escape(r.scenario)} / {escape(r.variant)} | "
                       f"{escape(r.check)} | {EMOJI[r.outcome]} {r.outcome.value}{_known(r)} | {escape(r.detail)} |")
        if len(problems) > max_details:
            out += ["", f"… and {len(problems) - max_details} more: every detail is in report.html and the results files."]
    return "\n".join(out) + "\n"


def write(path: Path, merged: Merged, title: str, max_details: int = 30) -> None:
    atomic_write(path, render(merged, title, max_details).encode("utf-8"))
