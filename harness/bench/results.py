"""Reading pytest-benchmark JSON into ratios to the raw baseline of the same run.

A run is one JSON file written by ``pytest benchmarks --benchmark-json`` (``tox -e bench``). Each
benchmark carries ``extra_info`` (workload, engine, key, bytes, chunks) and the file carries the
versions it ran with (``stream_harness.installed``, from ``benchmarks/conftest.py``). A figure is the
fastest round of an app divided by the fastest round of ``raw`` for the same workload and engine in
the same run (its own benchmark, and raw timed right before and after every app,
``extra_info.raw_min_s``): a ratio, so it compares across machines and survives a machine that is
slower today.

Why the fastest round, not the median: on a shared machine the noise is other processes taking the
CPU, which only ever adds time; the fastest round is the one least disturbed. Repeated runs agree
better on it (the report's "Stability" section gives both, measured).
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path

from ..installed import parse_version
from ..errors import UsageError
from .apps import RAW

__all__ = ["describe", "best_ratio", "Measure", "Run", "Row", "load_run", "load_runs", "rows", "WORKLOAD_TITLES",
           "ratio_cv"]

WORKLOAD_TITLES = {
    "chunk-overhead": "Per-chunk overhead (1000 x 16-byte chunks)",
    "throughput": "Throughput (16 MiB file, 64 KiB chunks)",
    "ttfb": "Time to first byte (slow producer: 20 chunks, 1 ms each)",
    "harness": "The harness itself (a fixed selection: the whole run against its requests alone)",
    "red-run": "A red run (the same selection on a mutant framework) against the green run: at most 1.5x",
}
ENGINE_TITLES = {"asgi": "in-process", "uvicorn": "over uvicorn"}


@dataclass(frozen=True)
class Measure:
    """One benchmark of one run: an app (``key``) under a workload on an engine."""

    workload: str
    engine: str
    key: str
    min_s: float
    median_s: float
    q1_s: float
    q3_s: float
    mean_s: float
    stddev_s: float
    rounds: int
    bytes: int
    chunks: int
    extra: dict

    @property
    def cv(self) -> float:
        """Coefficient of variation of this benchmark's rounds (stddev / mean)."""
        return self.stddev_s / self.mean_s if self.mean_s else 0.0


@dataclass(frozen=True)
class Run:
    path: str
    versions: dict
    datetime: str
    measures: tuple[Measure, ...]

    @property
    def fastapi(self) -> str:
        return self.versions.get("fastapi", "unknown")

    def baseline(self, workload: str, engine: str) -> Measure | None:
        return next((m for m in self.measures if (m.workload, m.engine, m.key) == (workload, engine, RAW)), None)


@dataclass(frozen=True)
class Row:
    """An app's cost relative to the raw baseline of its run."""

    measure: Measure
    raw: Measure
    raw_floor_s: float  # raw's fastest round anywhere in the run, for this workload and engine

    @property
    def time_s(self) -> float:
        """The app's fastest round (raw's: its floor, so raw is 1.00x by definition)."""
        return self.raw_floor_s if self.measure.key == RAW else self.measure.min_s

    @property
    def ratio(self) -> float:
        """Fastest round / raw's fastest round: the figure reported and checked."""
        return self.time_s / self.raw_floor_s

    @property
    def median_ratio(self) -> float:
        """Median round / raw's median round: shown beside it, for the spread."""
        return self.measure.median_s / self.raw.median_s

    @property
    def band(self) -> tuple[float, float]:
        """From the fastest-round ratio to the median-round ratio (one run's spread)."""
        return min(self.ratio, self.median_ratio), max(self.ratio, self.median_ratio)

    @property
    def mb_per_s(self) -> float:
        return self.measure.bytes / self.time_s / 1e6

    @property
    def added_us_per_chunk(self) -> float:
        """Time added over the raw baseline, per chunk (the per-chunk overhead)."""
        return (self.time_s - self.raw_floor_s) / max(1, self.measure.chunks) * 1e6


def describe(benchmark, workload: str, engine: str, key: str, total_bytes: int, chunks: int, **more) -> None:
    """Record on a pytest-benchmark fixture what it measures: the writer's side of what is read here."""
    benchmark.group = f"{workload} [{engine}]"
    benchmark.extra_info.update({"workload": workload, "engine": engine, "key": key, "bytes": total_bytes,
                                 "chunks": chunks, **more})


def _field(path: Path, where: str, obj: dict, name: str, kind: type | tuple[type, ...]):
    if not isinstance(obj, dict) or name not in obj or not isinstance(obj[name], kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        seen = "missing" if not isinstance(obj, dict) or name not in obj else repr(obj[name])[:60]
        raise UsageError(f"{path}: field {where}{name!r}: expected {names}, got {seen} "
                         "(is this a JSON written by `tox -e bench` / pytest --benchmark-json?)")
    return obj[name]


_NUM = (int, float)
# Measure's attribute -> (where pytest-benchmark's JSON has it, its name there, its type)
_MEASURE_FIELDS = {
    "workload": ("extra_info", "workload", str), "engine": ("extra_info", "engine", str),
    "key": ("extra_info", "key", str), "min_s": ("stats", "min", _NUM), "median_s": ("stats", "median", _NUM),
    "q1_s": ("stats", "q1", _NUM), "q3_s": ("stats", "q3", _NUM), "mean_s": ("stats", "mean", _NUM),
    "stddev_s": ("stats", "stddev", _NUM), "rounds": ("stats", "rounds", int),
    "bytes": ("extra_info", "bytes", int), "chunks": ("extra_info", "chunks", int),
}


def load_run(path: Path) -> Run:
    """Read one pytest-benchmark JSON; a malformed file names the file and the field."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(f"{path}: not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object (pytest-benchmark's output), got {type(data).__name__}")
    meta = _field(path, "", data, "stream_harness", dict)
    versions = _field(path, "stream_harness.", meta, "versions", dict)
    measures = []
    for i, bench in enumerate(_field(path, "", data, "benchmarks", list)):
        where = f"benchmarks[{i}]."
        extra = _field(path, where, bench, "extra_info", dict)
        if "workload" not in extra:
            continue  # a benchmark that is not one of ours
        stats = _field(path, where, bench, "stats", dict)
        sections = {"extra_info": extra, "stats": stats}
        values = {attr: _field(path, f"{where}{section}.", sections[section], name, kind)
                  for attr, (section, name, kind) in _MEASURE_FIELDS.items()}
        measures.append(Measure(**values, extra=extra))
    return Run(str(path), versions, str(data.get("datetime", "")), tuple(measures))


def load_runs(paths: list[Path]) -> list[Run]:
    """Runs from files and folders (every ``*.json`` in a folder), oldest FastAPI first."""
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files += sorted(p.glob("*.json"))
        elif p.exists():
            files.append(p)
        else:
            raise UsageError(f"{p}: no such file or folder")
    if not files:
        raise UsageError(f"no benchmark JSON in {', '.join(map(str, paths))}: run `tox -e bench` first")
    runs = [load_run(f) for f in files]
    return sorted(runs, key=lambda r: (parse_version(r.fastapi), r.datetime))


def _raw_floor(run: Run, raw: Measure) -> float:
    """Raw's fastest round in the run: its own benchmark, and raw timed before and after each app
    (``extra_info.raw_min_s``). Noise only adds time, so the fastest is the undisturbed limit."""
    adjacent = [m.extra.get("raw_min_s") for m in run.measures if (m.workload, m.engine) == (raw.workload, raw.engine)]
    return min([raw.min_s] + [a for a in adjacent if isinstance(a, (int, float)) and a > 0])


def rows(run: Run) -> dict[tuple[str, str], list[Row]]:
    """(workload, engine) -> every app's row against that run's raw baseline (no raw: skipped)."""
    out: dict[tuple[str, str], list[Row]] = {}
    floors: dict[tuple[str, str], float] = {}
    for m in run.measures:
        raw = run.baseline(m.workload, m.engine)
        if raw is not None:
            if (m.workload, m.engine) not in floors:
                floors[(m.workload, m.engine)] = _raw_floor(run, raw)
            out.setdefault((m.workload, m.engine), []).append(Row(m, raw, floors[(m.workload, m.engine)]))
    return out


def best_ratio(same_app: list[Row]) -> float:
    """One app over several runs on one machine: its fastest round over all of them divided by raw's.

    Not the lowest per-run ratio: that would pick the run whose raw was disturbed the most."""
    return min(r.time_s for r in same_app) / min(r.raw_floor_s for r in same_app)


def ratio_cv(values: list[float]) -> float | None:
    """Coefficient of variation of repeated ratios (None for fewer than two)."""
    if len(values) < 2:
        return None
    mean = statistics.fmean(values)
    return statistics.stdev(values) / mean if mean else None
