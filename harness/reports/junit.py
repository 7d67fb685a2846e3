"""JUnit XML: one testcase per result, so any CI shows the matrix in its test tab.

Mapping: fail -> <failure>, error -> <error>, unsupported and n/a -> <skipped>; pass, non-strict and
informational pass, with the outcome in a property. Text from the app under test is already
escaped by the checks (repr); characters XML 1.0 cannot carry are replaced here as well.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from ..environment import RunInfo
from ..outcomes import BARE, Outcome, Result
from . import atomic_write

__all__ = ["render", "write"]

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    return _XML_INVALID.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def render(info: RunInfo, results: list[Result]) -> bytes:
    suites = ET.Element("testsuites", name="fastapi-stream-harness")
    by_suite: dict[str, list[Result]] = {}
    for r in results:  # results through a team's app (--app) are their own suites
        by_suite.setdefault(f"{r.engine}.{r.scenario}" + (f" via {r.app}" if r.app != BARE else ""), []).append(r)
    for name, group in by_suite.items():
        suite = ET.SubElement(suites, "testsuite", name=_clean(name), tests=str(len(group)),
                              failures=str(sum(r.outcome is Outcome.FAIL for r in group)),
                              errors=str(sum(r.outcome is Outcome.ERROR for r in group)),
                              skipped=str(sum(r.outcome in (Outcome.NA, Outcome.UNSUPPORTED) for r in group)),
                              time=f"{sum(r.duration_s for r in group):.6f}")
        props = ET.SubElement(suite, "properties")
        for k, v in info.versions.items():
            ET.SubElement(props, "property", name=k, value=_clean(v))
        for r in group:
            case = ET.SubElement(suite, "testcase", classname=_clean(f"{r.engine}.{r.scenario}.{r.variant}"),
                                 name=_clean(r.check), time=f"{r.duration_s:.6f}")
            ET.SubElement(ET.SubElement(case, "properties"), "property", name="outcome", value=r.outcome.value)
            detail = _clean(r.detail)
            if r.outcome is Outcome.FAIL:
                ET.SubElement(case, "failure", message=_clean(r.detail.splitlines()[0] if r.detail else "")).text = detail
            elif r.outcome is Outcome.ERROR:
                ET.SubElement(case, "error", message=_clean(r.detail.splitlines()[0] if r.detail else "")).text = detail
            elif r.outcome in (Outcome.NA, Outcome.UNSUPPORTED):
                ET.SubElement(case, "skipped", message=_clean(f"{r.outcome.value}: {r.detail}"))
            elif detail:
                ET.SubElement(case, "system-out").text = f"{r.outcome.value}: {detail}"
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True)


def write(path: Path, info: RunInfo, results: list[Result]) -> None:
    atomic_write(path, render(info, results))
