"""The terminal report: progress while running, then the matrix, the problems and a summary."""

from __future__ import annotations

import os
import re
import sys
from typing import TextIO

from ..outcomes import RunInfo
from ..outcomes import BARE, Outcome, Result

__all__ = ["Progress", "render_matrix", "render_problems", "render_latency", "render_attribution", "render_summary",
           "use_color"]

_COLORS = {Outcome.PASS: "32", Outcome.FAIL: "31;1", Outcome.ERROR: "35;1", Outcome.NON_STRICT: "33",
           Outcome.UNSUPPORTED: "36", Outcome.NA: "2", Outcome.INFORMATIONAL: "34"}


def use_color(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def _paint(text: str, outcome: Outcome, color: bool) -> str:
    return f"\x1b[{_COLORS[outcome]}m{text}\x1b[0m" if color else text


class Progress:
    """One line per scenario: rewritten in place on a terminal, printed once when done elsewhere."""

    def __init__(self, stream: TextIO = sys.stderr, engine: str = "") -> None:
        self.stream, self.tty, self.engine = stream, stream.isatty(), engine
        self.current: str | None = None
        self.done: dict[str, int] = {}
        self.problems = 0

    def __call__(self, case, n: int, total: int, results: list[Result]) -> None:
        name = case.scenario.name
        if self.current and name != self.current:
            self._line(self.current, final=True)
        self.current = name
        self.done[name] = self.done.get(name, 0) + 1
        self.problems += sum(r.outcome.is_problem for r in results)
        self.n, self.total = n, total
        if self.tty:
            self._line(name, final=False)
        if n == total:
            self._line(name, final=True)

    def _line(self, name: str, final: bool) -> None:
        text = f"[{self.n:>4}/{self.total}] {self.engine + ' ' if self.engine else ''}{name}: {self.done[name]} variants"
        text += f", {self.problems} problems so far" if self.problems else ""
        if self.tty:
            self.stream.write("\r\x1b[K" + text + ("\n" if final else ""))
        elif final:
            self.stream.write(text + "\n")
        self.stream.flush()


def render_matrix(results: list[Result], color: bool = False) -> str:
    """Variant rows x check columns, grouped by engine and scenario, checks numbered in a legend."""
    checks = list(dict.fromkeys(r.check for r in results))
    cells: dict[tuple[str, str, str, str], dict[str, Outcome]] = {}
    folded: dict[tuple[str, str, str], set[str]] = {}  # per group: variants declared through routers, all n/a
    for r in results:
        cells.setdefault((r.engine, r.app, r.scenario, r.variant), {})[r.check] = r.outcome
    for r in results:  # a declaration row with nothing to show is one line of its group, not a row each
        if r.axes.get("declaration", "app") != "app" and all(
                o is Outcome.NA for o in cells[(r.engine, r.app, r.scenario, r.variant)].values()):
            folded.setdefault((r.engine, r.app, r.scenario), set()).add(r.variant)
    hidden = {(*g, v) for g, vs in folded.items() for v in vs}
    cells = {k: v for k, v in cells.items() if k not in hidden}
    width = max([len(v) for *_, v in cells] + [20]) + 4
    legend = "  ".join(f"{i} {c}" for i, c in enumerate(checks, 1))
    outcomes = "  ".join(f"{o.symbol} {o.value}" for o in Outcome)
    lines = [f"checks:   {legend}", f"outcomes: {outcomes}"]
    header = " ".join(str(i % 10) for i in range(1, len(checks) + 1))
    group = None
    for (engine, app, scenario, variant), row in cells.items():
        if (engine, app, scenario) != group:
            if group in folded:
                lines.append(f"  ({len(folded[group])} router declarations n/a: routers on *-ann-bytes-for-* only)")
            group = (engine, app, scenario)
            lines += ["", f"{scenario} [{engine}]".ljust(width) + header + (f"   via {app}" if app != BARE else "")]
        marks = " ".join(_paint(row[c].symbol, row[c], color) if c in row else " " for c in checks)
        lines.append(f"  {variant}".ljust(width) + marks)
    if group in folded:
        lines.append(f"  ({len(folded[group])} router declarations n/a: routers on *-ann-bytes-for-* only)")
    return "\n".join(lines)


def printable(text: str) -> str:
    """``text`` with every character a terminal would act on (escape sequences, bells) shown as its
    escape instead: details carry text from the app under test (an exception's message)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def render_problems(results: list[Result], limit: int = 20) -> str:
    problems = [r for r in results if r.outcome.is_problem]
    if not problems:
        return ""
    out = [f"{len(problems)} problem(s):"]
    for r in problems[:limit]:
        detail = "\n".join("    " + printable(line) for line in r.detail.splitlines())
        known = "" if r.is_unexpected_problem else f" (expected: {(r.expectation or {}).get('reason', '')})"
        via = f" via {r.app}" if r.app != BARE else ""
        out.append(f"  {r.outcome.value.upper()} {r.scenario} / {r.variant} / {r.check} [{r.engine}{via}] "
                   f"(cites {r.claim}){known}\n{detail}")
    if len(problems) > limit:
        out.append(f"  ... and {len(problems) - limit} more (all of them are in results.json)")
    return "\n".join(out)


_LAG = re.compile(r"loop lag total ([0-9.]+) ms")


def render_latency(results: list[Result]) -> str:
    """The figures an operator needs: loop lag of def streams vs the async control, per engine,
    and the threadpool saturation tables."""
    lines = []
    for engine, app in dict.fromkeys((r.engine, r.app) for r in results):
        where = engine if app == BARE else f"{engine} via {app}"
        mine = [r for r in results if (r.engine, r.app) == (engine, app) and r.check == "loop-not-blocked"]
        defs = [float(m.group(1)) for r in mine if r.axes.get("function") == "def" and (m := _LAG.search(r.detail))]
        control = [float(m.group(1)) for r in mine if r.outcome is Outcome.INFORMATIONAL and (m := _LAG.search(r.detail))]
        if defs or control:
            lines.append(f"loop lag total [{where}]: def streams max {max(defs, default=float('nan')):.1f} ms over "
                         f"{len(defs)} variants; async blocking control {', '.join(f'{c:.1f}' for c in control)} ms")
        for r in results:
            if ((r.engine, r.app) == (engine, app) and r.check == "threadpool-saturation"
                    and r.outcome is Outcome.INFORMATIONAL):
                lines.append(f"threadpool saturation [{where}] ({r.variant}):")
                lines += ["  " + row for row in r.detail.splitlines()]
    return "\n".join(lines)


def render_attribution(info: RunInfo, results: list[Result]) -> str:
    """Through the app vs bare in the same run: what the team's stack changed, and what is FastAPI's."""
    from ..app.attribute import summary_lines

    app = info.app
    lines = [f"through {app.get('text')} ({app.get('kind')}), middleware outermost first: "
             + (" > ".join(app.get("middleware") or []) or "none")]
    differences = summary_lines(results, info.versions["fastapi"])
    lines += differences or [f"  every check gives the same outcome through the app as on bare FastAPI "
                             f"{info.versions['fastapi']}"]
    noise = [r for r in results if r.app != BARE and r.extra.get("unconfirmed")]
    if noise:
        lines.append(f"  {len(noise)} difference(s) from bare did not repeat on a second measurement: timing noise, "
                     f"not attributed ({', '.join(dict.fromkeys(f'{r.check} [{r.engine}]' for r in noise))})")
    bare = [r for r in results if r.app == BARE]
    counts = {o: sum(r.outcome is o for r in bare) for o in Outcome}
    lines.append("bare (the same variants on their own small FastAPI app, in results.json): "
                 + ", ".join(f"{n} {o.value}" for o, n in counts.items() if n))
    return "\n".join(lines)


def render_summary(info: RunInfo, results: list[Result], color: bool = False) -> str:
    counts = {o: 0 for o in Outcome}
    for r in results:
        counts[r.outcome] += 1
    cases = len({(r.engine, r.scenario, r.variant) for r in results})
    parts = ", ".join(_paint(f"{n} {o.value}", o, color) for o, n in counts.items() if n)
    v = info.versions
    per_engine = ", ".join(f"{e} {t:.1f} s" for e, t in info.engine_times.items())
    skipped = "".join(f"\nskipped engine {e}: {why}" for e, why in info.skipped_engines.items())
    return (f"FastAPI {v['fastapi']} · Starlette {v['starlette']} · Python {v['python']} · "
            f"engine {', '.join(info.engines) or 'none'}\n"
            f"{cases} cases, {len(results)} results: {parts or 'nothing ran'} in {info.wall_time_s:.2f} s"
            + (f" ({per_engine})" if len(info.engine_times) > 1 else "") + skipped)
