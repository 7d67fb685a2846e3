"""Expectations: known, explained deviations, so the gate fails only on what is newly broken.

In the spirit of web-platform-tests metadata, a TOML file (``expectations.toml`` at the repository
root by default) lists entries; each matches results by FastAPI version range, engine, scenario,
variant and check, and records the outcome seen there with a reason and a link::

    [[expect]]
    fastapi = ">=0.134"                  # a version specifier (PEP 440); omitted: every version
    engine = "granian"                   # glob over engine names (default "*")
    scenario = "*"                       # glob over scenario names (default "*")
    variant = "*"                        # glob over variant ids, e.g. "def-*" or "page:*" (default "*")
    check = "closure-on-shutdown"        # a check name, or a glob matching at least one check
    outcome = "fail"                     # pass | fail | non-strict | error
    intermittent = ["non-strict"]        # optional: other outcomes also seen there
    reason = "granian kills the worker"  # required: why
    link = "https://..."                 # optional: where it is discussed

When several entries match a result, the last one in the file wins (general entries first,
narrower exceptions after). A result is then classified (:func:`classify`):

``ok``          nothing to say: a pass, or a point the check does not judge (n/a, unsupported,
                informational), with no expectation that says otherwise
``known``       the outcome is the one recorded (an expected ``fail`` that comes out ``fail``)
``unexpected``  a ``fail`` or ``error`` that no expectation records: the gate fails
``stale``       better than recorded (expected ``fail``, got ``pass``): the entry is out of date;
                listed, and fails the gate only with ``--strict``
``unrecorded``  ``non-strict`` (or worse than a recorded ``pass``) without an entry saying so:
                fine by default, as ``non-strict`` has always been; fails with ``--strict``

The classification reads only the result's own ``expected`` and ``expectation`` fields, so a
report can redo it from ``results.json`` alone.
"""

from __future__ import annotations

import enum
import fnmatch
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from .errors import UsageError
from .outcomes import Outcome, Result

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["DEFAULT_FILE", "Expectation", "ExpectationError", "Status", "load", "find_file", "annotate",
           "classify", "known_reason", "Gate", "gate"]

DEFAULT_FILE = "expectations.toml"

#: the outcomes an expectation may record (n/a, unsupported, informational are never judged)
RECORDABLE = (Outcome.PASS, Outcome.FAIL, Outcome.NON_STRICT, Outcome.ERROR)
_KEYS = {"fastapi", "engine", "scenario", "variant", "check", "outcome", "intermittent", "reason", "link"}
_REQUIRED = ("check", "outcome", "reason")


class ExpectationError(UsageError):
    """A malformed expectations file: names the file, the line, the entry and the key (exit 2)."""


@dataclass(frozen=True)
class Expectation:
    check: str
    outcome: Outcome
    reason: str
    fastapi: SpecifierSet = SpecifierSet()
    engine: str = "*"
    scenario: str = "*"
    variant: str = "*"
    intermittent: tuple[Outcome, ...] = ()
    link: str = ""
    source: str = ""  # file:line of the entry

    def matches(self, result: Result, fastapi_version: Version | None) -> bool:
        if str(self.fastapi):
            if fastapi_version is None or not self.fastapi.contains(fastapi_version, prereleases=True):
                return False
        return (fnmatch.fnmatchcase(result.engine, self.engine) and fnmatch.fnmatchcase(result.scenario, self.scenario)
                and fnmatch.fnmatchcase(result.variant, self.variant) and fnmatch.fnmatchcase(result.check, self.check))

    def record(self) -> dict[str, object]:
        """What a result carries about the entry that matched it (see ``Result.expectation``)."""
        return {"reason": self.reason, "link": self.link, "intermittent": [o.value for o in self.intermittent],
                "source": self.source}


# ----------------------------------------------------------------------------------------------- loading

def find_file(explicit: Path | None, root: Path, *, disabled: bool = False) -> Path | None:
    """The file to use: the one named (it must exist), else ``root/expectations.toml`` if present."""
    if disabled:
        return None
    if explicit is not None:
        if not Path(explicit).is_file():
            raise UsageError(f"{explicit}: no such expectations file")
        return Path(explicit)
    default = Path(root) / DEFAULT_FILE
    return default if default.is_file() else None


def load(path: Path, checks: Iterable[str] | None = None, engines: Iterable[str] | None = None) -> list[Expectation]:
    """Read and validate every entry; the first mistake is an :class:`ExpectationError` with file:line.

    ``checks`` and ``engines`` are the known names (default: the registries): a check or engine
    pattern must match at least one of them, so a typo cannot silently match nothing.
    """
    if checks is None:
        from .checks import registry
        checks = registry()
    if engines is None:
        from .engines import engine_names
        engines = engine_names()
    checks, engines = sorted(checks), sorted(engines)
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExpectationError(f"{path}: cannot read the expectations file: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"at line (\d+)", str(exc))
        where = f"{path}:{m.group(1)}" if m else str(path)
        raise ExpectationError(f"{where}: not valid TOML: {exc}") from None
    lines = _EntryLines(text)
    unknown = sorted(set(data) - {"expect"})
    if unknown:
        raise ExpectationError(f"{path}:{lines.top_level(unknown[0])}: unknown top-level key {unknown[0]!r}; "
                               f"expected only [[expect]] entries")
    entries = data.get("expect", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ExpectationError(f"{path}:{lines.top_level('expect')}: 'expect' must be an array of tables "
                               f"([[expect]] entries)")
    return [_entry(path, i, raw, lines, checks, engines) for i, raw in enumerate(entries)]


def _entry(path: Path, i: int, raw: dict, lines: "_EntryLines", checks: list[str], engines: list[str]) -> Expectation:
    def error(key: str | None, message: str) -> ExpectationError:
        where = f"{path}:{lines.line(i, key)}"
        what = f"expectation {i + 1}" + (f", key {key!r}" if key else "")
        return ExpectationError(f"{where}: {what}: {message}")

    for key in raw:
        if key not in _KEYS:
            raise error(key, f"unknown key; keys are: {', '.join(sorted(_KEYS))}")
    for key in _REQUIRED:
        if key not in raw:
            raise error(None, f"missing key {key!r} (every entry needs {', '.join(_REQUIRED)})")
    for key in _KEYS - {"intermittent"}:
        if key in raw and not isinstance(raw[key], str):
            raise error(key, f"expected a string, got {type(raw[key]).__name__} {raw[key]!r}")
    if not raw["reason"].strip():
        raise error("reason", "expected a non-empty reason (why is this outcome known?)")

    def outcome(key: str, text: object) -> Outcome:
        names = ", ".join(o.value for o in RECORDABLE)
        try:
            value = Outcome(text)
        except ValueError:
            raise error(key, f"expected one of {names}, got {text!r}") from None
        if value not in RECORDABLE:
            raise error(key, f"expected one of {names}, got {text!r} (that outcome is never judged)")
        return value

    expected = outcome("outcome", raw["outcome"])
    extra = raw.get("intermittent", [])
    if not isinstance(extra, list):
        raise error("intermittent", f"expected a list of outcomes, got {extra!r}")
    intermittent = tuple(outcome("intermittent", o) for o in extra)
    try:
        spec = SpecifierSet(raw.get("fastapi", ""))
    except InvalidSpecifier:
        raise error("fastapi", f"expected a version specifier such as '>=0.134,<0.140', got {raw['fastapi']!r}") \
            from None
    for key, known, kind in (("check", checks, "checks"), ("engine", engines, "engines")):
        pattern = raw.get(key, "*")
        if not fnmatch.filter(known, pattern):
            raise error(key, f"{pattern!r} matches no known name; {kind} are: {', '.join(known)}")
    return Expectation(check=raw["check"], outcome=expected, reason=raw["reason"].strip(), fastapi=spec,
                       engine=raw.get("engine", "*"), scenario=raw.get("scenario", "*"),
                       variant=raw.get("variant", "*"), intermittent=intermittent, link=raw.get("link", ""),
                       source=f"{path}:{lines.line(i, None)}")


class _EntryLines:
    """Line numbers for error messages (tomllib keeps none): the n-th ``[[expect]]`` header is entry n."""

    _HEADER = re.compile(r"^\s*\[\[\s*expect\s*\]\]")
    _TABLE = re.compile(r"^\s*\[")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers = [n for n, line in enumerate(self.lines, 1) if self._HEADER.match(line)]

    def line(self, entry: int, key: str | None) -> int:
        if entry >= len(self.headers):  # inline tables: point at the array's key
            return self.top_level("expect")
        start = self.headers[entry]
        end = next((n for n in range(start + 1, len(self.lines) + 1) if self._TABLE.match(self.lines[n - 1])),
                   len(self.lines) + 1)
        if key is not None:
            pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
            for n in range(start + 1, end):
                if pattern.match(self.lines[n - 1]):
                    return n
        return start

    def top_level(self, key: str) -> int:
        pattern = re.compile(rf"^\s*(\[+\s*)?[\"']?{re.escape(key)}[\"']?\s*(=|\])")
        return next((n for n, line in enumerate(self.lines, 1) if pattern.match(line)), 1)


# ------------------------------------------------------------------------------------ matching, verdicts

def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def annotate(results: Iterable[Result], expectations: list[Expectation], fastapi_version: str) -> list[Result]:
    """Each result with the last matching entry's outcome and record; without one, a result keeps what
    the runner gave it: the scenario's own declaration (``scenario(..., expect=[...])``), or nothing."""
    version = _version(fastapi_version)
    live = [e for e in reversed(expectations)
            if not str(e.fastapi) or (version is not None and e.fastapi.contains(version, prereleases=True))]
    # a run has tens of thousands of results and a handful of (engine, check) pairs: narrow once per pair
    narrowed: dict[tuple[str, str], list[Expectation]] = {}
    out = []
    for r in results:
        pair = (r.engine, r.check)
        if pair not in narrowed:
            narrowed[pair] = [e for e in live if fnmatch.fnmatchcase(r.engine, e.engine)
                              and fnmatch.fnmatchcase(r.check, e.check)]
        match = next((e for e in narrowed[pair] if e.matches(r, version)), None)
        out.append(r if match is None else replace(r, expected=match.outcome.value, expectation=match.record()))
    return out


class Status(str, enum.Enum):
    OK = "ok"
    KNOWN = "known"
    UNEXPECTED = "unexpected"
    STALE = "stale"
    UNRECORDED = "unrecorded"


_UNJUDGED = (Outcome.NA, Outcome.UNSUPPORTED, Outcome.INFORMATIONAL)


def expected_outcomes(result: Result) -> set[Outcome]:
    if result.expected is None:
        return set()
    extra = (result.expectation or {}).get("intermittent") or []
    return {Outcome(result.expected), *(Outcome(o) for o in extra)}  # type: ignore[union-attr]


def classify(result: Result) -> Status:
    """Where a result stands against its expectation (see the module docstring)."""
    outcome = result.outcome
    if outcome in _UNJUDGED:
        return Status.OK
    expected = expected_outcomes(result)
    if outcome in expected:
        return Status.OK if outcome is Outcome.PASS else Status.KNOWN
    if outcome.is_problem:
        return Status.UNEXPECTED
    if expected and outcome.severity < min(o.severity for o in expected):
        return Status.STALE
    return Status.UNRECORDED if outcome is Outcome.NON_STRICT or expected else Status.OK


def known_reason(result: Result) -> str | None:
    """Why this result's problem is known (an expectation records exactly this outcome, or lists it as
    intermittent), else ``None``: what a report shows beside a deviation that does not fail the gate.
    Read from :func:`classify`, the one judge, so no report can disagree with the gate."""
    if classify(result) is not Status.KNOWN:
        return None
    return str((result.expectation or {}).get("reason") or "recorded in an expectation")


@dataclass
class Gate:
    """The verdict of a whole run: which results fail the build, and what is only listed."""

    strict: bool
    by_status: dict[Status, list[Result]]

    @property
    def passed(self) -> bool:
        if self.by_status[Status.UNEXPECTED]:
            return False
        return not (self.strict and (self.by_status[Status.STALE] or self.by_status[Status.UNRECORDED]))

    def count(self, status: Status) -> int:
        return len(self.by_status[status])


def gate(results: Iterable[Result], strict: bool = False) -> Gate:
    by_status: dict[Status, list[Result]] = {s: [] for s in Status}
    for r in results:
        by_status[classify(r)].append(r)
    return Gate(strict, by_status)
