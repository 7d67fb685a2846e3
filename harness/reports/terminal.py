"""The terminal report: progress while running, then the matrix, the problems and a summary."""

from __future__ import annotations

import os
import re
import shutil
import sys
import textwrap
from typing import TextIO

from ..expectations import Status, classify
from ..outcomes import BARE, Outcome, Result, RunInfo

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


# Column keys: lower-case letters, none that reads as a digit (l) or as an outcome symbol (i).
_KEYS = [c for c in "abcdefghijklmnopqrstuvwxyz" if c not in "il"]


def column_keys(checks: list[str]) -> dict[str, str]:
    """A letter per check (``a`` ... ``z``, then ``aa`` ...): a header that reads as no number and as no
    outcome symbol (``F``, ``E``, ``U``, ``i``)."""
    n = len(_KEYS)
    def key(i: int) -> str:
        return _KEYS[i] if i < n else _KEYS[i // n - 1] + _KEYS[i % n]
    return {c: key(i) for i, c in enumerate(checks)}


def wrap_legend(label: str, items: list[str], width: int | None = None) -> list[str]:
    """``label item  item ...`` wrapped at the terminal's width (at most 120), an item never split,
    continuation lines indented under the first item."""
    width = width or min(shutil.get_terminal_size((100, 24)).columns, 120)
    glued = "  ".join(i.replace(" ", "\xa0") for i in items)  # wrap between items, not inside one
    lines = textwrap.wrap(glued, width=width, initial_indent=label, subsequent_indent=" " * len(label),
                          break_on_hyphens=False, break_long_words=False)
    return [line.replace("\xa0", " ") for line in lines] or [label.rstrip()]


def render_matrix(results: list[Result], color: bool = False, show_all: bool = False) -> str:
    """Variant rows x check columns, grouped by engine and scenario, checks lettered in a wrapped legend.

    By default a row or a column whose every result is ``n/a`` in its group carries no information
    and is left out (a line at the end counts them); ``show_all`` shows every row and column."""
    checks = list(dict.fromkeys(r.check for r in results))
    keys = column_keys(checks)
    cells: dict[tuple[str, str, str, str], dict[str, Outcome]] = {}
    for r in results:
        cells.setdefault((r.engine, r.app, r.scenario, r.variant), {})[r.check] = r.outcome
    groups: dict[tuple[str, str, str], dict[str, dict[str, Outcome]]] = {}
    for (engine, app, scenario, variant), row in cells.items():
        groups.setdefault((engine, app, scenario), {})[variant] = row
    informative = lambda o: o is not Outcome.NA  # noqa: E731
    shown_groups, hidden_rows, hidden_cells = [], 0, 0
    for group, rows in groups.items():
        kept = rows if show_all else {v: row for v, row in rows.items() if any(map(informative, row.values()))}
        columns = [c for c in checks if any(c in row for row in rows.values())]
        if not show_all:
            columns = [c for c in columns if any(informative(row[c]) for row in kept.values() if c in row)]
        hidden_rows += len(rows) - len(kept)
        hidden_cells += sum(len(row) for row in rows.values()) - sum(1 for row in kept.values()
                                                                     for c in columns if c in row)
        if kept and columns:
            shown_groups.append((group, kept, columns))
    used = [c for c in checks if any(c in cols for *_, cols in shown_groups)] if not show_all else checks
    width = max([len(v) for _, rows, _ in shown_groups for v in rows] + [20]) + 4
    code = max((len(k) for k in keys.values()), default=1)
    lines = wrap_legend("checks:   ", [f"{keys[c]} {c}" for c in used])
    lines += wrap_legend("outcomes: ", [f"{o.symbol} {o.value}" for o in Outcome])
    for (engine, app, scenario), rows, columns in shown_groups:
        header = " ".join(keys[c].rjust(code) for c in columns)
        lines += ["", f"{scenario} [{engine}]".ljust(width) + header + (f"   via {app}" if app != BARE else "")]
        for variant, row in rows.items():
            marks = " ".join(" " * (code - 1) + (_paint(row[c].symbol, row[c], color) if c in row else " ")
                             for c in columns)
            lines.append(f"  {variant}".ljust(width) + marks)
    if hidden_cells:
        lines += ["", f"not shown: {hidden_cells} n/a result(s) ({hidden_rows} row(s) and the columns that are all n/a "
                      "in their scenario; --show-all shows them)"]
    return "\n".join(lines)


def printable(text: str) -> str:
    """``text`` with every character a terminal would act on (escape sequences, bells) shown as its
    escape instead: details carry text from the app under test (an exception's message)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


_RUN = re.compile(r"(\\x[0-9a-f]{2}|\\[nrt0\\]|.)\1{15,}")  # one byte (or its escape) repeated 16+ times
_SHOWN = re.compile(r"^(\s*(?:expected|seen)\s*:\s*)(.*)$")


def elide_runs(line: str) -> str:
    """``b'\\x00\\x00...'`` -> ``b'\\x00[x4096]'``: a run of one repeated byte shown once, with its count."""
    return _RUN.sub(lambda m: f"{m.group(1)}[x{len(m.group(0)) // len(m.group(1))}]", line)


def _elide_common_prefix(lines: list[str]) -> list[str]:
    """A ``seen:`` line that starts with what its ``expected:`` line says: that part is elided."""
    out, expected = [], None
    for line in lines:
        m = _SHOWN.match(line)
        if m and line.lstrip().startswith("expected"):
            expected = m.group(2)
        elif m and expected is not None and line.lstrip().startswith("seen"):
            value, skip = m.group(2), 0
            if value[:2] in ("b'", 'b"') and expected[:2] in ("b'", 'b"'):
                skip = 2  # a bytes repr may open with the other quote
            common = next((i for i, (a, b) in enumerate(zip(expected[skip:], value[skip:])) if a != b),
                          min(len(expected), len(value)) - skip)
            if common > 40:
                line = (f"{m.group(1)}{value[:skip]}[the first {common} characters as expected]"
                        f"{value[skip + common:]}")
            expected = None
        out.append(line)
    return out


def render_problems(results: list[Result], limit: int = 20) -> str:
    """The problems with their details, shortened for reading: runs of one repeated byte are counted,
    a ``seen`` value's start that repeats its ``expected`` is elided, and detail lines already printed
    for an earlier problem are replaced by a mark (results.json keeps every detail whole)."""
    problems = [r for r in results if r.outcome.is_problem]
    if not problems:
        return ""
    out = [f"{len(problems)} problem(s):"]
    printed: set[str] = set()
    for r in problems[:limit]:
        lines, repeated, indent = [], 0, ""
        for line in [*_elide_common_prefix([elide_runs(printable(raw)) for raw in r.detail.splitlines()]), None]:
            if line is not None and len(line.strip()) > 60 and line in printed:
                repeated, indent = repeated + 1, indent if repeated else line[:len(line) - len(line.lstrip())]
                continue
            if repeated:
                lines.append(f"{indent}[{repeated} line(s) as in a problem above]")
                repeated = 0
            if line is not None:
                printed.add(line)
                lines.append(line)
        detail = "\n".join("    " + line for line in lines)
        known = "" if classify(r) is Status.UNEXPECTED else f" (expected: {(r.expectation or {}).get('reason', '')})"
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
    folders = ""
    if info.scenario_folders:
        from ..scenarios import builtin_dir
        builtin = str(builtin_dir())
        folders = "\nscenarios from: " + ", ".join(
            f"{shown_path(f)} (built-in)" if f == builtin else shown_path(f) for f in info.scenario_folders)
    return (f"FastAPI {v['fastapi']} · Starlette {v['starlette']} · Python {v['python']} · "
            f"engine {', '.join(info.engines) or 'none'}{folders}\n"
            f"{cases} cases, {len(results)} results: {parts or 'nothing ran'} in {info.wall_time_s:.2f} s"
            + (f" ({per_engine})" if len(info.engine_times) > 1 else "") + skipped + render_time_spent(info))


def render_time_spent(info: RunInfo, slowest: int = 5) -> str:
    """Where the time went: the engines' requests (the app, and the engine driving it) beside the
    harness's own work, per engine and for the slowest scenarios."""
    timing = info.timing or {}
    if not timing.get("engines"):
        return ""

    def split(t: dict[str, float]) -> str:
        return (f"{t['total_s']:.1f} s = requests {t['requests_s']:.1f} s + harness "
                f"{max(0.0, t['total_s'] - t['requests_s']):.1f} s")
    lines = [f"time [{label}]: {split(t)}" for label, t in timing["engines"].items()]
    top = sorted(timing.get("scenarios", {}).items(), key=lambda kv: -kv[1]["total_s"])[:slowest]
    if top:
        lines.append("slowest scenarios: " + "; ".join(f"{name} {split(t)}" for name, t in top))
    return "\n" + "\n".join(lines)


def shown_path(path: str) -> str:
    """A folder as a reader would type it: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path) if not os.path.relpath(path).startswith("..") else path
    except ValueError:
        return path
