"""JUnit XML: one testcase per result that applies, so any CI shows the matrix in its test tab.

``render`` writes one run (a testsuite per engine and scenario): a testcase per result, except the
``n/a`` ones (most of the product of the axes: 22 000 of a default run's 26 000), which are one
counted testcase per check, as in a merged report; the results file holds each. ``render_merged`` a
merged report across FastAPI versions (a testsuite per version and engine).

Mapping: fail -> <failure>, error -> <error>, unsupported and n/a -> <skipped>; pass, non-strict and
informational pass, with the outcome in a property. A fail or error that an expectation records is
<skipped type="expected"> with the reason (as pytest writes an xfail), so the test tab agrees with the gate. Text from the app under test is already
escaped by the checks (repr); characters XML 1.0 cannot carry are replaced here as well.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from ..outcomes import RunInfo
from ..expectations import Status, classify
from ..outcomes import BARE, Outcome, Result
from . import atomic_write

if TYPE_CHECKING:
    from .merge import Merged

__all__ = ["render", "write", "add_suite", "new_document", "to_bytes", "clean", "render_merged", "write_merged"]

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(text: str) -> str:
    """Replace what XML 1.0 cannot carry with a visible \\xNN escape."""
    return _XML_INVALID.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _known(r: Result) -> bool:
    """A fail or error the expectations record (harness.expectations.annotate set ``expected``)."""
    return r.outcome.is_problem and classify(r) is Status.KNOWN


def add_suite(suites: ET.Element, name: str, group: list[Result], properties: dict[str, str],
              classname_prefix: str = "") -> ET.Element:
    """Append one ``<testsuite>`` of ``group`` (one testcase per result) to ``suites``."""
    suite = ET.SubElement(suites, "testsuite", name=clean(name), tests=str(len(group)),
                          failures=str(sum(r.outcome is Outcome.FAIL and not _known(r) for r in group)),
                          errors=str(sum(r.outcome is Outcome.ERROR and not _known(r) for r in group)),
                          skipped=str(sum(r.outcome in (Outcome.NA, Outcome.UNSUPPORTED) or _known(r) for r in group)),
                          time=f"{sum(r.duration_s for r in group):.6f}")
    props = ET.SubElement(suite, "properties")
    for k, v in properties.items():
        ET.SubElement(props, "property", name=k, value=clean(v))
    for r in group:
        case = ET.SubElement(suite, "testcase", classname=clean(f"{classname_prefix}{r.engine}.{r.scenario}.{r.variant}"),
                             name=clean(r.check), time=f"{r.duration_s:.6f}")
        ET.SubElement(ET.SubElement(case, "properties"), "property", name="outcome", value=r.outcome.value)
        detail = clean(r.detail)
        if _known(r):
            why = f"expected {r.outcome.value}: {(r.expectation or {}).get('reason', '')}"
            ET.SubElement(case, "skipped", type="expected", message=clean(why)).text = detail
        elif r.outcome is Outcome.FAIL:
            ET.SubElement(case, "failure", message=clean(r.detail.splitlines()[0] if r.detail else "")).text = detail
        elif r.outcome is Outcome.ERROR:
            ET.SubElement(case, "error", message=clean(r.detail.splitlines()[0] if r.detail else "")).text = detail
        elif r.outcome in (Outcome.NA, Outcome.UNSUPPORTED):
            ET.SubElement(case, "skipped", message=clean(f"{r.outcome.value}: {r.detail}"))
        elif detail:
            ET.SubElement(case, "system-out").text = f"{r.outcome.value}: {detail}"
    return suite


def new_document() -> ET.Element:
    return ET.Element("testsuites", name="fastapi-stream-harness")


def to_bytes(suites: ET.Element) -> bytes:
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True)


def render(info: RunInfo, results: list[Result]) -> bytes:
    suites = new_document()
    by_suite: dict[str, list[Result]] = {}
    for r in results:  # results through a team's app (--app) are their own suites
        by_suite.setdefault(f"{r.engine}.{r.scenario}" + (f" via {r.app}" if r.app != BARE else ""), []).append(r)
    for name, group in by_suite.items():
        suite = add_suite(suites, name, [r for r in group if r.outcome is not Outcome.NA], info.versions)
        _add_counted(suite, name, [r for r in group if r.outcome is Outcome.NA])
    return to_bytes(suites)


def write(path: Path, info: RunInfo, results: list[Result]) -> None:
    atomic_write(path, render(info, results))


def render_merged(merged: "Merged") -> bytes:
    """Every version of a merged report, small whatever the number of results: one testsuite per
    (FastAPI version, engine) holding every problem (fail, error; a recorded one as an expected skip)
    in full, and one counted testcase per check for the rest (``412 pass, 30 n/a``).

    A conflicting duplicate (two records of one result with different outcomes) is one more
    testcase with an ``<error>``, so a CI test tab shows it too.
    """
    suites = new_document()
    for version in merged.versions:
        files = merged.runs[version]
        by_engine: dict[str, list[Result]] = {}
        for r in merged.results[version].values():
            by_engine.setdefault(r.engine, []).append(r)
        props = dict(files[0].versions)
        props["files"] = " ".join(str(f.path) for f in files)
        for engine in sorted(by_engine, key=lambda e: (e != "asgi", e)):
            group = by_engine[engine]
            problems = [r for r in group if r.outcome.is_problem]
            suite = add_suite(suites, f"fastapi-{version}.{engine}", problems, props,
                              classname_prefix=f"fastapi-{version}.")
            _add_counted(suite, f"fastapi-{version}.{engine}", [r for r in group if not r.outcome.is_problem])
            for c in merged.conflicts:
                if c.version == version and c.first.engine == engine:
                    r = c.first
                    case = ET.SubElement(suite, "testcase", name=clean(f"{r.check} (conflicting records)"),
                                         classname=clean(f"fastapi-{version}.{r.engine}.{r.scenario}.{r.variant}"))
                    text = (f"{c.first.outcome.value} in {c.first_from}: {c.first.detail}\n"
                            f"{c.second.outcome.value} in {c.second_from}: {c.second.detail}")
                    ET.SubElement(case, "error", message=clean(
                        f"conflicting records: {c.first.outcome.value} vs {c.second.outcome.value}")).text = clean(text)
                    suite.set("tests", str(int(suite.get("tests")) + 1))
                    suite.set("errors", str(int(suite.get("errors")) + 1))
    return to_bytes(suites)


def _add_counted(suite: ET.Element, prefix: str, rest: list[Result]) -> None:
    """One testcase per check standing for its results that are no problem, with their counts."""
    by_check: dict[str, dict[Outcome, int]] = {}
    for r in rest:
        counts = by_check.setdefault(r.check, {})
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    for check, counts in by_check.items():
        text = ", ".join(f"{n} {o.value}" for o, n in sorted(counts.items(), key=lambda kv: kv[0].severity,
                                                               reverse=True))
        case = ET.SubElement(suite, "testcase", classname=clean(f"{prefix}.counted"), name=clean(check), time="0")
        props = ET.SubElement(case, "properties")
        ET.SubElement(props, "property", name="results", value=str(sum(counts.values())))
        for o, n in counts.items():
            ET.SubElement(props, "property", name=o.value, value=str(n))
        if all(o in (Outcome.NA, Outcome.UNSUPPORTED) for o in counts):
            ET.SubElement(case, "skipped", message=clean(f"{text} (counted, not listed)"))
        else:
            ET.SubElement(case, "system-out").text = f"{text} (counted, not listed: the results files hold each)"
    suite.set("tests", str(int(suite.get("tests")) + len(by_check)))
    skipped = sum(all(o in (Outcome.NA, Outcome.UNSUPPORTED) for o in c) for c in by_check.values())
    suite.set("skipped", str(int(suite.get("skipped")) + skipped))


def write_merged(path: Path, merged: "Merged") -> None:
    atomic_write(path, render_merged(merged))
