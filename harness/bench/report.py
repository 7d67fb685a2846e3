"""The benchmark report: Markdown tables and SVG plots from one or more runs (``bench-report``).

Runs are grouped by FastAPI version; several runs of one version are repeated measurements, and the
report gives how much their ratios vary (coefficient of variation). Reads results; runs nothing.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass
from pathlib import Path

from ..reports import atomic_write
from ..reports.markdown import escape
from .apps import BASELINES, RAW, STARLETTE
from .results import ENGINE_TITLES, WORKLOAD_TITLES, Row, Run, best_ratio, ratio_cv, rows
from .svg import Series, bar_chart

__all__ = ["Report", "build_report", "write_report"]

APP_NOTES = {RAW: "raw ASGI app sending the chunks: the limit",
             STARLETTE: "Starlette's `StreamingResponse` over an async generator, Starlette router"}
# What ``raw`` stands for where it is not a raw ASGI app: the reference each ratio is taken against.
RAW_NOTES = {"harness": "the selection's requests alone: the limit",
             "red-run": "the green run (stock FastAPI) of the same selection"}


@dataclass
class Cell:
    """One app under one workload for one FastAPI version, over that version's runs."""

    rows: list[Row]

    @property
    def ratio(self) -> float:
        """Fastest round over the runs / raw's (``results.best_ratio``; the check compares the same)."""
        return best_ratio(self.rows)

    @property
    def band(self) -> tuple[float, float]:
        """Across runs: the lowest and highest ratio; one run: fastest-round to median-round ratio."""
        if len(self.rows) > 1:
            return min(r.ratio for r in self.rows), max(r.ratio for r in self.rows)
        return self.rows[0].band

    @property
    def run_cv(self) -> float | None:
        return ratio_cv([r.ratio for r in self.rows])

    @property
    def run_cv_median(self) -> float | None:
        return ratio_cv([r.median_ratio for r in self.rows])

    def absolute(self, workload: str) -> str:
        """The fastest round over the runs, in plain units."""
        best = min(self.rows, key=lambda r: r.time_s)
        if workload == "chunk-overhead":
            added = (best.time_s - min(r.raw_floor_s for r in self.rows)) / max(1, best.measure.chunks) * 1e6
            return f"{best.time_s * 1e3:.2f} ms, +{added:.2f} µs/chunk"
        if workload == "throughput":
            return f"{best.mb_per_s:.0f} MB/s"
        return f"{best.time_s * 1e3:.2f} ms"


@dataclass
class Report:
    versions: list[str]  # FastAPI versions, oldest first
    runs: dict[str, list[Run]]
    cells: dict[tuple[str, str], dict[str, dict[str, Cell]]]  # (workload, engine) -> key -> version -> cell


def build_report(runs: list[Run]) -> Report:
    by_version: dict[str, list[Run]] = {}
    for run in runs:
        by_version.setdefault(run.fastapi, []).append(run)
    cells: dict[tuple[str, str], dict[str, dict[str, Cell]]] = {}
    for version, vruns in by_version.items():
        for run in vruns:
            for group, grows in rows(run).items():
                for row in grows:
                    cell = cells.setdefault(group, {}).setdefault(row.measure.key, {})
                    cell.setdefault(version, Cell([])).rows.append(row)
    order = list(WORKLOAD_TITLES)
    ordered = dict(sorted(cells.items(), key=lambda kv: (order.index(kv[0][0]) if kv[0][0] in order else 99,
                                                         kv[0][1] != "asgi", kv[0][1])))
    return Report(list(by_version), by_version, ordered)


def _order(keys: dict[str, dict[str, Cell]], latest: str) -> list[str]:
    variants = [k for k in keys if k not in BASELINES]
    variants.sort(key=lambda k: (keys[k][latest].ratio if latest in keys[k] else float("inf"), k))
    return [k for k in BASELINES if k in keys] + variants


def _title(workload: str, engine: str) -> str:
    return f"{WORKLOAD_TITLES.get(workload, workload)}, {ENGINE_TITLES.get(engine, engine)}"


def plot(report: Report, group: tuple[str, str]) -> str:
    keys = report.cells[group]
    order = _order(keys, report.versions[-1])
    series = [Series(f"FastAPI {v}", {k: (keys[k][v].ratio, *keys[k][v].band) for k in order if v in keys[k]})
              for v in report.versions]
    workload, engine = group
    what = "time to first byte" if workload == "ttfb" else "time per request"
    runs = max(len(c.rows) for kc in keys.values() for c in kc.values())  # several runs of a version?
    whisker = ("the runs' own ratios, lowest to highest" if runs > 1 else "up to the median-round ratio")
    return bar_chart(f"{_title(workload, engine)}: cost relative to the raw ASGI limit",
                     f"bar = fastest {what} / fastest of the raw ASGI app, same run(s); "
                     f"whisker = {whisker}; lower is better",
                     f"{what} / raw ASGI baseline (x, log scale, lower is better)", order, series)


def _esc(text: str) -> str:
    return escape(str(text))


def _code(text: str) -> str:
    """Text for a code span in a table cell: HTML is shown as written there, so only what would end the
    span (a backtick) or the cell (``|``, escaped as GitHub's tables require) or the line is touched."""
    return "".join(c for c in str(text) if c.isprintable() and c != "`").replace("|", "\\|")


def markdown(report: Report, plots: dict[tuple[str, str], str]) -> str:
    v = report.versions
    out = ["# Streaming benchmarks: what each variant costs, against the raw ASGI limit", "",
           "Generated by `stream-harness bench-report` from pytest-benchmark JSON (`tox -e bench`). "
           "Every figure is a ratio: the fastest round of an app divided by the fastest round of a raw "
           "ASGI app that sends the same chunks, measured in the same run (over uvicorn: the raw app "
           "served by uvicorn), so it compares across machines; with several runs of a version, the "
           "fastest round over all of them against raw's (noise only adds time). Lower is better; "
           "1.00x is the limit. In brackets: the same fastest round in plain units.", "",
           "| FastAPI | Starlette | Python | runs | files |", "| --- | --- | --- | --- | --- |"]
    for version in v:
        runs = report.runs[version]
        vs = runs[0].versions
        files = ", ".join(f"`{Path(r.path).name}`" for r in runs)
        out.append(f"| {_esc(version)} | {_esc(vs.get('starlette', '?'))} | {_esc(vs.get('python', '?'))} | "
                   f"{len(runs)} | {files} |")
    out.append("")
    for group, keys in report.cells.items():
        workload, engine = group
        out += [f"## {_title(workload, engine)}", "", f"![{_esc(_title(workload, engine))}]({plots[group]})", "",
                "| app | " + " | ".join(f"FastAPI {_esc(x)}" for x in v) + " |",
                "| --- |" + " --- |" * len(v)]
        for key in _order(keys, v[-1]):
            note = RAW_NOTES.get(workload) if key == RAW and workload in RAW_NOTES else APP_NOTES.get(key)
            label = f"`{_code(key)}`" + (f", {note}" if note else "")
            cells = []
            for version in v:
                cell = keys[key].get(version)
                cells.append("n/a" if cell is None else f"**{cell.ratio:.2f}x** ({cell.absolute(workload)})")
            out.append(f"| {label} | " + " | ".join(cells) + " |")
        out.append("")
    out += _stability(report) + _memory(report)
    return "\n".join(out) + "\n"


def _stability(report: Report) -> list[str]:
    out = ["## Stability", "",
           "Within a run: the coefficient of variation (stddev / mean) of an app's rounds, median and worst "
           "over the apps (a shared machine makes single rounds noisy). Across runs of one version: the CV "
           "of each app's ratio over the runs, median and worst, for the fastest-round ratio reported here "
           "and for a median-round ratio. With six runs or more: every split of six runs into three "
           "against three, the largest change of an app's best-of-three ratio (what `stream-harness "
           "bench-check` thresholds are chosen above: same code, so any change is noise).", "",
           "| workload | FastAPI | rounds CV median / worst | ratio CV across runs (fastest round) | "
           "(median round) | best-of-3 vs best-of-3, worst change |", "| --- | --- | --- | --- | --- | --- |"]
    for group, keys in report.cells.items():
        for version in report.versions:
            cells = [c[version] for k, c in keys.items() if version in c]
            if not cells:
                continue
            within = [r.measure.cv for c in cells for r in c.rows]
            across = [_cv_text([c.run_cv for c in cells if c.rows[0].measure.key != RAW]),
                      _cv_text([c.run_cv_median for c in cells if c.rows[0].measure.key != RAW])]
            out.append(f"| {_esc(_title(*group))} | {_esc(version)} | {statistics.median(within):.1%} / "
                       f"{max(within):.1%} | {across[0]} | {across[1]} | {_split_text(cells)} |")
    return out + [""]


def _split_text(cells: list[Cell]) -> str:
    """The largest best-of-3 vs best-of-3 change over every split of the first six runs."""
    worst = 0.0
    for cell in cells:
        if len(cell.rows) < 6 or cell.rows[0].measure.key == RAW:
            continue
        for side in itertools.combinations(range(6), 3):
            a = best_ratio([cell.rows[i] for i in side])
            b = best_ratio([cell.rows[i] for i in range(6) if i not in side])
            worst = max(worst, a / b, b / a)
    return f"{worst:.2f}x" if worst else "fewer than 6 runs"


def _cv_text(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    return f"{statistics.median(known):.1%} / {max(known):.1%}" if known else "one run"


def _memory(report: Report) -> list[str]:
    lines = []
    for version in report.versions:
        for run in report.runs[version]:
            for m in run.measures:
                if m.workload == "memory" and "peak_growth_mib" in m.extra:
                    lines.append(f"| {_esc(version)} | `{_code(m.key)}` | {m.bytes / 2**20:.0f} MiB | "
                                 f"{m.extra['peak_growth_mib']:.1f} MiB | {m.extra.get('bound_mib', '?')} MiB |")
    if not lines:
        return []
    return ["## Bounded memory", "",
            "Peak RSS growth of a fresh process while it streams a real file through the variant in "
            "64 KiB chunks (VmHWM after, reset before; `benchmarks/test_memory.py` asserts the bound and "
            "that a buffering control grows by >= 200 MiB).", "",
            "| FastAPI | variant | streamed | peak growth | bound |", "| --- | --- | --- | --- | --- |",
            *lines, ""]


def write_report(runs: list[Run], out_dir: Path) -> list[Path]:
    """Write ``report.md`` and one SVG per workload and engine into ``out_dir``; return the paths."""
    report = build_report(runs)
    written, plots = [], {}
    for group in report.cells:
        name = f"{group[0]}-{group[1]}.svg"
        atomic_write(out_dir / name, plot(report, group).encode("utf-8"))
        plots[group] = name
        written.append(out_dir / name)
    atomic_write(out_dir / "report.md", markdown(report, plots).encode("utf-8"))
    return [out_dir / "report.md", *written]
