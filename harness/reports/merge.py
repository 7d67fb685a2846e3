"""Many results files -> one cross-release matrix: FastAPI version x engine x check.

Each ``stream-harness run`` writes one ``results.json`` for one FastAPI version. CI runs one job
per version (and may shard one version over several jobs); this module reads them all back, puts
the shards of one version together (a union of their results), and answers what the reports
show: the counts and worst outcome of every (version, engine, check) cell, and where along the
releases each check's outcome changed.

Two records for the same result (engine, scenario, variant, check) of the same version are a
*duplicate*: with the same outcome one is kept (the same run read twice, or a shard overlap);
with different outcomes they are a :class:`Conflict`, kept in the report (the matrix shows the
worse of the two), never dropped silently.
"""

from __future__ import annotations

import dataclasses

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

from ..installed import parse_version
from ..errors import UsageError
from ..outcomes import Outcome, Result
from . import json as json_report
from .store import RUNS, is_store, results_in

__all__ = ["RunFile", "Conflict", "Cell", "Change", "Merged", "find_results", "read_run", "merge",
           "version_key", "ResultKey", "result_key"]

RESULTS_NAME = "results.json"

# (engine, scenario, variant, check): what identifies one result within one FastAPI version
ResultKey = tuple[str, str, str, str]

_STR_FIELDS = ("scenario", "variant", "engine", "check", "claim", "detail", "app")


def result_key(r: Result) -> ResultKey:
    return (r.engine, r.scenario, r.variant, r.check)


def version_key(text: str) -> tuple:
    """Order FastAPI versions as versions (0.99.0 < 0.134.0 < 0.134.1rc1 < 0.134.1), not as strings.

    Uses ``packaging`` when it is importable; otherwise the leading numeric release. A string
    that is no version at all (``not installed``) sorts after every version, by its text.
    """
    try:
        from packaging.version import InvalidVersion, Version
    except ImportError:  # pragma: no cover - packaging is a declared dependency
        return _fallback_version_key(text)
    try:
        return (0, Version(text))
    except InvalidVersion:
        return (1, text)


def _fallback_version_key(text: str) -> tuple:
    parsed = parse_version(text)
    return (0, parsed, text) if parsed else (1, (), text)


@dataclass(frozen=True)
class RunFile:
    """One results file: where it was, what it ran on, and its results."""

    path: Path
    fastapi: str
    versions: dict[str, str]
    engines: list[str]
    started: str
    results: list[Result]


@dataclass(frozen=True)
class Conflict:
    """Two records of one result (same version) with different outcomes: both are reported."""

    version: str
    first: Result
    first_from: Path
    second: Result
    second_from: Path


@dataclass
class Cell:
    """The results of one check on one engine for one FastAPI version, over scenarios and variants."""

    counts: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def worst(self) -> Outcome:
        """The worst outcome present (``Outcome.severity``: error > fail > non-strict > pass > ...): a cell
        of 44 pass and 12 n/a reads "pass"; ``Outcome.rank`` is for comparing one result across runs."""
        return max(self.counts, key=lambda o: o.severity)


@dataclass(frozen=True)
class Change:
    """Where one check's outcome on one engine changed between two consecutive versions."""

    engine: str
    check: str
    version: str  # the first release with the new outcome
    previous: str  # the release before it that has results for this check
    before: Outcome  # worst outcome of the cell in ``previous``
    after: Outcome  # worst outcome of the cell in ``version``
    transitions: tuple[tuple[Outcome, Outcome, int], ...]  # result-level: (old, new, how many)
    added: int = 0  # results present only in ``version``
    removed: int = 0  # results present only in ``previous``

    def describe(self) -> str:
        head = f"changed in {self.version}: {self.before.value} -> {self.after.value}"
        if self.before is self.after:
            head = f"changed in {self.version}: still {self.after.value} at worst"
        parts = [f"{old.value} -> {new.value} x{n}" for old, new, n in self.transitions]
        parts += [f"{self.added} new"] if self.added else []
        parts += [f"{self.removed} gone"] if self.removed else []
        return f"{head} (since {self.previous}; results: {', '.join(parts) or 'none changed'})"


@dataclass
class Merged:
    """Every result of every version read, keyed by version then result key."""

    versions: list[str]  # in version order
    runs: dict[str, list[RunFile]]
    results: dict[str, dict[ResultKey, Result]]
    conflicts: list[Conflict]
    duplicates: int  # same result, same outcome, seen again (merged quietly, but counted)
    _changes: list[Change] | None = field(default=None, repr=False, compare=False)

    @property
    def files(self) -> list[RunFile]:
        return [f for v in self.versions for f in self.runs[v]]

    @property
    def engines(self) -> list[str]:
        seen = dict.fromkeys(k[0] for v in self.versions for k in self.results[v])
        return sorted(seen, key=lambda e: (e != "asgi", list(seen).index(e)))

    @property
    def checks(self) -> list[str]:
        return list(dict.fromkeys(k[3] for v in self.versions for k in self.results[v]))

    @property
    def scenarios(self) -> list[str]:
        return list(dict.fromkeys(k[1] for v in self.versions for k in self.results[v]))

    def mixed_packages(self, version: str) -> dict[str, list[str]]:
        """Packages whose version differs between the files of one FastAPI version (shards run in
        different environments: worth a warning, since their results are merged as one)."""
        seen: dict[str, dict[str, None]] = {}
        for f in self.runs[version]:
            for name, v in f.versions.items():
                seen.setdefault(name, {})[v] = None
        return {name: list(vs) for name, vs in seen.items() if len(vs) > 1}

    def all_results(self) -> Iterable[tuple[str, Result]]:
        for v in self.versions:
            for r in self.results[v].values():
                yield v, r

    def cells(self) -> dict[tuple[str, str, str], Cell]:
        """(version, engine, check) -> the counts of its outcomes."""
        out: dict[tuple[str, str, str], Cell] = {}
        for v, r in self.all_results():
            out.setdefault((v, r.engine, r.check), Cell()).counts[r.outcome] += 1
        return out

    def changes(self) -> list[Change]:
        if self._changes is None:  # every report format reads them: worked out once
            self._changes = self._find_changes()
        return self._changes

    def _find_changes(self) -> list[Change]:
        """For each (engine, check), every release whose results differ from the release before it.

        Versions are walked in order, skipping versions without results for that engine and check.
        A change is recorded when the cell's worst outcome differs, or any single result's outcome
        (same scenario and variant) differs, or results appeared or vanished while the worst changed.
        """
        cells = self.cells()
        rows: dict[tuple[str, str, str], dict[ResultKey, Result]] = {}
        for v, r in self.all_results():
            rows.setdefault((v, r.engine, r.check), {})[result_key(r)] = r
        changes = []
        for engine in self.engines:
            for check in self.checks:
                present = [v for v in self.versions if (v, engine, check) in cells]
                for prev, cur in zip(present, present[1:]):
                    old, new = rows[(prev, engine, check)], rows[(cur, engine, check)]
                    moves = Counter((old[k].outcome, new[k].outcome) for k in old.keys() & new.keys()
                                    if old[k].outcome is not new[k].outcome)
                    before, after = cells[(prev, engine, check)].worst, cells[(cur, engine, check)].worst
                    if moves or before is not after:
                        transitions = tuple(sorted(((a, b, n) for (a, b), n in moves.items()),
                                                   key=lambda t: (-t[2], t[0].value, t[1].value)))
                        changes.append(Change(engine, check, cur, prev, before, after, transitions,
                                              added=len(new.keys() - old.keys()),
                                              removed=len(old.keys() - new.keys())))
        return sorted(changes, key=lambda c: (version_key(c.version), c.engine, c.check))

    def problems(self) -> list[tuple[str, Result]]:
        """Every fail and error, newest version first."""
        return [(v, r) for v in reversed(self.versions) for r in self.results[v].values()
                if r.outcome.is_problem]


def find_results(paths: Sequence[Path]) -> list[Path]:
    """The results files named, and those found (recursively) in the folders named, each once; in a
    folder, a run store (``runs/``) is skipped unless named, and gives its ``latest`` runs then."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            inside = results_in(p)  # a run store only when named: published results never mix with runs
            if not inside:
                hint = (f" (your own runs are under {p / RUNS}: name that folder to report them)"
                        if is_store(p / RUNS) else "")
                raise UsageError(f"{p}: no {RESULTS_NAME} found in this folder or below it{hint}")
            found += inside
        elif p.is_file():
            found.append(p)
        else:
            raise UsageError(f"{p}: no such file or folder (expected a {RESULTS_NAME} or a folder holding some)")
    unique: dict[Path, Path] = {}
    for f in found:  # each file once, named as the user named it (a report shows no absolute path)
        unique.setdefault(f.resolve(), f)
    return list(unique.values())


def _expect(path: Path, where: str, value: object, kind: type, what: str) -> None:
    if not isinstance(value, kind):
        raise UsageError(f"{path}: field {where!r}: expected {what}, got {type(value).__name__} {value!r:.60}")


def read_run(path: Path) -> RunFile:
    """Load one results file, checking every field the reports read (a bad one is named)."""
    run, results = json_report.load(path)
    _expect(path, "run", run, dict, "an object (the run header)")
    versions = run.get("versions")
    _expect(path, "run.versions", versions, dict, "an object of package versions")
    _expect(path, "run.versions.fastapi", versions.get("fastapi"), str, "the FastAPI version string")
    for k, v in versions.items():
        _expect(path, f"run.versions.{k}", v, str, "a version string")
    engines = run.get("engines", [])
    _expect(path, "run.engines", engines, list, "a list of engine names")
    for i, r in enumerate(results):
        for name in _STR_FIELDS:
            _expect(path, f"results[{i}].{name}", getattr(r, name), str, "a string")
    # A result through a team's app (--app) is its own row beside the bare one: "uvicorn via app:main".
    results = [r if r.app == "bare" else dataclasses.replace(r, engine=f"{r.engine} via {r.app}") for r in results]
    return RunFile(Path(path), versions["fastapi"], dict(versions), [str(e) for e in engines],
                   str(run.get("started", "")), results)


def merge(paths: Sequence[Path], progress: Callable[[int, int, Path], None] | None = None) -> Merged:
    """Read every results file under ``paths`` and merge them by FastAPI version; ``progress(i, n,
    path)`` is called before each file is read (reading dozens of full runs takes a while)."""
    found = find_results(paths)
    files = []
    for i, p in enumerate(found, 1):
        if progress:
            progress(i, len(found), p)
        files.append(read_run(p))
    runs: dict[str, list[RunFile]] = {}
    results: dict[str, dict[ResultKey, Result]] = {}
    origin: dict[tuple[str, ResultKey], Path] = {}
    conflicts: list[Conflict] = []
    duplicates = 0
    for f in files:
        runs.setdefault(f.fastapi, []).append(f)
        bucket = results.setdefault(f.fastapi, {})
        for r in f.results:
            key = result_key(r)
            kept = bucket.get(key)
            if kept is None:
                bucket[key], origin[(f.fastapi, key)] = r, f.path
            elif kept.outcome is r.outcome:
                duplicates += 1
            else:
                conflicts.append(Conflict(f.fastapi, kept, origin[(f.fastapi, key)], r, f.path))
                if r.outcome.severity > kept.outcome.severity:  # the matrix shows the worse one
                    bucket[key], origin[(f.fastapi, key)] = r, f.path
    versions = sorted(runs, key=version_key)
    return Merged(versions, runs, results, conflicts, duplicates)
