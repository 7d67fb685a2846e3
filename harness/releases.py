"""FastAPI's releases, read from the package index, grouped into release lines (one per minor).

The version gate runs one environment per line, on that line's newest patch; this module is what
lets a command refresh that list instead of a person. It speaks the index's simple API (PEP 691
JSON, or the PEP 503 HTML page when the index serves only that), with a timeout; pre-releases and
yanked releases are left out.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser

from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename
from packaging.version import Version

from .errors import UsageError

__all__ = ["DEFAULT_INDEX", "Line", "index_url", "fetch_versions", "release_lines"]

DEFAULT_INDEX = "https://pypi.org/simple"
_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"


def index_url(explicit: str | None = None) -> str:
    """The index to ask: the one given, else pip's ``PIP_INDEX_URL``, else PyPI."""
    return (explicit or os.environ.get("PIP_INDEX_URL") or DEFAULT_INDEX).rstrip("/")


@dataclass(frozen=True)
class Line:
    """A release line: ``0.140`` and its newest patch ``0.140.13``."""

    minor: tuple[int, int]
    newest: Version
    releases: tuple[Version, ...]

    @property
    def name(self) -> str:
        return f"{self.minor[0]}.{self.minor[1]}"


class _Anchors(HTMLParser):
    """The file links of a PEP 503 page: (file name, yanked?)."""

    def __init__(self) -> None:
        super().__init__()
        self.files: list[tuple[str, bool]] = []
        self._open: bool | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._open, self._text = "data-yanked" in dict(attrs), ""

    def handle_data(self, data):
        if self._open is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "a" and self._open is not None:
            self.files.append((self._text.strip(), self._open))
            self._open = None


def _file_version(filename: str) -> Version | None:
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        return parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename, ValueError):
        return None  # an .egg, .exe or odd name: not something pip installs for us


def _files(body: bytes, content_type: str) -> list[tuple[str, bool]]:
    if "json" in content_type:
        data = json.loads(body)
        return [(f["filename"], bool(f.get("yanked"))) for f in data.get("files", [])]
    parser = _Anchors()
    parser.feed(body.decode("utf-8", "replace"))
    return parser.files


def fetch_versions(project: str = "fastapi", index: str | None = None, timeout_s: float = 20.0) -> list[Version]:
    """Every final release of ``project`` that has at least one file not yanked, oldest first.

    An index that cannot be reached is a :class:`UsageError` (exit 2) naming the URL and the cause.
    """
    url = f"{index_url(index)}/{project}/"
    request = urllib.request.Request(url, headers={"Accept": _ACCEPT, "User-Agent": "fastapi-stream-harness"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            body, content_type = response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        raise UsageError(f"the package index answered {exc.code} {exc.reason} for {url}") from None
    except (urllib.error.URLError, OSError) as exc:
        cause = getattr(exc, "reason", exc)
        raise UsageError(f"cannot reach the package index at {url} ({cause}); the release list needs the "
                         f"network (or --index-url / PIP_INDEX_URL naming a reachable index)") from None
    try:
        files = _files(body, content_type)
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{url}: not a simple-API project page: {exc}") from None
    live: set[Version] = set()
    for filename, yanked in files:
        version = _file_version(filename)
        if version is not None and not yanked and not version.is_prerelease and not version.is_devrelease:
            live.add(version)
    if not live:
        raise UsageError(f"{url}: no release of {project} found on the index")
    return sorted(live)


def release_lines(versions: list[Version], since: Version) -> list[Line]:
    """One line per minor from ``since``'s on, each with its newest patch, oldest line first."""
    groups: dict[tuple[int, int], list[Version]] = {}
    for v in versions:
        if v >= Version(f"{since.major}.{since.minor}"):
            groups.setdefault((v.major, v.minor), []).append(v)
    return [Line(minor, max(vs), tuple(sorted(vs))) for minor, vs in sorted(groups.items())]
