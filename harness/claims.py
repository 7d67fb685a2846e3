"""The claims table (``docs/claims.md``, shipped in the package as ``harness.docs``): what each id
(C1, C2 ...) stands for, which anchor of the page it is under, and which checks verify it.

``stream-harness list`` explains the ids with it; ``tests/test_claims.py`` holds it to the registry
(every check's anchor is in it, every check it names exists). Rows are Markdown table rows
``| id | anchor | promise | verified by |``; names in backticks in the last column are checks or
scenarios.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Claim", "claims_file", "load_claims", "plain"]

FILE = "claims.md"
# the sibling pages whose sections' anchors checks cite as "page#anchor" (harness.checks.CLAIM_PAGES)
SIBLING_PAGES = ("stream-json-lines", "server-sent-events")
_ROW = re.compile(r"^\|\s*([A-Z]\d+)\s*\|(.*)\|\s*$")  # C1 (Stream Data), D1, J1, S1 ...
_TICKED = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class Claim:
    id: str
    anchor: str  # "#a-streamingresponse-with-yield", or a few words where the page has no anchor
    promise: str  # plain text
    verified_by: tuple[str, ...]  # names in backticks: checks (or scenarios)
    section: str  # the page it comes from (the heading above the table)


def claims_file() -> Path:
    """``docs/claims.md``: in the installed package (``harness.docs``), else beside ``harness/``."""
    spec = importlib.util.find_spec("harness.docs")
    if spec and spec.submodule_search_locations:
        found = Path(list(spec.submodule_search_locations)[0]) / FILE
        if found.is_file():
            return found
    return Path(__file__).resolve().parent.parent / "docs" / FILE


def plain(text: str) -> str:
    """Markdown / reStructuredText inline code as plain text: ```x``` and ````x```` -> ``x``."""
    return re.sub(r"`+([^`]+)`+", r"\1", text).replace("\\|", "|").strip()


def load_claims(path: Path | None = None) -> list[Claim]:
    path = path or claims_file()
    out, section, page = [], "", ""
    for line in path.read_text("utf-8").splitlines():
        if line.startswith("## "):
            section = plain(line[3:])
            page = next((slug for slug in SIBLING_PAGES if f"/{slug}/" in line), "")
        m = _ROW.match(line)
        if not m:
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", m.group(2))]
        if len(cells) < 3:
            continue
        anchor, promise, verified = cells[0], cells[1], " | ".join(cells[2:])
        ticked = _TICKED.findall(anchor)  # "`#anchor` (page)": the anchor is the code span
        anchor = ticked[0] if ticked else plain(anchor)
        if page and anchor.startswith("#"):  # a sibling page's rows: checks cite them as "page#anchor"
            anchor = page + anchor
        out.append(Claim(m.group(1), anchor, plain(promise),
                         tuple(n for n in _TICKED.findall(verified) if re.fullmatch(r"[a-z0-9][a-z0-9-]*", n)),
                         section))
    return out
